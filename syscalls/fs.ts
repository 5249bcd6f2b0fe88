/**
 * Files, pipes and memfds: the few file calls Deno's own API does not give
 * as raw fds.
 *
 * @module
 */

import { addressOf, cstring, NR, openHow, struct } from "../ffi/mod.ts";
import {
  AT_FDCWD,
  O_APPEND,
  O_CLOEXEC,
  O_CREAT,
  O_WRONLY,
} from "./constants.ts";
import { close, rawSyscall, unwrap, writeAll } from "./sys.ts";

const SEEK_SET = 0;
const MFD_CLOEXEC = 1;

/** A close-on-exec pipe: [read end, write end]. */
export function pipe(): [number, number] {
  const fds = new Int32Array(2);
  unwrap(rawSyscall(NR.pipe2, addressOf(fds), O_CLOEXEC), "pipe2");
  return [fds[0], fds[1]];
}

/** A close-on-exec memfd named `name` holding `bytes`, read from the start. */
export function memfdWith(name: string, bytes: Uint8Array): number {
  const fd = unwrap(
    rawSyscall(NR.memfd_create, addressOf(cstring(name)), MFD_CLOEXEC),
    "memfd_create",
  );
  try {
    // An empty memfd is already read from its start: no lseek.
    if (bytes.length) {
      writeAll(fd, Uint8Array.from(bytes));
      unwrap(rawSyscall(NR.lseek, fd, 0, SEEK_SET), "lseek");
    }
  } catch (e) {
    close(fd);
    throw e;
  }
  return fd;
}

/** Reads up to `buf.length` bytes from `fd`: the count, 0 at end, or -errno. */
export function readRaw(fd: number, buf: Uint8Array<ArrayBuffer>): number {
  return rawSyscall(NR.read, fd, addressOf(buf), buf.length);
}

/**
 * Opens `path` for appending, created with `mode` if missing: the fd, or
 * -errno.
 */
export function openAppendRaw(path: string, mode: number): number {
  return rawSyscall(
    NR.openat,
    AT_FDCWD,
    addressOf(cstring(path)),
    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
    mode,
  );
}

const how = struct(openHow.size);
const howAddr = addressOf(how[0]);

/**
 * openat2 with a `struct open_how` of `flags`, `mode` and `resolve`: the
 * fd, or -errno. The struct is reused: one call at a time per thread.
 */
export function openat2Raw(
  dirfd: number,
  path: string,
  flags: number,
  mode: number,
  resolve: number,
): number {
  const [, view] = how;
  view.setBigUint64(openHow.flags, BigInt(flags), true);
  view.setBigUint64(openHow.mode, BigInt(mode), true);
  view.setBigUint64(openHow.resolve, BigInt(resolve), true);
  const p = cstring(path);
  return rawSyscall(NR.openat2, dirfd, addressOf(p), howAddr, openHow.size);
}

/** A NUL-terminated name for the *at calls below. */
export type CName = Uint8Array<ArrayBuffer>;

/** The NUL-terminated form of `name`. */
export function cname(name: string): CName {
  return cstring(name);
}

/** mkdirat: 0 or -errno. */
export function mkdiratRaw(dirfd: number, name: CName, mode: number): number {
  return rawSyscall(NR.mkdirat, dirfd, addressOf(name), mode);
}

/** unlinkat (AT_REMOVEDIR in `flags` for a directory): 0 or -errno. */
export function unlinkatRaw(dirfd: number, name: CName, flags: number): number {
  return rawSyscall(NR.unlinkat, dirfd, addressOf(name), flags);
}

/** symlinkat: 0 or -errno. */
export function symlinkatRaw(
  target: CName,
  dirfd: number,
  name: CName,
): number {
  return rawSyscall(NR.symlinkat, addressOf(target), dirfd, addressOf(name));
}

/** renameat2: 0 or -errno. */
export function renameat2Raw(
  fromDir: number,
  from: CName,
  toDir: number,
  to: CName,
  flags: number,
): number {
  return rawSyscall(
    NR.renameat2,
    fromDir,
    addressOf(from),
    toDir,
    addressOf(to),
    flags,
  );
}

/** linkat: 0 or -errno. */
export function linkatRaw(
  fromDir: number,
  from: CName,
  toDir: number,
  to: CName,
  flags: number,
): number {
  return rawSyscall(
    NR.linkat,
    fromDir,
    addressOf(from),
    toDir,
    addressOf(to),
    flags,
  );
}
