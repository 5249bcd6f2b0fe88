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
