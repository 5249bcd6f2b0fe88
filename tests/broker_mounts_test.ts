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
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";

function tree(): string {
  const d = tempDir();
  for (
    const sub of ["mnt/scratch", "mnt/data", "mnt/other", "mnt/work", "data"]
  ) {
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
mount_object = [{ name = "work", fs_type = "tmpfs", attach = ["${d}/mnt/work"], attrs = ["nosuid", "nodev"] }]
${errno}`);
}

for (const as of USERS) {
  Deno.test(`[${as}] the sandbox mounts exactly the declared tmpfs and bind, nothing else`, async () => {
    const d = tree();
    const m = `${d}/mnt`;
    const r = await sandboxed(policy(d), [
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
        "/etc",
        "fsopen",
        "proc",
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
      ["open-tree /etc"]: "EPERM",
      ["fsopen proc"]: "EPERM",
    });
    // The mounts lived in the sandbox's mount namespace only.
    assert.deepEqual([...Deno.readDirSync(`${m}/scratch`)], []);
    assert.deepEqual([...Deno.readDirSync(`${m}/data`)], []);
  });
}

for (const as of USERS) {
  Deno.test(`[${as}] the new mount API: open_tree/move_mount and fsopen/fsconfig/fsmount on exactly what is declared`, async () => {
    const d = tree();
    const m = `${d}/mnt`;
    const r = await sandboxed(policy(d), [
      PROBE,
      ...[
        "tree-bind",
        `${d}/data`,
        `${m}/data`,
        "read",
        `${m}/data/f`,
        "write",
        `${m}/data/f`,
      ],
      ...["setattr", `${m}/data`, "0", "1"],
      ...[
        "fs-object",
        "tmpfs",
        "work",
        "6",
        `${m}/work`,
        "create",
        `${m}/work/x`,
      ],
      ...["setattr", `${m}/work`, "1", "0"],
    ], { as });
    assertProbe(r, {
      [`open_tree ${d}/data`]: "OK",
      [`move_mount ${m}/data`]: "OK",
      [`read ${m}/data/f`]: "OK",
      [`write ${m}/data/f`]: "EROFS",
      [`setattr ${m}/data`]: "EPERM", // clearing the declared read-only
      ["fsopen tmpfs"]: "OK",
      ["fsconfig-source work"]: "OK",
      ["fsconfig-create tmpfs"]: "OK",
      ["fsmount work"]: "OK",
      [`move_mount ${m}/work`]: "OK",
      [`create ${m}/work/x`]: "OK",
      [`setattr ${m}/work`]: "OK", // adding read-only is fine
    });
    assert.deepEqual([...Deno.readDirSync(`${m}/work`)], []);
  });

  Deno.test(`[${as}] new mount API audit events match the documentation`, async () => {
    const d = tree();
    const m = `${d}/mnt`;
    const dir = tempDir();
    chownTree(dir);
    const audit = `${dir}/audit.jsonl`;
    const r = await landlockd([
      "run",
      "--policy-file",
      policy(d),
      "--audit-file",
      audit,
      "--",
      PROBE,
      ...[
        "tree-bind",
        `${d}/data`,
        `${m}/data`,
        "fs-object",
        "tmpfs",
        "work",
        "6",
        `${m}/work`,
      ],
      ...["setattr", `${m}/work`, "1", "0"],
    ], { as });
    assert.equal(r.code, 0, r.stderr);
    const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
      JSON.parse(l)
    )
      .filter((e) => e.component === "broker");
    events.forEach(assertDocumented);
    assert.deepEqual(events.map((e) => `${e.event} ${e.decision}`), [
      "broker.open_tree allow",
      "broker.move_mount allow",
      "broker.fsopen allow",
      "broker.fsconfig allow",
      "broker.fsconfig allow",
      "broker.fsmount allow",
      "broker.move_mount allow",
      "broker.mount_setattr allow",
    ]);
  });

  Deno.test(`[${as}] the new mount API refuses undeclared sources, targets, names, types and attributes`, async () => {
    const d = tree();
    const m = `${d}/mnt`;
    const run = (...ops: string[]) =>
      sandboxed(policy(d), [PROBE, ...ops], {
        as,
      });
    assertProbe(await run("tree-bind", `${d}/data`, `${m}/other`), {
      [`open_tree ${d}/data`]: "OK",
      [`move_mount ${m}/other`]: "EPERM",
    });
    assertProbe(await run("tree-bind", "/etc", `${m}/data`), {
      ["open_tree /etc"]: "EPERM",
    });
    assertProbe(await run("fs-object", "tmpfs", "other", "6", `${m}/work`), {
      ["fsopen tmpfs"]: "OK",
      ["fsconfig-source other"]: "EPERM",
    });
    assertProbe(await run("fs-object", "tmpfs", "work", "0", `${m}/work`), {
      ["fsopen tmpfs"]: "OK",
      ["fsconfig-source work"]: "OK",
      ["fsconfig-create tmpfs"]: "OK",
      ["fsmount work"]: "EPERM",
    });
    assertProbe(await run("fs-object", "proc", "work", "6", `${m}/work`), {
      ["fsopen proc"]: "EPERM",
    });
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
      "proc",
      "mount",
      `${d}/mnt/scratch`,
    ],
  ]);
  assertProbe(r, {
    [`mount ${d}/mnt/other`]: "EOPNOTSUPP",
    ["fsopen proc"]: "EOPNOTSUPP",
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
