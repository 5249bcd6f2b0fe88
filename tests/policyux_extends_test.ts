/**
 * `extends` on the real kernel: the example "ci-default plus a writable
 * ${PWD}" (examples/ci-default-plus-workspace.toml) lets the command write
 * where it runs and nowhere else outside /tmp; a base's error names the
 * base; `--dry-run` shows where each rule was written. Root and nobody.
 */
import assert from "node:assert/strict";
import { startDaemon } from "./daemon_helpers.ts";
import {
  assertProbe,
  fsTree,
  landlockd,
  policyFile,
  RUN_ROOT,
  tempDir,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

const EXAMPLE = `${RUN_ROOT}examples/ci-default-plus-workspace.toml`;

/** fsTree() outside /tmp, which ci-default makes writable anyway. */
function treeOutsideTmp(): string {
  const parent = Deno.makeTempDirSync({ dir: "/run", prefix: "policyux-" });
  Deno.chmodSync(parent, 0o755);
  globalThis.addEventListener("unload", () => {
    Deno.removeSync(parent, { recursive: true });
  });
  const dir = `${parent}/tree`;
  Deno.renameSync(fsTree(), dir);
  return dir;
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] ci-default + writable PWD: writes in the working directory, EACCES beside it`,
    async () => {
      const dir = treeOutsideTmp();
      const r = await landlockd([
        "run",
        "--policy-file",
        EXAMPLE,
        "--",
        `${dir}/bin/probe`,
        ...["create", `${dir}/allowed/new`],
        ...["write", `${dir}/allowed/file`],
        ...["read", `${dir}/denied/file`],
        ...["create", `${dir}/denied/new`],
        ...["write", `${dir}/denied/file`],
      ], { as, cwd: `${dir}/allowed` });
      assertProbe(r, {
        [`create ${dir}/allowed/new`]: "OK",
        [`write ${dir}/allowed/file`]: "OK",
        [`read ${dir}/denied/file`]: "OK",
        [`create ${dir}/denied/new`]: "EACCES",
        [`write ${dir}/denied/file`]: "EACCES",
      });
    },
  );
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] run --socket sends the merged policy: the daemon enforces the widened base`,
    async () => {
      const dir = treeOutsideTmp();
      const d = await startDaemon({ as });
      try {
        const r = await landlockd([
          "run",
          ...["--socket", d.socket, "--policy-file", EXAMPLE],
          "--",
          `${dir}/bin/probe`,
          ...["create", `${dir}/allowed/new`],
          ...["create", `${dir}/denied/new`],
        ], { as, cwd: `${dir}/allowed`, env: { PWD: `${dir}/allowed` } });
        assertProbe(r, {
          [`create ${dir}/allowed/new`]: "OK",
          [`create ${dir}/denied/new`]: "EACCES",
        });
      } finally {
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  );
}

testAtAbi(
  3,
  "truncate (ci-default)",
  "--dry-run of a merged policy shows each rule's file:line",
  async () => {
    const dir = tempDir();
    const r = await landlockd([
      "run",
      "--dry-run",
      "--policy-file",
      EXAMPLE,
      "--",
      "true",
    ], { cwd: dir });
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    assert.deepEqual(plan.extends, ['policy "ci-default" (built in)']);
    const rules = plan.landlock.layers[0].path_beneath;
    assert.equal(rules[0].origin, 'policy "ci-default" (built in):17');
    assert.equal(rules.at(-1).path, dir);
    assert.equal(rules.at(-1).origin, `${EXAMPLE}:4`);
    assert.equal(plan.origins["fs_layer[0].rule[4]"], `${EXAMPLE}:4`);
  },
);

Deno.test("run: an error in a base file is reported against that file and line", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(
    `${dir}/base.toml`,
    'version = 1\n[[fs_layer]]\nhandled_access_fs = ["rw", "exec"]\n',
  );
  const top = policyFile('extends = "./base.toml"\n', dir);
  const r = await landlockd(["run", "--policy-file", top, "--", "true"]);
  assert.notEqual(r.code, 0);
  assert.match(
    r.stderr,
    new RegExp(
      `${dir}/base\\.toml:3: fs_layer\\[0\\]\\.handled_access_fs\\[1\\]: unknown filesystem right "exec"`,
    ),
  );
});
