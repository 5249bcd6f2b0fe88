/**
 * Siblings of the broker's symlink bug (issue 10): other ways a path the
 * sandbox controls could steer what the broker opens. Root and nobody.
 */
import assert from "node:assert/strict";
import { USERS } from "../helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";
import {
  assertSecretsIntact,
  attackPolicy,
  attackResults,
  attackTree,
  runBounded,
  SECRET,
} from "./broker_attack.ts";
import { testAtAbi } from "../fresh_needs.ts";

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] openat2 RESOLVE_IN_ROOT on a declared file opens the declared file, not one beneath landlockd's cwd`,
    async () => {
      const d = attackTree();
      const w = `${d}/rw/w/a/artifact.log`;
      // landlockd's cwd holds, at the declared path's place, a file the
      // sandbox may not read (Landlock grants nothing on cwd/).
      const cwd = `${d}/cwd`;
      Deno.mkdirSync(`${cwd}${d}/rw/w/a`, { recursive: true });
      Deno.writeTextFileSync(`${cwd}${w}`, SECRET);
      const out = await runBounded(
        [
          ...["run", "--policy-file", attackPolicy(d)],
          ...[
            "--",
            `${d}/bin/broker_swap`,
            "read-in-root",
            w,
            "read",
            `${cwd}${w}`,
          ],
        ],
        { as, cwd },
      );
      assert.equal(out.code, 0, out.stderr);
      const res = attackResults(out.stdout);
      assert.equal(res[`read ${cwd}${w}`], "EACCES", out.stdout);
      assert.equal(res[`read-in-root ${w}`], "OK", out.stdout);
      assert.equal(res[`data ${w}`], "ALLOWED-W", out.stdout);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] an allow_read fd reopened for writing through /proc/self/fd is refused by Landlock (EACCES)`,
    async () => {
      const d = attackTree();
      // The declared read-only file lives outside every Landlock rule.
      Deno.writeTextFileSync(`${d}/outside/ro`, SECRET);
      const proc = `  [[fs_layer.rule]]
  path = "/proc"
  allowed_access = ["read_file", "read_dir"]
`;
      const policy = attackPolicy(d, "", [`${d}/outside/ro`], proc);
      const out = await runBounded(
        [
          "run",
          "--policy-file",
          policy,
          "--",
          `${d}/bin/broker_swap`,
          "reopen",
          `${d}/outside/ro`,
        ],
        { as },
      );
      assert.equal(out.code, 0, out.stderr);
      const res = attackResults(out.stdout);
      assert.equal(res[`reopen ${d}/outside/ro`], "OK", out.stdout);
      assert.equal(res[`reopen-rw ${d}/outside/ro`], "EACCES", out.stdout);
      assert.equal(Deno.readTextFileSync(`${d}/outside/ro`), SECRET);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] relative paths and .. after a symlink are matched lexically: the broker opens the declared file or nothing`,
    async () => {
      const d = attackTree();
      const out = await runBounded(
        [
          ...["run", "--policy-file", attackPolicy(d)],
          ...["--", `${d}/bin/broker_swap`, "read", "a/artifact.log"],
          // The kernel would take rw/x/.. to outside/w; the broker matches
          // rw/w/a/artifact.log and opens that, the declared file.
          ...["symlink", `${d}/outside/w/a`, `${d}/rw/x`],
          ...["read", `${d}/rw/x/../w/a/artifact.log`],
          ...["read", `${d}/rw/x/artifact.log`],
        ],
        { as, cwd: `${d}/rw/w` },
      );
      assert.equal(out.code, 0, out.stderr);
      const res = attackResults(out.stdout);
      assert.equal(res["data a/artifact.log"], "ALLOWED-W", out.stdout);
      assert.equal(res[`data ${d}/rw/x/../w/a/artifact.log`], "ALLOWED-W");
      // Not declared: Landlock decides, and denies the secret.
      assert.equal(res[`read ${d}/rw/x/artifact.log`], "EACCES", out.stdout);
      assert.ok(!out.stdout.includes("SECRET"), out.stdout);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] a FIFO swapped in for a declared file does not block the broker`,
    async () => {
      const d = attackTree();
      const [r, w] = [`${d}/rw/w/a/resolv`, `${d}/rw/w/a/artifact.log`];
      const out = await runBounded(
        [
          ...["run", "--policy-file", attackPolicy(d)],
          ...["--", `${d}/bin/broker_swap`, "mkfifo", r, "mkfifo", w],
          ...["read", r, "write", w, "x", "flags", r],
        ],
        { as },
        20_000,
      );
      assert.ok(!out.killed, `landlockd hung: ${out.stdout}`);
      assert.equal(out.code, 0, out.stderr);
      const res = attackResults(out.stdout);
      // A reader opens at once; a writer without a reader gets ENXIO, as
      // with O_NONBLOCK.
      assert.equal(res[`read ${r}`], "OK", out.stdout);
      assert.equal(res[`write ${w}`], "ENXIO", out.stdout);
      // The fd the sandbox gets blocks, as it asked.
      assert.equal(res[`data ${r}`], "nonblock=0", out.stdout);
      assertSecretsIntact(d);
    },
  );
}

testAtAbi(
  3,
  "truncate",
  "through the daemon, a FIFO swapped in for a declared file does not stall the broker thread",
  async () => {
    const daemon = await startDaemon();
    try {
      const d = attackTree();
      const r = `${d}/rw/w/a/resolv`;
      const out = await runBounded(
        [
          ...[
            "run",
            "--socket",
            daemon.socket,
            "--policy-file",
            attackPolicy(d),
          ],
          ...["--", `${d}/bin/broker_swap`, "mkfifo", r, "read", r],
        ],
        { as: "root" },
        20_000,
      );
      assert.ok(!out.killed, `the run hung: ${out.stdout}`);
      assert.equal(attackResults(out.stdout)[`read ${r}`], "OK", out.stdout);
      // Another run's brokered open on the same broker threads still works.
      const d2 = attackTree();
      const r2 = `${d2}/rw/w/a/resolv`;
      const next = await runBounded(
        [
          ...[
            "run",
            "--socket",
            daemon.socket,
            "--policy-file",
            attackPolicy(d2),
          ],
          ...["--", `${d2}/bin/broker_swap`, "read", r2],
        ],
        { as: "root" },
        20_000,
      );
      assert.ok(!next.killed, "a later run hung");
      assert.equal(attackResults(next.stdout)[`data ${r2}`], "ALLOWED-R");
    } finally {
      daemon.proc.kill("SIGKILL");
      await daemon.exited();
    }
  },
);
