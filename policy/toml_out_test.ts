import assert from "node:assert/strict";
import { policyToToml } from "./toml_out.ts";
import { validatePolicy } from "./validate.ts";
import { builtinPolicyNames } from "./source.ts";
import { handledNet } from "./net_sockets.ts";
import { podPolicy } from "../k8s/pod.ts";

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

Deno.test("from-pod over each starter policy writes the base back unchanged, plus the bind rules", async () => {
  const { readBase } = await import("../cli/policy.ts");
  const pod = {
    containers: [{ name: "app", ports: [{ containerPort: 8080 }] }],
  };
  const w = { kind: "Pod", name: "web", pod: { metadata: {}, spec: pod } };
  for (const name of builtinPolicyNames()) {
    const base = readBase(name);
    const { document } = podPolicy(w as never, pod.containers[0], base);
    const text = policyToToml(document);
    const r = validatePolicy({ name: "out.toml", text });
    assert.ok(r.policy, `${name}: ${JSON.stringify(r.diagnostics)}`);
    const { description: _a, net: netOut, ...out } = r.policy;
    const { description: _b, net: netBase, ...expected } = base;
    assert.deepEqual(out, expected, name);
    assert.deepEqual(
      (netOut?.rule ?? []).filter((x) =>
        !x.allowed_access.includes("bind_tcp")
      ),
      netBase?.rule ?? [],
      name,
    );
    const handled = handledNet(netOut);
    assert.ok(
      handledNet(netBase).every((h) => handled.includes(h)),
      `${name}: ${handled} handles less than the base's ${handledNet(netBase)}`,
    );
    for (const k of ["udp", "raw", "allow_hosts"] as const) {
      assert.deepEqual(netOut?.[k], netBase?.[k], `${name}: net.${k}`);
    }
  }
});
