/**
 * Per-run namespaces and mounts on the real kernel, as root and as nobody:
 * tmpfs, bind (read-only and writable), proc in a PID namespace, a pivot
 * into a prepared rootfs, and the hermetic-build starter policy.
 */
import assert from "node:assert/strict";
import { assertDocumented } from "./audit_schema.ts";
import {
  assertProbe,
  chownTree,
  freePort,
  landlockd,
  policyFile,
  PROBE,
  probeResults,
  runInBackground,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";
import { mountPolicy as policy, mountTree as tree } from "./mount_helpers.ts";
import { needs, testAtAbi } from "./fresh_needs.ts";

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] writes under a tmpfs stay in the sandbox`,
    async () => {
      const d = tree();
      const r = await sandboxed(policy(d), [
        PROBE,
        "create",
        `${d}/tmp/new`,
        "read",
        `${d}/tmp/new`,
      ], { as });
      assertProbe(r, {
        [`create ${d}/tmp/new`]: "OK",
        [`read ${d}/tmp/new`]: "OK",
      });
      assert.deepEqual([...Deno.readDirSync(`${d}/tmp`)], []);
    },
    [as === "nobody" ? needs.userns() : undefined],
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] a read-only bind refuses writes with EROFS; a writable one persists`,
    async () => {
      const d = tree();
      const r = await sandboxed(policy(d), [PROBE, ...[
        "read",
        `${d}/ro/f`,
        "write",
        `${d}/ro/f`,
        "create",
        `${d}/ro/g`,
        "create",
        `${d}/dst/kept`,
      ]], { as });
      assertProbe(r, {
        [`read ${d}/ro/f`]: "OK",
        [`write ${d}/ro/f`]: "EROFS",
        [`create ${d}/ro/g`]: "EROFS",
        [`create ${d}/dst/kept`]: "OK",
      });
      Deno.statSync(`${d}/src/kept`);
      assert.deepEqual(
        [...Deno.readDirSync(`${d}/dst`)],
        [],
        "the bind is gone outside",
      );
    },
    [as === "nobody" ? needs.userns() : undefined],
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] proc shows only the sandbox's processes (a PID namespace with an init)`,
    async () => {
      const d = tree();
      const r = await landlockd(
        [
          "run",
          "--policy-file",
          policy(d, `proc = ["/proc"]`),
          "--",
          "sh",
          "-c",
          "echo $$; ls /proc | grep -c '^[0-9]'",
        ],
        { as },
      );
      assert.equal(r.code, 0, r.stderr);
      const [pid, count] = r.stdout.trim().split("\n").map(Number);
      assert.equal(pid, 2, "the command is PID 2, under landlockd's init");
      assert.ok(count <= 4, `only the sandbox's processes: ${count}`);
    },
    [as === "nobody" ? needs.userns() : undefined],
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] a raw mount attempt from inside is refused`,
    async () => {
      const d = tree();
      const r = await sandboxed(policy(d), [PROBE, "mount", `${d}/tmp`], {
        as,
      });
      assertProbe(r, { [`mount ${d}/tmp`]: "EPERM" });
    },
    [as === "nobody" ? needs.userns() : undefined],
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] prepared-root: pivot, PATH lookup and cwd inside the rootfs`,
    async () => {
      const root = tempDir();
      for (const sub of ["usr/bin", "tmp", "etc", "work"]) {
        Deno.mkdirSync(`${root}/${sub}`, { recursive: true });
      }
      Deno.copyFileSync("/bin/busybox", `${root}/usr/bin/busybox`);
      Deno.chmodSync(`${root}/usr/bin/busybox`, 0o755);
      Deno.chmodSync(`${root}/tmp`, 0o1777);
      chownTree(`${root}/work`);
      const r = await landlockd(
        [
          "run",
          "--policy",
          "prepared-root",
          "--",
          "busybox",
          "sh",
          "-c",
          "pwd; busybox ls /; echo hi > /tmp/x && busybox cat /tmp/x; echo no > /usr/x || echo refused",
        ],
        { as, env: { LANDLOCKD_ROOTFS: root, PATH: "/usr/bin" } },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "/\netc\ntmp\nusr\nwork\nhi\nrefused\n");
      assert.match(r.stderr, /can't create \/usr\/x: Permission denied/);
      assert.equal(Deno.readTextFileSync(`${root}/tmp/x`), "hi\n");
    },
    [as === "nobody" ? needs.userns() : undefined, needs.busybox()],
  );

  testAtAbi(
    4,
    "bind_tcp, connect_tcp, truncate",
    `[${as}] prepared-root-net: inside the rootfs, TCP connects only to 80 and 443`,
    async () => {
      const root = tempDir();
      for (const sub of ["usr/bin", "tmp"]) {
        Deno.mkdirSync(`${root}/${sub}`, { recursive: true });
      }
      Deno.copyFileSync(PROBE, `${root}/usr/bin/probe`);
      Deno.chmodSync(`${root}/usr/bin/probe`, 0o755);
      const other = freePort();
      const listener = Deno.listen({ hostname: "127.0.0.1", port: other });
      try {
        const r = await landlockd(
          [
            "run",
            "--policy",
            "prepared-root-net",
            "--",
            "probe",
            "connect",
            String(other),
            "bind",
            String(freePort()),
            "ls",
            "/",
          ],
          { as, env: { LANDLOCKD_ROOTFS: root, PATH: "/usr/bin" } },
        );
        const res = probeResults(r.stdout);
        assert.equal(res[`connect ${other}`], "EACCES", r.stderr);
        assert.equal(
          Object.entries(res).find(([k]) => k.startsWith("bind"))?.[1],
          "EACCES",
        );
        assert.equal(res["ls /"], "OK");
      } finally {
        listener.close();
      }
    },
    [as === "nobody" ? needs.userns() : undefined],
  );

  testAtAbi(
    4,
    "bind_tcp, connect_tcp, truncate",
    `[${as}] hermetic-build compiles and runs a C program in its tmpfs, with no TCP`,
    async () => {
      const r = await landlockd([
        "run",
        "--policy",
        "hermetic-build",
        "--",
        "sh",
        "-c",
        'cd /tmp && printf "int main(void){return 7;}\\n" > a.c && cc -o a a.c; ./a; echo "status $?"; ls /tmp',
      ], { as });
      assert.equal(r.stdout, "status 7\na\na.c\n", r.stderr);
    },
  );
}

