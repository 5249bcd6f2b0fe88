/**
 * The runner's process contract: exit status and signals pass through,
 * signals are forwarded, the child never outlives landlockd, it inherits
 * only fds 0–2, and exec failures are reported precisely.
 */
import assert from "node:assert/strict";
import {
  alive,
  fsTree,
  gone,
  policyFile,
  PROBE,
  ROOT,
  runInBackground,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";

const OPEN = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["make_block"]
`);

for (const as of USERS) {
  Deno.test(`[${as}] the command's exit status passes through`, async () => {
    for (const code of [0, 3, 255]) {
      const r = await sandboxed(OPEN, [PROBE, "exit", String(code)], { as });
      assert.equal(r.code, code, r.stderr);
    }
  });

  Deno.test(`[${as}] death by signal N exits 128+N`, async () => {
    for (const [sig, code] of [[15, 143], [9, 137], [6, 134]]) {
      const r = await sandboxed(OPEN, [PROBE, "raise", String(sig)], { as });
      assert.equal(r.code, code, r.stderr);
    }
  });

  Deno.test(`[${as}] the child holds no file descriptors beyond 0, 1 and 2`, async () => {
    const r = await sandboxed(OPEN, [PROBE, "fds"], { as });
    assert.equal(r.stdout, "fds: 0 1 2\n", r.stderr);
  });

  Deno.test(`[${as}] stdin, stdout, environment and cwd are the caller's`, async () => {
    const dir = tempDir();
    const r = await sandboxed(OPEN, [
      "sh",
      "-c",
      'read line; echo "$line|$GREETING|$(pwd)"',
    ], { as, stdin: "hello\n", env: { GREETING: "hi" }, cwd: dir });
    assert.equal(r.stdout, `hello|hi|${dir}\n`, r.stderr);
  });
}

Deno.test("a command that is not found exits 127 with the errno", async () => {
  const r = await sandboxed(OPEN, ["landlockd-no-such-command"]);
  assert.equal(r.code, 127);
  assert.equal(
    r.stderr,
    'landlockd: cannot execute "landlockd-no-such-command": No such file or directory (ENOENT)\n',
  );
});

Deno.test("a file that is not executable exits 126 with EACCES", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/script`, "#!/bin/sh\n");
  const r = await sandboxed(OPEN, [`${dir}/script`]);
  assert.equal(r.code, 126);
  assert.equal(
    r.stderr,
    `landlockd: cannot execute "${dir}/script": Permission denied (EACCES)\n`,
  );
});

Deno.test("an executable the policy denies exits 126 with EACCES", async () => {
  const dir = fsTree();
  const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["execute"]
`);
  const r = await sandboxed(policy, [`${dir}/bin/probe`]);
  assert.equal(r.code, 126);
  assert.match(
    r.stderr,
    /cannot execute ".*\/bin\/probe": Permission denied \(EACCES\)/,
  );
});

Deno.test("a bare command name is searched in PATH, like execvp", async () => {
  const r = await sandboxed(OPEN, ["probe", "print", "found"], {
    env: { PATH: `/nonexistent:${ROOT}ffi/build` },
  });
  assert.equal(r.stdout, "found\n", r.stderr);
});

for (const sig of ["SIGTERM", "SIGINT", "SIGHUP", "SIGQUIT"] as const) {
  Deno.test(`${sig} sent to landlockd reaches the child`, async () => {
    const { proc, pid, audit } = await runInBackground(OPEN, [
      PROBE,
      "sleep",
      "30",
    ]);
    proc.kill(sig);
    const status = await proc.status;
    const num = { SIGHUP: 1, SIGINT: 2, SIGQUIT: 3, SIGTERM: 15 }[sig];
    assert.equal(status.code, 128 + num);
    assert.equal(alive(pid), false);
    const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
      JSON.parse(l)
    );
    assert.equal(events.at(-1).event, "run.signal");
    assert.equal(events.at(-1).signal, sig);
    assert.deepEqual(events.at(-1).forwarded_signals, [sig]);
  });
}

Deno.test("the child never outlives landlockd, even when landlockd is SIGKILLed", async () => {
  const { proc, pid } = await runInBackground(OPEN, [PROBE, "sleep", "30"]);
  assert.equal(alive(pid), true);
  proc.kill("SIGKILL");
  await proc.status;
  assert.equal(await gone(pid), true);
});
