/**
 * A direct run's C calls (ffi/short_run.c): the `_r` variants return what
 * the plain functions return, as the one member of `struct ll_result`. The
 * CLI tests (process_test.ts and others) run every direct run through them.
 */
import assert from "node:assert/strict";
import { library, NR } from "../ffi/mod.ts";
import { pathMissing, resultValue } from "../syscalls/sys.ts";
import { readNamedPolicy } from "../policy/source.ts";

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

Deno.test("pathMissing is true only where the kernel says ENOENT", () => {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-missing-" });
  try {
    Deno.writeTextFileSync(`${dir}/a.toml`, "version = 1\n");
    Deno.symlinkSync(`${dir}/gone`, `${dir}/dangling`);
    assert.equal(pathMissing(`${dir}/none.toml`), true);
    assert.equal(pathMissing(`${dir}/dangling`), true);
    assert.equal(pathMissing(`${dir}/a.toml`), false);
    assert.equal(pathMissing(dir), false);
    // ENOTDIR: read as before, which says so precisely.
    assert.equal(pathMissing(`${dir}/a.toml/x`), false);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("a named policy read with the probe is the one read without it", () => {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-missing-" });
  const was = Deno.env.get("LANDLOCKD_POLICY_PATH");
  try {
    Deno.writeTextFileSync(`${dir}/ci-default.toml`, "version = 1\n");
    Deno.env.set("LANDLOCKD_POLICY_PATH", `/nonexistent-landlockd:${dir}`);
    assert.deepEqual(
      readNamedPolicy("ci-default", pathMissing),
      readNamedPolicy("ci-default"),
    );
    assert.deepEqual(
      readNamedPolicy("hermetic-build", pathMissing),
      readNamedPolicy("hermetic-build"),
    );
  } finally {
    if (was === undefined) Deno.env.delete("LANDLOCKD_POLICY_PATH");
    else Deno.env.set("LANDLOCKD_POLICY_PATH", was);
    Deno.removeSync(dir, { recursive: true });
  }
});
