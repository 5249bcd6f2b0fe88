/**
 * Red team: TCP Fast Open past Landlock's `connect_tcp`. `sendto` or
 * `sendmsg` with MSG_FASTOPEN on an unconnected TCP socket connects through
 * tcp_sendmsg_fastopen, which never calls the LSM connect hook: before the
 * fix it reached a port Landlock refuses to `connect(2)` (the server
 * answered), with or without `allow_hosts`. The seccomp filter now refuses
 * MSG_FASTOPEN sends whenever Landlock handles TCP (EOPNOTSUPP, as a kernel
 * with client Fast Open off says, so programs fall back to connect).
 *
 * Also: an observed run (`run --explain`) used to build its seccomp filter
 * without the socket and memfd rules (`udp`, `raw`, `memfd_exec`).
 */
import assert from "node:assert/strict";
import { testAtAbi } from "../fresh_needs.ts";
import {
  landlockd,
  policyFile,
  python3,
  RUN_ROOT,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { hostsFile, hostsPolicy, localServer } from "../egress_helpers.ts";

const FASTOPEN = `${RUN_ROOT}tests/attacks/tcp_fastopen.py`;
const OBSERVED = `${RUN_ROOT}tests/attacks/observed_rules.py`;

function results(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((l) => {
      const [k, ...v] = l.split(" ");
      return [k, v.join(" ")];
    }),
  );
}

const POLICIES: [string, (port: number) => string][] = [
  ["connect_tcp with no port rule", () =>
    policyFile(`version = 1
[net]
handled_access_net = ["connect_tcp"]
`)],
  ["allow_hosts", (port) => hostsPolicy([`allowed.test:${port + 1}`])],
];

for (const as of USERS) {
  for (const [what, policy] of POLICIES) {
    testAtAbi(
      4,
      "connect_tcp",
      `[${as}] ${what}: MSG_FASTOPEN sends are EOPNOTSUPP, never a connection`,
      async () => {
        const server = localServer("denied");
        try {
          const r = await sandboxed(
            policy(server.port),
            [python3(), FASTOPEN, String(server.port)],
            { as, env: { LANDLOCKD_TEST_HOSTS: hostsFile() } },
          );
          assert.equal(r.code, 0, r.stderr);
          assert.deepEqual(results(r.stdout), {
            connect: "EACCES",
            sendto: "EOPNOTSUPP",
            sendmsg: "EOPNOTSUPP",
            sendto6: "EOPNOTSUPP",
          });
          assert.deepEqual(server.seen, []);
        } finally {
          await server.close();
        }
      },
    );
  }

  // A [net] of udp and raw only handles no TCP right: any Landlock ABI.
  Deno.test(`[${as}] run --explain keeps udp, raw and memfd_exec`, async () => {
    const policy = policyFile(`version = 1
[net]
udp = "deny"
raw = false
[seccomp]
memfd_exec = false
`);
    const want = { udp: "EPERM", raw: "EPERM", memfd: "EPERM" };
    for (const explain of [[], ["--explain"]]) {
      const r = await landlockd([
        "run",
        ...explain,
        "--policy-file",
        policy,
        "--",
        python3(),
        OBSERVED,
      ], { as });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(results(r.stdout), want, `with ${explain}`);
    }
  });
}