testAtAbi(6, "scopes", "mount failures say what to do", async () => {
  const d = tree();
  const missing = policyFile(`version = 1
[scope]
signal = true
[mount]
tmpfs = ["${d}/nope"]
`);
  const a = await sandboxed(missing, ["true"]);
  assert.equal(a.code, 125);
  assert.match(
    a.stderr,
    /:\d+: mount\.tmpfs\[0\]: mount target ".*\/nope" does not exist/,
  );
  Deno.writeTextFileSync(`${d}/file`, "");
  const notDir = policyFile(`version = 1
[scope]
signal = true
[runtime]
root = "${d}/file"
`);
  const b = await sandboxed(notDir, ["true"]);
  assert.equal(b.code, 125);
  assert.match(
    b.stderr,
    /runtime\.root: the rootfs ".*\/file" is not a directory/,
  );
});

testAtAbi(
  3,
  "truncate",
  "mount audit events match the documentation",
  async () => {
    const d = tree();
    const audit = `${tempDir()}/audit.jsonl`;
    const r = await landlockd([
      "run",
      "--policy-file",
      policy(d, `proc = ["/proc"]`),
      "--audit-file",
      audit,
      "--",
      PROBE,
    ]);
    assert.equal(r.code, 0, r.stderr);
    const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    const mounts = events.filter((e) => e.component === "mount");
    assert.deepEqual(mounts.map((e) => e.event), [
      "mount.tmpfs",
      "mount.bind",
      "mount.bind",
      "mount.proc",
    ]);
    events.forEach(assertDocumented);
    assert.equal(mounts[2].read_only, true);
  },
);

testAtAbi(
  3,
  "truncate",
  "SIGTERM reaches a command behind the PID namespace's init",
  async () => {
    const d = tree();
    const { proc } = await runInBackground(policy(d, `proc = ["/proc"]`), [
      PROBE,
      "sleep",
      "30",
    ]);
    proc.kill("SIGTERM");
    assert.equal((await proc.status).code, 143);
  },
);

Deno.test("lint warns about a mount target no Landlock rule reaches", async () => {
  const d = tree();
  const p = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "${d}/src"
  allowed_access = ["read_file"]
[mount]
tmpfs = ["${d}/tmp"]
`);
  const r = await landlockd(["lint", "--policy-file", p]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: mount\.tmpfs\[0\]: ".*\/tmp" is not covered by any Landlock rule/,
  );
});
