/**
 * The calling thread's filesystem identity. Raw system calls change only
 * the calling thread's credentials (glibc's wrappers would change every
 * thread's), and fsuid/fsgid leave the real ids alone.
 *
 * @module
 */

import { addressOf, libraryBound, NR } from "../ffi/mod.ts";
import { SyscallError } from "./errno.ts";
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

/** The errno of an O_PATH open of each path as `ids` (0: reachable). */
export function reachAs(ids: Ids, paths: readonly string[]): number[] {
  if (!paths.length) return [];
  const encoder = new TextEncoder();
  const chunks = paths.map((p) => {
    if (p.includes("\0")) throw new TypeError(`"${p}" contains a NUL byte`);
    return encoder.encode(`${p}\0`);
  });
  const blob = new Uint8Array(chunks.reduce((n, c) => n + c.length, 1));
  let at = 0;
  for (const c of chunks) {
    blob.set(c, at);
    at += c.length;
  }
  const groups = Uint32Array.from(ids.groups.length ? ids.groups : [0]);
  const errs = new Int32Array(paths.length);
  const r = libraryBound().ll_reach_as(
    ids.uid,
    ids.gid,
    groups,
    ids.groups.length,
    blob,
    errs,
  );
  if (r < 0) throw new SyscallError(`act as uid ${ids.uid}`, -r);
  return [...errs];
}
