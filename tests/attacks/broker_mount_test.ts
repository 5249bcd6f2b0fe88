/**
 * Attack: brokered mounts name paths as the sandbox sees them, and the
 * mount helper (outside Landlock) resolved them following symlinks. The
 * sandbox replaces a declared bind source with a symlink to a directory
 * Landlock denies it, then asks for the declared bind: the helper would
 * mount the secret directory on the target, where Landlock's rules for the
 * target apply. The helper now resolves sources and targets without
 * following symlinks (ELOOP). Root and nobody.
 */
import assert from "node:assert/strict";
import { chownTree, USERS } from "../helpers.ts";
import {
  assertSecretsIntact,
  attackPolicy,
  attackResults,
  attackTree,
  runBounded,
} from "./broker_attack.ts";
import { testAtAbi } from "../fresh_needs.ts";

function tree(): string {
  const d = attackTree();
  for (const sub of ["rw/src", "rw/mnt", "rw/tmp"]) {
    Deno.mkdirSync(`${d}/${sub}`);
  }
  Deno.writeTextFileSync(`${d}/rw/src/resolv`, "BOUND\n");
  chownTree(d);
  return d;
}

const MOUNTS = (d: string) =>
  `mount_bind = [{ source = "${d}/rw/src", target = "${d}/rw/mnt", read_only = true }]
mount_tmpfs = ["${d}/rw/tmp"]`;

const run = (d: string, as: (typeof USERS)[number], ...ops: string[]) =>
  runBounded(
    [
      ...["run", "--policy-file", attackPolicy(d, MOUNTS(d))],
      ...["--", `${d}/bin/broker_swap`, ...ops],
    ],
    { as },
  );

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] brokered bind: the declared pair mounts; a symlink swapped in for the source or the target fails with ELOOP`,
    async () => {
      const d = tree();
      const ok = await run(
        d,
        as,
        "bind-mount",
        `${d}/rw/src`,
        `${d}/rw/mnt`,
        "read",
        `${d}/rw/mnt/resolv`,
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(
        attackResults(ok.stdout)[`data ${d}/rw/mnt/resolv`],
        "BOUND",
        ok.stdout,
      );

      const src = await run(
        d,
        as,
        ...["swap", `${d}/rw/src`, `${d}/outside`],
        ...[
          "bind-mount",
          `${d}/rw/src`,
          `${d}/rw/mnt`,
          "read",
          `${d}/rw/mnt/resolv`,
        ],
      );
      assert.equal(src.code, 0, src.stderr);
      const res = attackResults(src.stdout);
      assert.equal(res[`bind-mount ${d}/rw/src`], "ELOOP", src.stdout);
      assert.ok(!src.stdout.includes("SECRET"), src.stdout);
      assertSecretsIntact(d);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] brokered tmpfs and bind targets swapped for symlinks fail with ELOOP`,
    async () => {
      const d = tree();
      const out = await run(
        d,
        as,
        ...["swap", `${d}/rw/mnt`, `${d}/outside/a`],
        ...["bind-mount", `${d}/rw/src`, `${d}/rw/mnt`],
        ...["swap", `${d}/rw/tmp`, `${d}/outside`, "tmpfs", `${d}/rw/tmp`],
      );
      assert.equal(out.code, 0, out.stderr);
      const res = attackResults(out.stdout);
      assert.equal(res[`tmpfs ${d}/rw/tmp`], "ELOOP", out.stdout);
      assert.equal(res[`bind-mount ${d}/rw/src`], "ELOOP", out.stdout);
      assertSecretsIntact(d);
    },
  );
}
