/**
 * `refer` on Landlock ABI 1 is stricter than the policy, not dropped: the
 * kernel denies every rename and link across directories (EXDEV), even
 * where a rule allows `refer`; within one directory they still work.
 * (LANDLOCKD_ABI_MAX=1 makes landlockd leave `refer` unhandled, which the
 * kernel treats exactly as ABI 1 does.) The plan's table test is in
 * policy/plan_test.ts.
 */
import assert from "node:assert/strict";
import {
  assertProbe,
  chownTree,
  landlockd,
  policyFile,
  PROBE,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";

function tree(): string {
  const d = tempDir();
  for (const sub of ["a", "b"]) Deno.mkdirSync(`${d}/${sub}`);
  for (const f of ["f", "g"]) Deno.writeTextFileSync(`${d}/a/${f}`, "x\n");
  chownTree(d);
  return d;
}

function policy(d: string): string {
  return policyFile(`version = 1
compat = "strict"
[[fs_layer]]
handled_access_fs = ["read_file", "write_file", "make_reg", "remove_file", "refer"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${d}"
  allowed_access = ["read_file", "write_file", "make_reg", "remove_file", "refer"]
`);
}

function ops(d: string): string[] {
  return [
    PROBE,
    ...["rename", `${d}/a/f`, `${d}/b/f`],
    ...["link", `${d}/a/g`, `${d}/b/g`],
    ...["rename", `${d}/a/g`, `${d}/a/h`],
  ];
}

for (const as of USERS) {
  Deno.test(`[${as}] ABI 1: a rule allowing refer runs strict, and the kernel refuses cross-directory rename and link with EXDEV`, async () => {
    const d = tree();
    const r = await sandboxed(policy(d), ops(d), {
      as,
      env: { LANDLOCKD_ABI_MAX: "1" },
    });
    assertProbe(r, {
      [`rename ${d}/a/f`]: "EXDEV",
      [`link ${d}/a/g`]: "EXDEV",
      [`rename ${d}/a/g`]: "OK",
    });
    assert.match(
      r.stderr,
      /^landlockd: note: stricter than the policy on Landlock ABI 1: fs_layer\[0\]\.rule\[1\]\.allowed_access refer \(ABI 2\): the kernel denies every rename and link across directories/,
    );
  });

  Deno.test(`[${as}] ABI 2: the same rule allows cross-directory rename and link`, async () => {
    const d = tree();
    const r = await sandboxed(policy(d), ops(d), {
      as,
      env: { LANDLOCKD_ABI_MAX: "2" },
    });
    assertProbe(r, {
      [`rename ${d}/a/f`]: "OK",
      [`link ${d}/a/g`]: "OK",
      [`rename ${d}/a/g`]: "OK",
    });
    assert.equal(r.stderr, "");
  });
}

Deno.test("ABI 1: --dry-run lists refer under stricter, not dropped", async () => {
  const d = tree();
  const r = await landlockd(["run", "--policy-file", policy(d), "--dry-run"], {
    env: { LANDLOCKD_ABI_MAX: "1" },
  });
  assert.equal(r.code, 0, r.stderr);
  const plan = JSON.parse(r.stdout).landlock;
  assert.deepEqual(plan.dropped, []);
  assert.equal(plan.status, "fully_enforced");
  assert.deepEqual(plan.stricter.map((s: { right: string }) => s.right), [
    "refer",
  ]);
  assert.ok(!plan.layers[0].handled_access_fs.includes("refer"));
});
