/**
 * Right groups on the real kernel: a policy written only with "rx", "ro"
 * and "rw" allows what the groups name and nothing else (EACCES), as root
 * and as nobody.
 */
import {
  assertProbe,
  fsTree,
  landlockd,
  policyFile,
  sandboxed,
  USERS,
} from "./helpers.ts";
import assert from "node:assert/strict";
import { testAtAbi } from "./fresh_needs.ts";

function groupPolicy(dir: string): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["rw", "execute"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["rx"]
  [[fs_layer.rule]]
  path = "${dir}/denied"
  allowed_access = ["ro"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["rw"]
`);
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate (the rw group)",
    `[${as}] "rx", "ro" and "rw" allow what they name; the rest is EACCES`,
    async () => {
      const dir = fsTree();
      const r = await sandboxed(groupPolicy(dir), [
        `${dir}/bin/probe`,
        ...["exec", `${dir}/bin/probe`],
        ...["read", `${dir}/denied/file`],
        ...["write", `${dir}/denied/file`],
        ...["create", `${dir}/denied/new`],
        ...["write", `${dir}/allowed/file`],
        ...["create", `${dir}/allowed/new`],
        ...["truncate", `${dir}/allowed/file`],
        ...["exec", "/bin/true"],
      ], { as });
      assertProbe(r, {
        [`exec ${dir}/bin/probe`]: "OK",
        [`read ${dir}/denied/file`]: "OK",
        [`write ${dir}/denied/file`]: "EACCES",
        [`create ${dir}/denied/new`]: "EACCES",
        [`write ${dir}/allowed/file`]: "OK",
        [`create ${dir}/allowed/new`]: "OK",
        [`truncate ${dir}/allowed/file`]: "OK",
        ["exec /bin/true"]: "EACCES",
      });
    },
  );
}

testAtAbi(
  3,
  "truncate (the rw group)",
  "--dry-run shows the rights a group expanded to",
  async () => {
    const dir = fsTree();
    const r = await landlockd([
      "run",
      "--dry-run",
      "--policy-file",
      groupPolicy(dir),
      "--",
      "true",
    ]);
    assert.equal(r.code, 0, r.stderr);
    const plan = JSON.parse(r.stdout);
    const rules = plan.landlock.layers[0].path_beneath;
    assert.deepEqual(rules[0].allowed_access, [
      "execute",
      "read_file",
      "read_dir",
    ]);
    assert.ok(!JSON.stringify(plan).includes('"rw"'));
    assert.equal(plan.landlock.layers[0].handled_access_fs.length, 13);
  },
);
