import assert from "node:assert/strict";
import {
  capabilityMask,
  droppedCapabilities,
  droppedCapabilitiesFor,
  type DroppedCapability,
  socketRules,
} from "./net_sockets.ts";
import { lintPolicy } from "./lint.ts";
import { validatePolicy } from "./validate.ts";
import type { Policy } from "./schema.ts";

Deno.test("without udp and raw, UDP and raw sockets stay allowed (today's behaviour)", () => {
  assert.deepEqual(socketRules(undefined), { udp: "allow", raw: true });
  assert.deepEqual(
    socketRules({ handled_access_net: ["connect_tcp"] }),
    { udp: "allow", raw: true },
  );
  assert.deepEqual(
    socketRules({ handled_access_net: ["bind_tcp"], udp: "dns", raw: false }),
    { udp: "dns", raw: false },
  );
});

const lint = (net: string) =>
  lintPolicy(
    { name: "p.toml", text: `version = 1\n[net]\n${net}\n` },
    () => "directory",
  )
    .map((d) => `${d.severity} ${d.path.join(".")}: ${d.message}`);

Deno.test("lint notes that UDP is unrestricted when [net] limits TCP connects and says nothing about udp", () => {
  const out = lint('handled_access_net = ["connect_tcp"]');
  assert.equal(out.length, 1);
  assert.match(out[0], /^warning net: UDP is unrestricted/);
  assert.deepEqual(lint('handled_access_net = ["bind_tcp"]'), []);
  for (const udp of ["allow", "deny", "dns"]) {
    assert.deepEqual(
      lint(`handled_access_net = ["connect_tcp"]\nudp = "${udp}"`),
      [],
    );
  }
});

Deno.test("raw defaults to false where udp is restricted; an explicit raw = true there is a lint warning (a raw socket sends UDP)", () => {
  assert.deepEqual(socketRules({ udp: "deny" }), { udp: "deny", raw: false });
  assert.deepEqual(socketRules({ udp: "dns" }), { udp: "dns", raw: false });
  assert.deepEqual(socketRules({ udp: "allow" }), { udp: "allow", raw: true });
  assert.deepEqual(socketRules({ udp: "deny", raw: true }), {
    udp: "deny",
    raw: true,
  });
  assert.deepEqual(lint('udp = "deny"'), []);
  const out = lint('udp = "dns"\nraw = true');
  assert.equal(out.length, 1);
  assert.match(
    out[0],
    /^warning net\.raw: raw = true lets a process with CAP_NET_RAW \(root\) send UDP through a raw socket, past udp = "dns"/,
  );
  assert.deepEqual(
    lint('udp = "allow"\nraw = true\nhandled_access_net = ["bind_tcp"]'),
    [],
  );
});

Deno.test("udp and raw take only their documented values, each with one precise error", () => {
  const errors = (net: string) =>
    validatePolicy({
      name: "p.toml",
      text: `version = 1\n[net]\nhandled_access_net = ["bind_tcp"]\n${net}\n`,
    }).diagnostics.map((d) => `${d.path.join(".")}: ${d.message}`);
  assert.deepEqual(errors('udp = "dns"\nraw = false'), []);
  const [udp] = errors('udp = "quic"');
  assert.equal(
    udp,
    'net.udp: unknown udp mode "quic"; expected one of: allow, deny, dns',
  );
  const [raw] = errors('raw = "no"');
  assert.equal(raw, 'net.raw: expected true or false, got the string "no"');
  const [memfd] = validatePolicy({
    name: "p.toml",
    text: 'version = 1\n[seccomp]\ndeny = ["ptrace"]\nmemfd_exec = "no"\n',
  }).diagnostics.map((d) => `${d.path.join(".")}: ${d.message}`);
  assert.equal(
    memfd,
    'seccomp.memfd_exec: expected true or false, got the string "no"',
  );
});

