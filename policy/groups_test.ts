import assert from "node:assert/strict";
import { expandFsRights, FS_GROUPS, groupNeedsAbi } from "./groups.ts";
import { CompatError, planLandlock } from "./plan.ts";
import { FS_RIGHT_NAMES, FS_RIGHTS } from "./rights.ts";
import { validatePolicy } from "./validate.ts";

Deno.test("each group expands to exactly the documented rights", () => {
  assert.deepEqual(expandFsRights(["ro"]), ["read_file", "read_dir"]);
  assert.deepEqual(expandFsRights(["rx"]), [
    "read_file",
    "read_dir",
    "execute",
  ]);
  assert.deepEqual(
    [...expandFsRights(["rw"])].sort(),
    [
      "make_dir",
      "make_fifo",
      "make_reg",
      "make_sock",
      "make_sym",
      "read_dir",
      "read_file",
      "refer",
      "remove_dir",
      "remove_file",
      "truncate",
      "write_file",
    ],
  );
  assert.deepEqual(expandFsRights(["all"]), FS_RIGHT_NAMES);
});

Deno.test("rw leaves out execute, make_char, make_block and ioctl_dev", () => {
  for (const r of ["execute", "make_char", "make_block", "ioctl_dev"]) {
    assert.ok(!FS_GROUPS.rw.includes(r as never), r);
  }
});

Deno.test("groups and rights mix, without duplicates, in the order written", () => {
  assert.deepEqual(expandFsRights(["write_file", "ro", "read_file"]), [
    "write_file",
    "read_file",
    "read_dir",
  ]);
  assert.deepEqual(expandFsRights(["rx", "rw"]).length, 13);
});

Deno.test("the ABI each group needs: ro and rx 1, rw 3 (truncate), all 5", () => {
  assert.deepEqual(
    {
      ro: groupNeedsAbi("ro"),
      rx: groupNeedsAbi("rx"),
      rw: groupNeedsAbi("rw"),
      all: groupNeedsAbi("all"),
    },
    { ro: 1, rx: 1, rw: 3, all: 5 },
  );
  assert.equal(FS_RIGHTS.refer.abi, 2);
});

function validated(text: string) {
  const r = validatePolicy({ name: "g.toml", text });
  assert.ok(r.policy, JSON.stringify(r.diagnostics));
  return r.policy;
}

const RW_POLICY = (compat: string) =>
  `version = 1
compat = "${compat}"
[[fs_layer]]
handled_access_fs = ["rw", "execute"]
[[fs_layer.rule]]
path = "/"
allowed_access = ["rx"]
[[fs_layer.rule]]
path = "/tmp"
allowed_access = ["rw"]
`;

Deno.test("a validated policy holds the expanded rights, not the group names", () => {
  const p = validated(RW_POLICY("strict"));
  assert.deepEqual(p.fs_layer![0].rule![0].allowed_access, [
    "read_file",
    "read_dir",
    "execute",
  ]);
  assert.equal(p.fs_layer![0].handled_access_fs.length, 13);
});

/** How "rw" in handled_access_fs downgrades, per ABI, under best_effort. */
// refer on ABI 1 is not dropped but stricter: the kernel then refuses
// every cross-directory rename and link.
const DOWNGRADE: { abi: number; dropped: string[]; stricter: string[] }[] = [
  { abi: 1, dropped: ["truncate"], stricter: ["refer"] },
  { abi: 2, dropped: ["truncate"], stricter: [] },
  { abi: 3, dropped: [], stricter: [] },
  { abi: 7, dropped: [], stricter: [] },
];

for (const { abi, dropped, stricter } of DOWNGRADE) {
  Deno.test(`best_effort: "rw" on ABI ${abi} drops [${dropped}], stricter [${stricter}]`, () => {
    const plan = planLandlock(validated(RW_POLICY("best_effort")), abi);
    assert.deepEqual(plan.dropped.map((d) => d.right), dropped);
    assert.deepEqual(plan.stricter.map((d) => d.right), stricter);
    const rw = plan.layers[0].path_beneath[1].allowed_access;
    for (const d of dropped) assert.ok(!rw.includes(d as never));
  });
}

Deno.test('strict: "rw" on ABI 2 refuses, naming truncate', () => {
  assert.throws(
    () => planLandlock(validated(RW_POLICY("strict")), 2),
    (e) =>
      e instanceof CompatError &&
      /"truncate" needs Landlock ABI 3/.test(e.message),
  );
});

Deno.test('strict: "all" needs ABI 5 (ioctl_dev)', () => {
  const text = `version = 1\n[[fs_layer]]\nhandled_access_fs = ["all"]\n`;
  assert.throws(() => planLandlock(validated(text), 4), CompatError);
  assert.equal(
    planLandlock(validated(text), 5).layers[0].handled_access_fs.length,
    16,
  );
});

Deno.test("an unknown group name gets did-you-mean", () => {
  const r = validatePolicy({
    name: "g.toml",
    text: `version = 1\n[[fs_layer]]\nhandled_access_fs = ["al"]\n`,
  });
  assert.match(
    r.diagnostics[0]?.message ?? "",
    /unknown filesystem right "al" \(did you mean "all"\?\)/,
  );
});

Deno.test("a group allowing rights its layer does not handle is refused, naming the right", () => {
  const r = validatePolicy({
    name: "g.toml",
    text:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["ro"]\n[[fs_layer.rule]]\npath = "/"\nallowed_access = ["rx"]\n`,
  });
  assert.match(
    r.diagnostics[0]?.message ?? "",
    /right "execute" is not in this layer's handled_access_fs/,
  );
});
