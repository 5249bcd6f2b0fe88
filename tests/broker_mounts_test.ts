/**
 * Brokered mounts on the real kernel, as root and as nobody: the sandbox
 * mounts exactly what `[broker] mount_tmpfs` and `mount_bind` declare,
 * through a helper in its mount namespace; everything else of the mount
 * family fails with the policy's errno.
 */
import assert from "node:assert/strict";
import { assertDocumented } from "./audit_schema.ts";
import {
  assertProbe,
  chownTree,
  landlockd,
  policyFile,
  PROBE,
  tempDir,
  USERS,
} from "./helpers.ts";

function tree(): string {
  const d = tempDir();
  for (const sub of ["mnt/scratch", "mnt/data", "mnt/other", "data"]) {
    Deno.mkdirSync(`${d}/${sub}`, { recursive: true });
  }
  Deno.writeTextFileSync(`${d}/data/f`, "hello\n");
  chownTree(d);
  return d;
}

function policy(d: string, errno = ""): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${d}/mnt"
  allowed_access = ["read_file", "read_dir", "write_file", "make_reg"]
[broker]
mount_tmpfs = ["${d}/mnt/scratch"]
mount_bind = [{ source = "${d}/data", target = "${d}/mnt/data", read_only = true }]
${errno}`);
}

for (const as of USERS) {
  Deno.test(`[${as}] the sandbox mounts exactly the declared tmpfs and bind, nothing else`, async () => {
    const d = tree();
    const m = `${d}/mnt`;
    const r = await landlockd([
      "run",
      "--policy-file",
      policy(d),
      "--",
      PROBE,
      ...[
        "mount",
        `${m}/scratch`,
        "create",
        `${m}/scratch/x`,
        "mount",
        `${m}/other`,
      ],
      ...[
        "bind-mount",
        `${d}/data`,
        `${m}/data`,
        "read",
        `${m}/data/f`,
        "write",
        `${m}/data/f`,
      ],
      ...["bind-mount", "/etc", `${m}/other`, "mount-proc", `${m}/scratch`],
      ...[
        "umount",
        `${m}/scratch`,
        "umount",
        "/",
        "open-tree",
        `${d}/data`,
        "fsopen",
        "tmpfs",
      ],
    ], { as });
    assertProbe(r, {
      [`mount ${m}/scratch`]: "OK",
      [`create ${m}/scratch/x`]: "OK",
      [`mount ${m}/other`]: "EPERM",
      [`bind-mount ${m}/data`]: "OK",
      [`read ${m}/data/f`]: "OK",
      [`write ${m}/data/f`]: "EROFS",
      [`bind-mount ${m}/other`]: "EPERM",
      [`mount-proc ${m}/scratch`]: "EPERM",
      [`umount ${m}/scratch`]: "OK",
      ["umount /"]: "EPERM",
      [`open-tree ${d}/data`]: "EPERM",
      ["fsopen tmpfs"]: "EPERM",
    });
    // The mounts lived in the sandbox's mount namespace only.
    assert.deepEqual([...Deno.readDirSync(`${m}/scratch`)], []);
    assert.deepEqual([...Deno.readDirSync(`${m}/data`)], []);
  });
}

Deno.test("refused mount calls fail with the policy's errno", async () => {
  const d = tree();
  const r = await landlockd([
    "run",
    "--policy-file",
    policy(d, "[seccomp]\nerrno = 95\n"),
    "--",
    PROBE,
    ...[
      "mount",
      `${d}/mnt/other`,
      "fsopen",
      "tmpfs",
      "mount",
      `${d}/mnt/scratch`,
    ],
  ]);
  assertProbe(r, {
    [`mount ${d}/mnt/other`]: "EOPNOTSUPP",
    ["fsopen tmpfs"]: "EOPNOTSUPP",
    [`mount ${d}/mnt/scratch`]: "OK",
  });
});

Deno.test("broker.mount and broker.umount events match the documentation", async () => {
  const d = tree();
  const audit = `${tempDir()}/audit.jsonl`;
  const r = await landlockd([
    "run",
    "--policy-file",
    policy(d),
    "--audit-file",
    audit,
    "--",
    PROBE,
    ...[
      "mount",
      `${d}/mnt/scratch`,
      "mount",
      `${d}/mnt/other`,
      "umount",
      `${d}/mnt/scratch`,
    ],
  ]);
  assert.equal(r.code, 0, r.stderr);
  const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
    JSON.parse(l)
  )
    .filter((e) => e.component === "broker");
  events.forEach(assertDocumented);
  assert.deepEqual(
    events.map((e) => `${e.event} ${e.operation} ${e.decision} ${e.errno}`),
    [
      "broker.mount tmpfs allow 0",
      "broker.mount mount deny 1",
      "broker.umount umount allow 0",
    ],
  );
});
