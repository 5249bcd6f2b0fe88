import assert from "node:assert/strict";
import { loadPolicy } from "../policy/load.ts";
import { compileSeccomp, compileSeccompFor, planSeccomp } from "./seccomp.ts";

Deno.test("an observed run's filter, without quiet execs, is the unobserved run's filter byte for byte (sockets, memfd and all)", async () => {
  const policy = await loadPolicy({
    name: "p.toml",
    text: `version = 1
[net]
handled_access_net = ["connect_tcp"]
udp = "dns"
raw = false
[seccomp]
memfd_exec = false
deny = ["ptrace"]
`,
  });
  const plan = planSeccomp(policy, ["openat", "execve", "sendto", "sendmsg"]);
  const plain = await compileSeccomp(plan);
  const observed = (await compileSeccompFor(plan))([]);
  assert.deepEqual(observed, plain);
  // With a quiet exec the observed filter only adds instructions.
  assert.ok((await compileSeccompFor(plan))([0x1000n]).length > plain.length);
});

Deno.test("refuse_other_sockets wherever [net] restricts anything, and no socket rule without [net]", async () => {
  const plan = async (text: string) =>
    planSeccomp(await loadPolicy({ name: "p.toml", text }), []);
  for (
    const net of [
      'udp = "deny"',
      "raw = false",
      'allow_hosts = ["a.example"]',
      'handled_access_net = ["bind_tcp"]',
      "",
    ]
  ) {
    const p = await plan(`version = 1\n[net]\n${net}\n`);
    assert.equal(p.refuse_other_sockets, true, net);
  }
  const none = await plan('version = 1\n[seccomp]\ndeny = ["acct"]\n');
  assert.equal(none.refuse_other_sockets, false);
  // No socket rule at all: the filter is the one without the field.
  const same = await compileSeccomp(none);
  const before = await compileSeccomp({
    ...none,
    sockets: { ...none.sockets },
  });
  assert.deepEqual(same, before);
  assert.ok(
    (await compileSeccomp({ ...none, refuse_other_sockets: true })).length >
      same.length,
  );
});