Deno.test("handledNet: connect_tcp by default, none for a [net] of udp/raw only, the list when one is written", async () => {
  const { handledNet } = await import("./net_sockets.ts");
  assert.deepEqual(handledNet(undefined), []);
  assert.deepEqual(handledNet({}), ["connect_tcp"]);
  assert.deepEqual(handledNet({ udp: "deny" }), []);
  assert.deepEqual(handledNet({ raw: false }), []);
  assert.deepEqual(handledNet({ udp: "dns", raw: false }), []);
  assert.deepEqual(handledNet({ udp: "deny", rule: [] }), ["connect_tcp"]);
  assert.deepEqual(handledNet({ udp: "deny", allow_hosts: [] }), [
    "connect_tcp",
  ]);
  assert.deepEqual(handledNet({ handled_access_net: ["bind_tcp"] }), [
    "bind_tcp",
  ]);
});

Deno.test('lint: a [net] of udp = "deny" only is valid and quiet; one that restricts nothing is named', () => {
  assert.deepEqual(lint('udp = "deny"'), []);
  assert.deepEqual(lint("raw = false"), []);
  assert.deepEqual(lint('udp = "dns"'), []);
  // Not a note about UDP when [net] no longer restricts TCP connects.
  assert.deepEqual(
    lintPolicy(
      {
        name: "p.toml",
        text:
          'version = 1\n[seccomp]\ndeny = ["ptrace"]\n[net]\nudp = "allow"\n',
      },
      () => "directory",
    ).map((d) => `${d.severity} ${d.path.join(".")}: ${d.message}`),
    [
      'warning net: [net] restricts nothing here: udp = "allow" and raw = true are the defaults, and TCP is restricted only by handled_access_net, [[net.rule]] or allow_hosts',
    ],
  );
  const [alone] = validatePolicy({
    name: "p.toml",
    text: 'version = 1\n[net]\nudp = "allow"\nraw = true\n',
  }).diagnostics.map((d) => d.message);
  assert.match(
    alone,
    /^this policy restricts nothing: .*; \[net\] restricts nothing here/,
  );
});

Deno.test("droppedCapabilities: the four for any restricting [net], CAP_NET_RAW too with raw = false, none without [net] or for one that restricts nothing", () => {
  const four: DroppedCapability[] = [
    "CAP_NET_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_ADMIN",
    "CAP_BPF",
  ];
  const five: DroppedCapability[] = [
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_SYS_MODULE",
    "CAP_SYS_ADMIN",
    "CAP_BPF",
  ];
  assert.deepEqual(droppedCapabilities(undefined), []);
  assert.deepEqual(droppedCapabilities({ udp: "allow", raw: true }), []);
  assert.deepEqual(droppedCapabilities({ udp: "allow" }), []);
  assert.deepEqual(droppedCapabilities({}), four); // empty [net]: no TCP
  // raw defaults to false where udp is restricted: CAP_NET_RAW goes too.
  assert.deepEqual(droppedCapabilities({ udp: "deny" }), five);
  assert.deepEqual(droppedCapabilities({ udp: "dns" }), five);
  assert.deepEqual(droppedCapabilities({ udp: "deny", raw: true }), four);
  assert.deepEqual(
    droppedCapabilities({ handled_access_net: ["bind_tcp"] }),
    four,
  );
  assert.deepEqual(droppedCapabilities({ raw: false }), five);
  assert.deepEqual(droppedCapabilities({ allow_hosts: ["a.example"] }), five);
  assert.deepEqual(
    droppedCapabilities({ allow_hosts: ["a.example"], raw: true }),
    four,
  );
  // Bits 12, 13, 16, 21 and 39 (linux/capability.h).
  assert.equal(
    capabilityMask(four),
    (1n << 12n) | (1n << 16n) | (1n << 21n) | (1n << 39n),
  );
  assert.equal(capabilityMask(five), 0x80_0021_3000n);
  assert.equal(capabilityMask([]), 0n);
});

Deno.test("droppedCapabilitiesFor adds CAP_SYS_PTRACE only where the command has no Landlock layer", () => {
  const net = { udp: "deny" } as Policy["net"];
  assert.deepEqual(droppedCapabilitiesFor(net, 1), droppedCapabilities(net));
  assert.deepEqual(droppedCapabilitiesFor(net, 0), [
    ...droppedCapabilities(net),
    "CAP_SYS_PTRACE",
  ]);
  // Nothing restricted: nothing dropped, layer or not.
  assert.deepEqual(droppedCapabilitiesFor(undefined, 0), []);
  assert.equal(
    capabilityMask(["CAP_SYS_PTRACE"]),
    1n << 19n,
  );
});
