/**
 * Attack: a sandboxed command of landlockd's uid reads landlockd's (its
 * parent's) and the daemon's /proc/PID/environ and maps
 * (baseline_proc_peek.py). Landlock's ptrace restriction already refuses
 * that to an unprivileged command under any policy with a Landlock
 * domain, but not to one without (a seccomp-only policy), and never to
 * root. landlockd and the daemon make themselves non-dumpable at start:
 * that closes the unprivileged case (the daemon's sandboxes always have a
 * Landlock domain, so there it is a second wall). Root keeps CAP_SYS_PTRACE, which
 * overrides non-dumpable, so a root sandbox still reads them (the tests
 * assert that too, so a change shows up).
 */

import assert from "node:assert/strict";
import {
  landlockd,
  policyFile,
  probeResults,
  python3,
  tempDir,
  USERS,
} from "../helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";

const PEEK = (() => {
  const path = `${tempDir("peek-")}/baseline_proc_peek.py`;
  Deno.copyFileSync(new URL("./baseline_proc_peek.py", import.meta.url), path);
  Deno.chmodSync(path, 0o644);
  return path;
})();

/** No Landlock domain, so only uid, capabilities and dumpable decide. */
const SECCOMP_ONLY = `version = 1\n[seccomp]\ndeny = ["ptrace"]\n`;

const SECRET = { LANDLOCKD_SECRET: "in-landlockd-env" };

for (const as of USERS) {
  const root = as === "root" || (as === "self" && Deno.uid() === 0);
  const refused = { "environ parent": "EACCES", "maps parent": "EACCES" };
  const read = {
    "environ parent": "OK",
    "secret parent": "OK",
    "maps parent": "OK",
  };

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] a sandboxed command cannot read landlockd's /proc/PPID/environ or maps${
      root ? " (root still can: CAP_SYS_PTRACE)" : ""
    }`,
    async () => {
      for (const policy of [SECCOMP_ONLY, "ci-default"]) {
        const r = await landlockd([
          "run",
          ...(policy === "ci-default"
            ? ["--policy", policy]
            : ["--policy-file", policyFile(policy)]),
          "--",
          python3(),
          PEEK,
          "parent",
        ], { as, env: SECRET });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(
          probeResults(r.stdout),
          root ? read : refused,
          r.stdout,
        );
      }
    },
  );

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] the command itself stays dumpable: its own /proc/self files are its own`,
    async () => {
      const r = await landlockd([
        "run",
        "--policy",
        "ci-default",
        "--",
        python3(),
        "-c",
        "import ctypes, os; print('dumpable', ctypes.CDLL(None).prctl(3, 0, 0, 0, 0)); print('owner', os.stat('/proc/self/environ').st_uid == os.getuid())",
      ], { as });
      assert.equal(r.stdout, "dumpable 1\nowner True\n", r.stderr);
    },
  );

  Deno.test(
    `[${as}] a command run by the daemon cannot read the daemon's /proc/PID/environ or maps${
      root ? " (root still can)" : ""
    }`,
    async () => {
      const d = await startDaemon({ as, env: SECRET });
      try {
        const policy = policyFile(SECCOMP_ONLY);
        const r = await landlockd([
          "run",
          "--socket",
          d.socket,
          "--policy-file",
          policy,
          "--",
          python3(),
          PEEK,
          "daemon",
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        // The daemon's sandboxes always have a Landlock domain (its signal
        // scope), which already refuses the unprivileged reads; that the
        // daemon is non-dumpable shows in who owns its /proc files.
        assert.equal(Deno.statSync(`/proc/${d.pid}/environ`).uid, 0);
        // Other daemons may run on this machine: only ours counts.
        const ours = Object.fromEntries(
          Object.entries(probeResults(r.stdout))
            .filter(([k]) => k.endsWith(` daemon ${d.pid}`))
            .map(([k, v]) => [k.split(" ")[0], v]),
        );
        assert.deepEqual(
          ours,
          root
            ? { environ: "OK", secret: "OK", maps: "OK" }
            : { environ: "EACCES", maps: "EACCES" },
          r.stdout,
        );
      } finally {
        await landlockd(["stop", "--socket", d.socket], { as });
        await d.exited();
      }
    },
  );
}
