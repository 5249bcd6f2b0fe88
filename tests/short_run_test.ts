/**
 * A direct run's C calls (ffi/short_run.c): the `_r` variants return what
 * the plain functions return, as the one member of `struct ll_result`. The
 * CLI tests (process_test.ts and others) run every direct run through them.
 */
import assert from "node:assert/strict";
import { library, NR } from "../ffi/mod.ts";
import { resultValue } from "../syscalls/sys.ts";

const EBADF = 9;

Deno.test("a short run's syscall returns what ll_syscall returns, failures as -errno", () => {
  const lib = library();
  const call = (nr: number, a0 = 0n) => [
    Number(lib.ll_syscall(BigInt(nr), a0, 0n, 0n, 0n, 0n, 0n)),
    resultValue(lib.ll_syscall_r(BigInt(nr), a0, 0n, 0n, 0n, 0n, 0n)),
  ];
  const [groups, groupsR] = call(NR.getgroups);
  assert.ok(groups >= 0);
  assert.equal(groupsR, groups);
  assert.deepEqual(call(NR.close, -1n), [-EBADF, -EBADF]);
});

Deno.test("a short run's wait, forwarding and rule calls report as the plain ones", () => {
  const lib = library();
  // No such pidfd: the same -errno from both.
  assert.equal(resultValue(lib.ll_wait_r(-1)), lib.ll_wait_sync(-1));
  assert.ok(lib.ll_wait_sync(-1) < 0);
  assert.equal(resultValue(lib.ll_forwarded_r(15)), lib.ll_forwarded(15));
  assert.equal(resultValue(lib.ll_forward_to_r(-1)), 0);
  const empty = new Uint8Array(8);
  const out = new Int32Array(2);
  // Nothing to add to no ruleset: index 0 of 0 rules.
  assert.equal(
    resultValue(lib.ll_add_path_rules_r(-1, empty, 0, empty, empty, out)),
    lib.ll_add_path_rules(-1, empty, 0, empty, empty, out),
  );
});
