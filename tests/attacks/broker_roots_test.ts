/**
 * Attack: the sandbox moves the directory holding a scratch or export root
 * away and puts a symlink to a secret directory in its place before the
 * broker's first operation (issue 10: "Scratch and export roots are opened
 * after the child starts"). landlockd opens the roots before the command
 * starts, so the broker keeps working in the directories the policy
 * declared, wherever they were moved.
 */
import assert from "node:assert/strict";
import { chownTree, USERS } from "../helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";
import {
  assertSecretsIntact,
  attackPolicy,
  attackResults,
  attackTree,
  runBounded,
  SECRET,
} from "./broker_attack.ts";
import { testAtAbi } from "../fresh_needs.ts";

/** The attack tree plus rw/w/a/note, rw/e/a (export) and outside/w/a/note. */
function tree(): string {
  const d = attackTree();
  Deno.mkdirSync(`${d}/rw/e/a`, { recursive: true });
  Deno.writeTextFileSync(`${d}/rw/w/a/note`, "ALLOWED-S\n");
  Deno.writeTextFileSync(`${d}/outside/w/a/note`, SECRET);
  chownTree(d);
  return d;
}

const ROOTS = (d: string) =>
  `scratch = ["${d}/rw/w/a"]\nexport = ["${d}/rw/e/a"]`;

/**
 * First thing: the roots' parents become symlinks to outside/w, so the
 * roots' paths lead to outside/w/a. Then a read in scratch, and a file made
 * in scratch and published into export over outside/w/a/artifact.log.
 *
 * The swap goes through io_uring: rename(2) and symlink(2) are brokered
 * calls, so they would wait until the broker is up, but seccomp does not
 * see io_uring. (When a baseline denies io_uring, the swap fails and the
 * broker must still work in the declared directories.)
 */
function attack(d: string) {
  return [
    `${d}/bin/broker_swap`,
    ...["uring-swap", `${d}/rw/w`, `${d}/outside/w`],
    ...["uring-swap", `${d}/rw/e`, `${d}/outside/w`],
    ...["read", `${d}/rw/w/a/note`, "create", `${d}/rw/w/a/new`, "PWNED\n"],
    ...["rename", `${d}/rw/w/a/new`, `${d}/rw/e/a/artifact.log`],
  ];
}

function check(
  d: string,
  out: { code: number; stdout: string; stderr: string },
) {
  assert.equal(out.code, 0, out.stderr);
  const res = attackResults(out.stdout);
  const swapped = res[`uring-swap ${d}/rw/e`] === "OK";
  assert.equal(res[`uring-swap ${d}/rw/w`], res[`uring-swap ${d}/rw/e`]);
  // The declared scratch root, at rw/w.orig/a once swapped.
  assert.equal(res[`data ${d}/rw/w/a/note`], "ALLOWED-S", out.stdout);
  assert.equal(res[`create ${d}/rw/w/a/new`], "OK", out.stdout);
  assert.equal(res[`rename ${d}/rw/w/a/new`], "OK", out.stdout);
  // Published into the declared export root, at rw/e.orig/a once swapped.
  assert.equal(
    Deno.readTextFileSync(`${d}/rw/e${swapped ? ".orig" : ""}/a/artifact.log`),
    "PWNED\n",
  );
  assertSecretsIntact(d);
  assert.equal(Deno.readTextFileSync(`${d}/outside/w/a/note`), SECRET);
  assert.deepEqual(
    [...Deno.readDirSync(`${d}/outside/w/a`)].map((e) => e.name).sort(),
    ["artifact.log", "note", "resolv"],
  );
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] roots moved away and replaced by symlinks as the command starts: the broker still works in the declared directories`,
    async () => {
      const d = tree();
      const out = await runBounded(
        ["run", "--policy-file", attackPolicy(d, ROOTS(d)), "--", ...attack(d)],
        { as },
      );
      check(d, out);
    },
  );
}

testAtAbi(
  3,
  "truncate",
  "through the daemon, roots moved away as the command starts are still the declared ones",
  async () => {
    const daemon = await startDaemon({ args: SERVE_FOR_USERS });
    try {
      for (const as of USERS) {
        const d = tree();
        const out = await runBounded(
          [
            ...["run", "--socket", daemon.socket],
            ...["--policy-file", attackPolicy(d, ROOTS(d)), "--", ...attack(d)],
          ],
          { as },
        );
        check(d, out);
      }
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
    }
  },
);

testAtAbi(
  3,
  "truncate",
  "a root daemon opens a client's roots as the client: one under a 0700 root directory is refused, naming it",
  async () => {
    if (Deno.uid() !== 0) return; // needs a second uid
    const daemon = await startDaemon({ args: ["--allow-uid", "65534"] });
    try {
      const d = tree();
      const hidden = `${d}/private`;
      Deno.mkdirSync(`${hidden}/s`, { recursive: true });
      Deno.chmodSync(hidden, 0o700);
      const policy = attackPolicy(d, `scratch = ["${hidden}/s"]`);
      const argv = [`${d}/bin/broker_swap`, "read", `${d}/rw/w/a/resolv`];
      const run = (as: "root" | "nobody") =>
        runBounded(
          [
            "run",
            "--socket",
            daemon.socket,
            "--policy-file",
            policy,
            "--",
            ...argv,
          ],
          { as },
        );
      const nobody = await run("nobody");
      assert.equal(nobody.code, 125, nobody.stderr);
      // Refused at start, by the daemon's check of every client path
      // (daemon/server/client_paths.ts), or else by the broker's own open of the root.
      assert.match(
        nobody.stderr,
        new RegExp(
          `(Cannot open scratch root|broker\\.scratch\\[0\\]: uid 65534 cannot reach) "${hidden}/s": Permission denied \\(EACCES\\)`,
        ),
      );
      const root = await run("root");
      assert.equal(root.code, 0, root.stderr);
      assert.equal(
        attackResults(root.stdout)[`data ${d}/rw/w/a/resolv`],
        "ALLOWED-R",
      );
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
    }
  },
);

testAtAbi(
  3,
  "truncate",
  "a root that became a symlink since the plan was made fails the run with ELOOP, naming it",
  async () => {
    const d = tree();
    const s = `${d}/rw/w/a`;
    const policy = attackPolicy(d, `scratch = ["${s}"]`);
    // The daemon keeps plans: the first run plans, then the tree changes.
    const daemon = await startDaemon();
    try {
      const argv = [`${d}/bin/broker_swap`, "read", `${s}/note`];
      const via = () =>
        runBounded(
          [
            "run",
            "--socket",
            daemon.socket,
            "--policy-file",
            policy,
            "--",
            ...argv,
          ],
          { as: "root" },
        );
      const first = await via();
      assert.equal(attackResults(first.stdout)[`data ${s}/note`], "ALLOWED-S");
      Deno.renameSync(`${d}/rw/w`, `${d}/rw/w.orig`);
      Deno.symlinkSync(`${d}/outside/w`, `${d}/rw/w`);
      const second = await via();
      assert.equal(second.code, 125, second.stdout);
      assert.match(
        second.stderr,
        new RegExp(`Cannot open scratch root "${s}": .*\\(ELOOP\\)`),
      );
      assert.ok(!second.stdout.includes("SECRET"));
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
    }
  },
);
