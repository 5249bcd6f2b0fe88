/**
 * Attack: a userfaultfd lets a sandbox stall any read of its memory, such
 * as the broker's `process_vm_readv` of a path (baseline_uffd.c). The
 * baseline refuses `userfaultfd(2)` with ENOSYS and
 * `ioctl(USERFAULTFD_IOC_NEW)` (the /dev/userfaultfd route) with EPERM
 * unless the policy says `[seccomp] allow = ["userfaultfd"]`; opening
 * /dev/userfaultfd itself takes a Landlock rule granting write_file on it
 * (ci-default has none). The opt-in runs prove the tests see the
 * difference.
 */

import assert from "node:assert/strict";
import {
  landlockd,
  outsideTmpDir,
  policyFile,
  probeResults,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";
import { needs, requiring } from "../fresh_needs.ts";

const ATTACK = await compileAttack("baseline_uffd");

/** No Landlock rule on opening files (only make_block is handled), so the open of /dev/userfaultfd is up to DAC. */
const OPEN_FILES =
  `version = 1\n[[fs_layer]]\nhandled_access_fs = ["make_block"]\n`;
const OPT_IN = `${OPEN_FILES}[seccomp]\nallow = ["userfaultfd"]\n`;

for (const as of USERS) {
  // What the kernel gives this user: root gets both kinds, nobody only the
  // user-mode kind (vm.unprivileged_userfaultfd=0 here).
  const unprivileged = as === "nobody" ||
    (as === "self" && Deno.uid() !== 0);
  const fullUffd = unprivileged ? "EPERM" : "OK";

  Deno.test(
    `[${as}] userfaultfd(2) fails with ENOSYS in the baseline, and works with [seccomp] allow = ["userfaultfd"]`,
    async () => {
      const refused = await sandboxed(policyFile(OPEN_FILES), [
        ATTACK,
        "syscall",
      ], { as });
      assert.deepEqual(probeResults(refused.stdout), {
        "userfaultfd": "ENOSYS",
        "userfaultfd user-mode": "ENOSYS",
      }, refused.stderr);
      const allowed = await sandboxed(policyFile(OPT_IN), [ATTACK, "syscall"], {
        as,
      });
      assert.deepEqual(probeResults(allowed.stdout), {
        "userfaultfd": fullUffd,
        "userfaultfd user-mode": "OK",
      }, allowed.stderr);
    },
  );

  Deno.test(
    `[${as}] ioctl(USERFAULTFD_IOC_NEW) fails with EPERM in the baseline, and reaches the kernel with the opt-in`,
    async () => {
      const refused = await sandboxed(policyFile(OPEN_FILES), [ATTACK, "dev"], {
        as,
      });
      assert.deepEqual(
        probeResults(refused.stdout),
        unprivileged
          ? {
            "ioctl -1 USERFAULTFD_IOC_NEW": "EPERM",
            // 0600 root: DAC refuses nobody before anything else.
            "open /dev/userfaultfd": "EACCES",
          }
          : {
            "ioctl -1 USERFAULTFD_IOC_NEW": "EPERM",
            "open /dev/userfaultfd": "OK",
            "ioctl USERFAULTFD_IOC_NEW": "EPERM",
          },
        refused.stderr,
      );
      const allowed = await sandboxed(policyFile(OPT_IN), [ATTACK, "dev"], {
        as,
      });
      assert.deepEqual(
        probeResults(allowed.stdout),
        unprivileged
          ? {
            "ioctl -1 USERFAULTFD_IOC_NEW": "EBADF",
            "open /dev/userfaultfd": "EACCES",
          }
          : {
            "ioctl -1 USERFAULTFD_IOC_NEW": "EBADF",
            "open /dev/userfaultfd": "OK",
            "ioctl USERFAULTFD_IOC_NEW": "OK",
          },
        allowed.stderr,
      );
    },
  );
}

Deno.test({
  ...requiring(
    "[root] opening /dev/userfaultfd takes a Landlock rule: ci-default refuses it with EACCES, even with the opt-in",
    // nobody cannot open the 0600 device anyway (tested above).
    Deno.uid() !== 0
      ? "needs root (nobody cannot open the 0600 device)"
      : undefined,
    needs.abi(3, "truncate (ci-default)"),
  ),
}, async () => {
  const ciDefault = new TextDecoder().decode(
    Deno.readFileSync(
      new URL("../../policies/ci-default.toml", import.meta.url),
    ),
  );
  // ci-default has a [seccomp] table (memfd_exec): add the opt-in to it.
  assert.match(ciDefault, /^\[seccomp\]$/m);
  const policy = policyFile(
    ciDefault.replace(/^\[seccomp\]$/m, '[seccomp]\nallow = ["userfaultfd"]'),
    outsideTmpDir(), // ci-default writes /tmp
  );
  const r = await landlockd([
    "run",
    "--policy-file",
    policy,
    "--",
    ATTACK,
    "dev",
  ]);
  assert.deepEqual(probeResults(r.stdout), {
    "ioctl -1 USERFAULTFD_IOC_NEW": "EBADF",
    "open /dev/userfaultfd": "EACCES",
  }, r.stderr);
});
