/**
 * Runs a few synchronous filesystem calls as another user: this thread's
 * fsuid, fsgid and supplementary groups are switched, then restored. Raw
 * system calls change only the calling thread's credentials (glibc's
 * wrappers would change every thread's), and the real and effective ids
 * stay as they are.
 *
 * @module
 */

import { addressOf, NR } from "../ffi/mod.ts";
import { rawSyscall, unwrap } from "./sys.ts";
import type { Identity } from "./process.ts";

function setGroups(groups: readonly number[]): void {
  const list = Uint32Array.from(groups.length ? groups : [0]);
  unwrap(rawSyscall(NR.setgroups, groups.length, addressOf(list)), "setgroups");
}

function ownGroups(): number[] {
  const list = new Uint32Array(65536);
  const n = unwrap(
    rawSyscall(NR.getgroups, list.length, addressOf(list)),
    "getgroups",
  );
  return [...list.subarray(0, n)];
}

/**
 * `fn()` with this thread's filesystem identity set to `ids` (unchanged
 * when `ids` is undefined). `fn` must be synchronous: nothing else may run
 * on this thread meanwhile.
 */
export function withFsIdentity<T>(ids: Identity | undefined, fn: () => T): T {
  if (!ids) return fn();
  const groups = ownGroups();
  const fsgid = rawSyscall(NR.setfsgid, -1);
  const fsuid = rawSyscall(NR.setfsuid, -1);
  setGroups(ids.groups);
  rawSyscall(NR.setfsgid, ids.gid);
  rawSyscall(NR.setfsuid, ids.uid);
  try {
    // setfsuid reports no errors: read it back (a refused id keeps the old).
    if (rawSyscall(NR.setfsuid, -1) !== ids.uid) {
      throw new Error(`Cannot act as uid ${ids.uid} on this thread`);
    }
    return fn();
  } finally {
    rawSyscall(NR.setfsuid, fsuid);
    rawSyscall(NR.setfsgid, fsgid);
    setGroups(groups);
  }
}
