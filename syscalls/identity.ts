/**
 * The calling thread's filesystem identity: fsuid, fsgid and supplementary
 * groups. The switch itself is C's `ll_resolve_as` (ffi/spawn.c), the same
 * code the spawned child and the mount helper run: raw system calls change
 * only the calling thread's credentials (glibc's wrappers would change
 * every thread's), and the real and effective ids stay as they are, so a
 * broker can still read its sandbox's memory.
 *
 * @module
 */

import { addressOf, cstring, library, NR } from "../ffi/mod.ts";
import { AT_FDCWD, O_CLOEXEC, O_PATH } from "./constants.ts";
import { SyscallError } from "./errno.ts";
import type { Identity } from "./process.ts";
import { close, rawSyscall, unwrap } from "./sys.ts";

/** A filesystem identity: uid, gid and supplementary groups. */
export type Ids = Identity;

/** Sets this thread's groups, fsgid and fsuid; throws if refused. */
export function setThreadFsIds(ids: Ids): void {
  const list = Uint32Array.from(ids.groups.length ? ids.groups : [0]);
  const r = library().ll_thread_resolve_as(
    ids.uid,
    ids.gid,
    list,
    ids.groups.length,
  );
  if (r < 0) throw new SyscallError(`act as uid ${ids.uid}`, -r);
}

/** This thread's supplementary groups (at most NGROUPS_MAX, 65536). */
export function threadGroups(): number[] {
  const list = new Uint32Array(65536);
  const n = unwrap(
    rawSyscall(NR.getgroups, list.length, addressOf(list)),
    "getgroups",
  );
  return [...list.subarray(0, n)];
}

/** This thread's filesystem identity now. */
export function threadFsIds(): Ids {
  // setfsuid(-1) and setfsgid(-1) change nothing and return the current id.
  return {
    uid: rawSyscall(NR.setfsuid, -1),
    gid: rawSyscall(NR.setfsgid, -1),
    groups: threadGroups(),
  };
}

/**
 * `fn()` with this thread's filesystem identity set to `ids` (unchanged
 * when `ids` is undefined), then set back. `fn` must be synchronous:
 * nothing else may run on this thread meanwhile. Setting back cannot fail
 * for a process that could switch (root keeps CAP_SETUID and CAP_SETGID
 * under any fsuid); if it did, the SyscallError propagates.
 */
export function withFsIdentity<T>(ids: Ids | undefined, fn: () => T): T {
  if (!ids) return fn();
  const own = threadFsIds();
  try {
    setThreadFsIds(ids);
    return fn();
  } finally {
    setThreadFsIds(own);
  }
}

/** The errno of an O_PATH open of each path as `ids` (0: reachable). */
export function reachAs(ids: Ids, paths: readonly string[]): number[] {
  if (!paths.length) return [];
  const names = paths.map((p) => cstring(p));
  return withFsIdentity(ids, () =>
    names.map((name) => {
      const fd = rawSyscall(
        NR.openat,
        AT_FDCWD,
        addressOf(name),
        O_PATH | O_CLOEXEC,
      );
      if (fd < 0) return -fd;
      close(fd);
      return 0;
    }));
}
