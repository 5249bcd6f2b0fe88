/**
 * Attack: io_uring creates sockets without the socket(2) system call, so
 * seccomp never sees them (baseline_uring.c). An MPTCP socket made that way
 * escapes the baseline that refuses MPTCP, and with it Landlock's TCP rules
 * (they do not cover MPTCP); a TCP socket escapes a policy's own
 * `[seccomp] deny = ["socket"]`. The baseline refuses io_uring_setup,
 * io_uring_enter and io_uring_register with ENOSYS unless the policy says
 * `[seccomp] allow = ["io_uring"]`; the opt-in runs show the attack still
 * works there, so these tests would notice the baseline going away.
 */

import assert from "node:assert/strict";
import {
  freePort,
  landlockd,
  policyFile,
  probeResults,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { compileAttack, hostListener } from "./baseline_helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";

const ATTACK = await compileAttack("baseline_uring");

/** [net] allowing only a bind on `declared`, no connect at all. */
function netPolicy(declared: number, extra = ""): string {
  return policyFile(`version = 1
[net]
handled_access_net = ["bind_tcp", "connect_tcp"]
  [[net.rule]]
  port = ${declared}
  allowed_access = ["bind_tcp"]
${extra}`);
}

for (const as of USERS) {
  testAtAbi(
    4,
    "bind_tcp, connect_tcp",
    `[${as}] an MPTCP socket made with IORING_OP_SOCKET cannot bind or connect where TCP may not: io_uring_setup fails with ENOSYS`,
    async () => {
      const host = hostListener();
      try {
        const undeclared = freePort();
        const r = await sandboxed(netPolicy(freePort()), [
          ATTACK,
          "mptcp",
          String(undeclared),
          String(host.port),
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          "socket mptcp": "EPROTONOSUPPORT",
          [`tcp bind ${undeclared}`]: "EACCES",
          [`tcp connect ${host.port}`]: "EACCES",
          "io_uring_setup": "ENOSYS",
        });
      } finally {
        host.close();
      }
    },
  );

  testAtAbi(
    4,
    "bind_tcp, connect_tcp",
    `[${as}] with [seccomp] allow = ["io_uring"] the same attack gets through (what the opt-in gives up)`,
    async () => {
      const host = hostListener();
      try {
        const undeclared = freePort();
        const policy = netPolicy(
          freePort(),
          `[seccomp]\nallow = ["io_uring"]\n`,
        );
        const r = await sandboxed(policy, [
          ATTACK,
          "mptcp",
          String(undeclared),
          String(host.port),
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          "socket mptcp": "EPROTONOSUPPORT",
          [`tcp bind ${undeclared}`]: "EACCES",
          [`tcp connect ${host.port}`]: "EACCES",
          "io_uring_setup": "OK",
          "uring socket mptcp": "OK",
          [`uring mptcp bind ${undeclared}`]: "OK",
          "uring mptcp listen": "OK",
          [`uring mptcp connect ${host.port}`]: "OK",
        });
      } finally {
        host.close();
      }
    },
  );

  Deno.test(`[${as}] [seccomp] deny = ["socket"] cannot be bypassed with IORING_OP_SOCKET`, async () => {
    const host = hostListener();
    try {
      const deny = policyFile(`version = 1\n[seccomp]\ndeny = ["socket"]\n`);
      const refused = await sandboxed(deny, [
        ATTACK,
        "tcp",
        String(host.port),
      ], { as });
      assert.equal(refused.code, 0, refused.stderr);
      assert.deepEqual(probeResults(refused.stdout), {
        "socket tcp": "EPERM",
        "io_uring_setup": "ENOSYS",
      });
      const optIn = policyFile(
        `version = 1\n[seccomp]\ndeny = ["socket"]\nallow = ["io_uring"]\n`,
      );
      const through = await sandboxed(optIn, [
        ATTACK,
        "tcp",
        String(host.port),
      ], { as });
      assert.deepEqual(probeResults(through.stdout), {
        "socket tcp": "EPERM",
        "io_uring_setup": "OK",
        "uring socket tcp": "OK",
        [`uring tcp connect ${host.port}`]: "OK",
      }, through.stderr);
    } finally {
      host.close();
    }
  });

  Deno.test(
    `[${as}] io_uring_enter and io_uring_register fail with ENOSYS too, unless allowed`,
    async () => {
      const closed = policyFile(
        `version = 1\n[[fs_layer]]\nhandled_access_fs = ["make_block"]\n`,
      );
      const r = await sandboxed(closed, [ATTACK, "calls"], { as });
      assert.deepEqual(probeResults(r.stdout), {
        "io_uring_enter": "ENOSYS",
        "io_uring_register": "ENOSYS",
      }, r.stderr);
      const open = policyFile(
        `version = 1\n[[fs_layer]]\nhandled_access_fs = ["make_block"]\n[seccomp]\nallow = ["io_uring"]\n`,
      );
      const kernel = await sandboxed(open, [ATTACK, "calls"], { as });
      assert.deepEqual(probeResults(kernel.stdout), {
        "io_uring_enter": "EBADF",
        "io_uring_register": "EINVAL",
      }, kernel.stderr);
    },
  );

  Deno.test(
    `[${as}] the daemon's sandboxes get the same baseline: io_uring fails with ENOSYS unless allowed`,
    async () => {
      const d = await startDaemon({ as });
      try {
        const via = (toml: string) =>
          landlockd([
            "run",
            "--socket",
            d.socket,
            "--policy-file",
            policyFile(toml),
            "--",
            ATTACK,
            "calls",
          ], { as });
        const refused = await via(
          `version = 1\n[[fs_layer]]\nhandled_access_fs = ["make_block"]\n`,
        );
        assert.deepEqual(probeResults(refused.stdout), {
          "io_uring_enter": "ENOSYS",
          "io_uring_register": "ENOSYS",
        }, refused.stderr);
        const allowed = await via(
          `version = 1\n[[fs_layer]]\nhandled_access_fs = ["make_block"]\n[seccomp]\nallow = ["io_uring"]\n`,
        );
        assert.deepEqual(probeResults(allowed.stdout), {
          "io_uring_enter": "EBADF",
          "io_uring_register": "EINVAL",
        }, allowed.stderr);
      } finally {
        await landlockd(["stop", "--socket", d.socket], { as });
        await d.exited();
      }
    },
  );

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] Node runs normally under ci-default: files, a child process and a TCP connection, with libuv's io_uring on or off`,
    async () => {
      const host = hostListener();
      try {
        const script = `
const fs = require("fs"), net = require("net"), cp = require("child_process");
const f = "/tmp/landlockd-node-" + process.pid;
fs.writeFileSync(f, "data");
fs.promises.readFile(f, "utf8").then((d) => {
  fs.unlinkSync(f);
  const echoed = cp.execFileSync("sh", ["-c", "echo child"]).toString().trim();
  const s = net.connect(${host.port}, "127.0.0.1", () => {
    console.log(d + " " + echoed + " connected");
    s.destroy();
  });
});`;
        for (const uring of ["0", "1"]) {
          const r = await landlockd(
            ["run", "--policy", "ci-default", "--", "node", "-e", script],
            { as, env: { UV_USE_IO_URING: uring } },
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, "data child connected\n", r.stderr);
        }
      } finally {
        host.close();
      }
    },
  );
}

Deno.test("lint warns what [seccomp] allow gives up, naming io_uring and userfaultfd", async () => {
  const policy = policyFile(
    `version = 1\n[seccomp]\ndeny = ["ptrace"]\nallow = ["io_uring", "userfaultfd"]\n`,
  );
  const r = await landlockd(["lint", "--policy-file", policy]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stdout + r.stderr,
    /:4: warning: seccomp\.allow\[0\]: io_uring operations bypass seccomp/,
  );
  assert.match(
    r.stdout + r.stderr,
    /:4: warning: seccomp\.allow\[1\]: userfaultfd lets the sandbox stall/,
  );
});

Deno.test("an unknown name in [seccomp] allow is an error listing the known ones", async () => {
  const policy = policyFile(
    `version = 1\n[seccomp]\ndeny = ["ptrace"]\nallow = ["bpf"]\n`,
  );
  const r = await landlockd(["lint", "--policy-file", policy]);
  assert.equal(r.code, 1);
  assert.match(
    r.stdout + r.stderr,
    /:4: seccomp\.allow\[0\]: unknown value "bpf"; expected one of: io_uring, userfaultfd/,
  );
});
