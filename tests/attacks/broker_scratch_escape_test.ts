/**
 * Escape attempts through the broker's scratch roots, as root and as
 * nobody: symlinks planted in scratch that point out, `..` and relative
 * paths, a thread swapping a path component for a symlink while another
 * creates files, and signalling or ptracing landlockd from the sandbox.
 * Every attempt must end inside the root or fail with the exact errno.
 */
import assert from "node:assert/strict";
import { brokerTree, probe } from "../broker_fixtures.ts";
import { assertProbe, probeResults, USERS } from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] a symlink in scratch pointing outside cannot be followed out`,
    async () => {
      const d = brokerTree();
      const s = `${d}/scratch`;
      const r = await probe(
        d,
        as,
        ...[
          "symlink",
          `${d}/outside`,
          `${s}/out`,
          "symlink",
          `${d}/outside/secret`,
          `${s}/sec`,
        ],
        ...[
          "read",
          `${s}/out/secret`,
          "read",
          `${s}/sec`,
          "create",
          `${s}/out/planted`,
          "mkdir",
          `${s}/out/d`,
        ],
        ...["link", `${s}/sec`, `${s}/hard`],
      );
      assertProbe(r, {
        [`symlink ${s}/out`]: "OK",
        [`symlink ${s}/sec`]: "OK",
        [`read ${s}/out/secret`]: "EACCES",
        [`read ${s}/sec`]: "EACCES",
        [`create ${s}/out/planted`]: "EACCES",
        [`mkdir ${s}/out/d`]: "EACCES",
        [`link ${s}/sec`]: "OK", // links the symlink itself, not its target
      });
      assert.deepEqual(
        [...Deno.readDirSync(`${d}/outside`)].map((x) => x.name),
        [
          "secret",
        ],
      );
      assert.equal(Deno.lstatSync(`${s}/hard`).isSymlink, true);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] .. and relative-path tricks resolve to where they really point`,
    async () => {
      const d = brokerTree();
      const s = `${d}/scratch`;
      const r = await probe(
        d,
        as,
        ...[
          "mkdir",
          `${s}/x`,
          "read",
          `${s}/../outside/secret`,
          "create",
          `${s}/x/../../outside/evil`,
        ],
        ...[
          "create",
          `${s}//./dots`,
          "cd",
          s,
          "create",
          "relative",
          "create",
          "../export/rel",
        ],
        ...["read", "../outside/secret", "create", "sub/../fine"],
      );
      assertProbe(r, {
        [`mkdir ${s}/x`]: "OK",
        [`read ${s}/../outside/secret`]: "EACCES",
        [`create ${s}/x/../../outside/evil`]: "EACCES",
        [`create ${s}//./dots`]: "OK",
        [`cd ${s}`]: "OK",
        ["create relative"]: "OK",
        ["create ../export/rel"]: "EACCES",
        ["read ../outside/secret"]: "EACCES",
        ["create sub/../fine"]: "OK",
      });
      for (const f of ["dots", "relative", "fine"]) Deno.statSync(`${s}/${f}`);
      assert.deepEqual(
        [...Deno.readDirSync(`${d}/outside`)].map((x) => x.name),
        [
          "secret",
        ],
      );
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] a thread swapping a path component for a symlink never gets out of scratch`,
    async () => {
      const d = brokerTree();
      const r = await probe(
        d,
        as,
        "race",
        `${d}/scratch`,
        `${d}/outside`,
        "3000",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(probeResults(r.stdout)[`race ${d}/scratch`], "OK", r.stdout);
      const counts = /inside=(\d+) refused=(\d+) leaked=(\d+)/.exec(r.stdout)!;
      assert.equal(Number(counts[3]), 0);
      // The race really ran both ways.
      assert.ok(Number(counts[1]) > 0 && Number(counts[2]) > 0, r.stdout);
      assert.deepEqual(
        [...Deno.readDirSync(`${d}/outside`)].map((x) => x.name),
        [
          "secret",
        ],
      );
    },
  );

  testAtAbi(
    6,
    "the signal scope a broker implies (below it, see tests/attacks/fresh_kill_supervisor_test.ts)",
    `[${as}] the sandbox cannot signal or ptrace the broker`,
    async () => {
      const d = brokerTree();
      const r = await probe(d, as, "kill-parent", "ptrace-parent");
      assertProbe(r, { "kill-parent 0": "EPERM", "ptrace-parent 0": "EPERM" });
    },
  );
}
