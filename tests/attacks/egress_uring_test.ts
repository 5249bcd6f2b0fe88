/**
 * Attack on `[net] allow_hosts` with the io_uring baseline lifted
 * (egress_uring.c). allow_hosts confines TCP to the proxy through the
 * broker, which sees only connect(2); io_uring connects without it
 * (IORING_OP_CONNECT) and makes MPTCP sockets without socket(2)
 * (IORING_OP_SOCKET), which Landlock's TCP rules do not cover. Before the
 * fix, a policy with allow_hosts, `udp = "allow"`, `raw = true` and
 * `[seccomp] allow = ["io_uring"]` ran, and the command connected to a
 * port on 127.0.0.1 that no rule allows ("uring mptcp connect: OK", the
 * listener below accepted it). landlockd already refused io_uring with
 * `udp = "deny"`/`"dns"` or `raw = false`; now it refuses it with
 * allow_hosts too (exit 125), before the command starts.
 */

import assert from "node:assert/strict";
import { landlockd, policyFile, probeResults, USERS } from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";
import { compileAttack } from "./baseline_helpers.ts";

const ATTACK = await compileAttack("egress_uring");

/** A TCP listener on 127.0.0.1 that counts the connections it accepts. */
function counted() {
  const l = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  let accepted = 0;
  (async () => {
    for await (const c of l) {
      accepted++;
      c.close();
    }
  })().catch(() => {});
  return {
    port: (l.addr as Deno.NetAddr).port,
    accepted: () => accepted,
    close: () => l.close(),
  };
}

/** allow_hosts with UDP and raw sockets opened, and `tail` after. */
function policy(tail: string): string {
  return policyFile(`version = 1
[net]
allow_hosts = ["allowed.test"]
udp = "allow"
raw = true
${tail}`);
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] allow_hosts with [seccomp] allow = ["io_uring"] is refused (exit 125, naming both keys; lint: an error); nothing connects`,
    async () => {
      const l = counted();
      const refused = policy('[seccomp]\nallow = ["io_uring"]\n');
      // lint says what the run will say, as an error.
      const lint = await landlockd(["lint", "--policy-file", refused], { as });
      assert.equal(lint.code, 1, lint.stdout + lint.stderr);
      assert.match(
        lint.stdout + lint.stderr,
        /seccomp\.allow: \[net\] allow_hosts cannot be enforced with io_uring allowed/,
      );
      try {
        const r = await landlockd([
          "run",
          "--policy-file",
          refused,
          "--",
          ATTACK,
          String(l.port),
        ], { as });
        assert.equal(r.code, 125, r.stderr);
        assert.match(
          r.stderr,
          /seccomp\.allow: \[net\] allow_hosts cannot be enforced with io_uring allowed/,
        );
        assert.equal(r.stdout, "");
        assert.equal(l.accepted(), 0);
      } finally {
        l.close();
      }
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] allow_hosts without io_uring: a direct connect is EACCES, io_uring is ENOSYS; nothing connects`,
    async () => {
      const l = counted();
      try {
        const r = await landlockd([
          "run",
          "--policy-file",
          policy(""),
          "--",
          ATTACK,
          String(l.port),
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          "tcp connect": "EACCES",
          io_uring_setup: "ENOSYS",
        });
        assert.equal(l.accepted(), 0);
      } finally {
        l.close();
      }
    },
  );
}
