/**
 * Files, pipes and memfds: the few file calls Deno's own API does not give
 * as raw fds.
 *
 * @module
 */

import { addressOf, cstring, NR } from "../ffi/mod.ts";
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
    if (bytes.length) writeAll(fd, Uint8Array.from(bytes));
    unwrap(rawSyscall(NR.lseek, fd, 0, SEEK_SET), "lseek");
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
