/**
 * Landlock filesystem rules on the real kernel, as root and as nobody.
 */
import {
  assertProbe,
  fsTree,
  policyFile,
  sandboxed,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

const FS =
  `"execute", "read_file", "read_dir", "write_file", "make_reg", "truncate"`;

function onePolicy(dir: string): string {
  return policyFile(`version = 1

[[fs_layer]]
handled_access_fs = [${FS}]

  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["read_file", "read_dir", "write_file", "make_reg", "truncate"]
`);
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] reads, writes, creates, lists and executes only where rules allow (else EACCES)`,
    async () => {
      const dir = fsTree();
      const r = await sandboxed(onePolicy(dir), [
        `${dir}/bin/probe`,
        ...["read", `${dir}/allowed/file`],
        ...["read", `${dir}/allowed/sub/file`],
        ...["read", `${dir}/denied/file`],
        ...["write", `${dir}/allowed/file`],
        ...["write", `${dir}/denied/file`],
        ...["create", `${dir}/allowed/new`],
        ...["create", `${dir}/denied/new`],
        ...["truncate", `${dir}/allowed/file`],
        ...["truncate", `${dir}/denied/file`],
        ...["ls", `${dir}/allowed`],
        ...["ls", `${dir}/denied`],
        ...["exec", `${dir}/bin/probe`],
        ...["exec", "/bin/true"],
      ], { as });
      assertProbe(r, {
        [`read ${dir}/allowed/file`]: "OK",
        [`read ${dir}/allowed/sub/file`]: "OK",
        [`read ${dir}/denied/file`]: "EACCES",
        [`write ${dir}/allowed/file`]: "OK",
        [`write ${dir}/denied/file`]: "EACCES",
        [`create ${dir}/allowed/new`]: "OK",
        [`create ${dir}/denied/new`]: "EACCES",
        [`truncate ${dir}/allowed/file`]: "OK",
        [`truncate ${dir}/denied/file`]: "EACCES",
        [`ls ${dir}/allowed`]: "OK",
        [`ls ${dir}/denied`]: "EACCES",
        [`exec ${dir}/bin/probe`]: "OK",
        ["exec /bin/true"]: "EACCES",
      });
    },
  );

  Deno.test(`[${as}] stacked layers intersect: a right must be allowed by every layer that handles it`, async () => {
    const dir = fsTree();
    const policy = policyFile(`version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/allowed/sub"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/denied"
  allowed_access = ["read_file"]

[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["read_file"]
`);
    const r = await sandboxed(policy, [
      `${dir}/bin/probe`,
      ...["read", `${dir}/allowed/sub/file`],
      ...["read", `${dir}/allowed/file`],
      ...["read", `${dir}/denied/file`],
    ], { as });
    assertProbe(r, {
      [`read ${dir}/allowed/sub/file`]: "OK", // both layers allow
      [`read ${dir}/allowed/file`]: "EACCES", // only layer 2 allows
      [`read ${dir}/denied/file`]: "EACCES", // only layer 1 allows
    });
  });

  Deno.test(`[${as}] a rule on a single file allows that file only`, async () => {
    const dir = fsTree();
    const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/bin/probe"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/allowed/file"
  allowed_access = ["read_file", "read_dir"]
`);
    const r = await sandboxed(policy, [`${dir}/bin/probe`, ...[
      "read",
      `${dir}/allowed/file`,
    ], ...["read", `${dir}/allowed/sub/file`]], { as });
    assertProbe(r, {
      [`read ${dir}/allowed/file`]: "OK",
      [`read ${dir}/allowed/sub/file`]: "EACCES",
    });
  });
}
