/**
 * Attack: execute code written into a memfd (memfd_exec.c), by
 * execveat(fd, "", AT_EMPTY_PATH) and by execve("/proc/self/fd/N").
 * Landlock does not check files on the kernel's internal memfd mount, so a
 * policy that allows executing nothing new still runs it. With
 * `[seccomp] memfd_exec = false` (the starter policies), memfd_create
 * without MFD_NOEXEC_SEAL fails with the policy's errno, and a sealed memfd
 * cannot be made executable (fchmod: EPERM) or executed (EACCES, from the
 * kernel) by either route.
 */

import assert from "node:assert/strict";
import {
  landlockd,
  policyFile,
  probeResults,
  RUN_ROOT,
  sandboxed,
  tempDir,
  USERS,
} from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";
import { compileAttack } from "./baseline_helpers.ts";

const ATTACK = await compileAttack("memfd_exec");

/**
 * Executing is allowed only beneath /usr and the attack's directory, so the
 * payload (a copy of echo elsewhere) can only run from the memfd.
 */
function policy(memfdExec?: boolean): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute"]
  [[fs_layer.rule]]
  path = "${ATTACK.replace(/\/[^/]*$/, "")}"
  allowed_access = ["execute"]
${memfdExec === undefined ? "" : `[seccomp]\nmemfd_exec = ${memfdExec}\n`}`);
}

const ECHO = `${tempDir("payload-")}/echo`;
Deno.copyFileSync("/usr/bin/echo", ECHO);
Deno.chmodSync(ECHO, 0o755);

for (const as of USERS) {
  Deno.test(`[${as}] without memfd_exec = false, an ELF in a memfd runs by execveat(AT_EMPTY_PATH) and by /proc/self/fd (the attack), though its file may not be executed`, async () => {
    const direct = await sandboxed(policy(), [ECHO, "direct"], { as });
    assert.equal(direct.code, 126, direct.stderr); // EACCES from Landlock
    for (const route of [[], ["proc"]]) {
      const r = await sandboxed(policy(), [ATTACK, "plain", ECHO, ...route], {
        as,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.match(r.stdout, /^escaped$/m, `route ${route}: ${r.stdout}`);
    }
  });

  Deno.test(`[${as}] memfd_exec = false: memfd_create without MFD_NOEXEC_SEAL fails with EPERM, with MFD_EXEC too`, async () => {
    for (const mode of ["plain", "exec"]) {
      const r = await sandboxed(policy(false), [ATTACK, mode, ECHO], { as });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), { memfd_create: "EPERM" });
    }
  });

  Deno.test(`[${as}] memfd_exec = false: a sealed memfd is created but cannot be made executable or executed by either route (EACCES)`, async () => {
    const both = await sandboxed(policy(false), [ATTACK, "sealed", ECHO], {
      as,
    });
    assert.equal(both.code, 0, both.stderr);
    assert.deepEqual(probeResults(both.stdout), {
      memfd_create: "OK",
      "fchmod +x": "EPERM",
      "execveat AT_EMPTY_PATH": "EACCES",
      "execve /proc/self/fd": "EACCES",
    });
    const proc = await sandboxed(
      policy(false),
      [ATTACK, "sealed", ECHO, "proc"],
      { as },
    );
    assert.deepEqual(probeResults(proc.stdout), {
      memfd_create: "OK",
      "fchmod +x": "EPERM",
      "execve /proc/self/fd": "EACCES",
    });
    assert.doesNotMatch(both.stdout + proc.stdout, /escaped/);
  });
}

/**
 * `policy from-pod --base` writes the base out with the Pod's bind rules
 * added; before the fix it dropped `[seccomp] memfd_exec = false` (from
 * every starter policy too), and the policy it wrote let the memfd run.
 */
testAtAbi(
  4,
  "bind_tcp",
  "a policy from-pod writes keeps the base's memfd_exec = false: memfd_create fails with EPERM",
  async () => {
    const out = await landlockd([
      "policy",
      "from-pod",
      `${RUN_ROOT}tests/fixtures/pod-web.yaml`,
      "--base",
      policy(false),
    ]);
    assert.equal(out.code, 0, out.stderr);
    assert.match(out.stdout, /\n\[seccomp\]\n(.+\n)*memfd_exec = false\n/);
    const written = policyFile(out.stdout);
    const r = await sandboxed(written, [ATTACK, "plain", ECHO]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(probeResults(r.stdout), { memfd_create: "EPERM" });
    // The same base without the setting: the attack runs (what it closes).
    const open = await landlockd([
      "policy",
      "from-pod",
      `${RUN_ROOT}tests/fixtures/pod-web.yaml`,
      "--base",
      policy(),
    ]);
    const escaped = await sandboxed(policyFile(open.stdout), [
      ATTACK,
      "plain",
      ECHO,
    ]);
    assert.match(escaped.stdout, /^escaped$/m);
  },
);
