import assert from "node:assert/strict";
import { policyToToml } from "./toml_out.ts";
import { validatePolicy } from "./validate.ts";

const roundTrip = (net: Record<string, unknown>) => {
  const text = policyToToml({ version: 1, net } as never);
  const r = validatePolicy({ name: "out.toml", text });
  assert.ok(r.policy, `${text}\n${JSON.stringify(r.diagnostics)}`);
  return { text, net: r.policy.net };
};

Deno.test("policyToToml writes udp and raw, and handled_access_net as the run takes it", () => {
  const udpOnly = roundTrip({ udp: "deny", raw: false });
  assert.equal(
    udpOnly.text,
    'version = 1\n\n[net]\nudp = "deny"\nraw = false\n',
  );
  assert.deepEqual(udpOnly.net, { udp: "deny", raw: false });
  const rules = roundTrip({
    udp: "dns",
    rule: [{ port: 443, allowed_access: ["connect_tcp"] }],
  });
  assert.match(
    rules.text,
    /handled_access_net = \["connect_tcp"\]\nudp = "dns"\n/,
  );
  assert.deepEqual(rules.net!.handled_access_net, ["connect_tcp"]);
});
