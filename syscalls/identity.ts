/**
 * The calling thread's filesystem identity. Raw system calls change only
 * the calling thread's credentials (glibc's wrappers would change every
 * thread's), and fsuid/fsgid leave the real ids alone.
 *
 * @module
 */

import { addressOf, NR } from "../ffi/mod.ts";
import { rawSyscall, unwrap } from "./sys.ts";

/** A filesystem identity: uid, gid and supplementary groups. */
export type Ids = { uid: number; gid: number; groups: readonly number[] };

/** Sets this thread's groups, fsgid and fsuid; throws if refused. */
export function setThreadFsIds(ids: Ids): void {
  const list = Uint32Array.from(ids.groups.length ? ids.groups : [0]);
  unwrap(
    rawSyscall(NR.setgroups, ids.groups.length, addressOf(list)),
    "setgroups",
  );
  rawSyscall(NR.setfsgid, ids.gid);
  rawSyscall(NR.setfsuid, ids.uid);
  // setfsuid reports no errors: read it back (a refused id leaves the old one).
  if (rawSyscall(NR.setfsuid, -1) !== ids.uid) {
    throw new Error(`cannot act as uid ${ids.uid} on this thread`);
  }
}

/** This thread's supplementary groups. */
export function threadGroups(): number[] {
  const list = new Uint32Array(256);
  const n = unwrap(
    rawSyscall(NR.getgroups, list.length, addressOf(list)),
    "getgroups",
  );
  return [...list.subarray(0, n)];
}
