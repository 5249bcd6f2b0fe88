/**
 * File-descriptor flags: blocking mode and close-on-exec.
 *
 * @module
 */

import { NR } from "../ffi/mod.ts";
import { F_GETFL, F_SETFL, O_NONBLOCK } from "./constants.ts";
import { rawSyscall, unwrap } from "./sys.ts";

const F_SETFD = 2;
const FD_CLOEXEC = 1;

/**
 * Makes reads (and accepts) on `fd` return EAGAIN instead of blocking, or
 * with `on` false makes them block again.
 */
export function setNonBlocking(
  fd: number,
  on = true,
  known?: number,
): void {
  // `known`: the fd's status flags when the caller made it and nothing else
  // could change them since (a pipe end it just created), saving F_GETFL.
  const flags = known ??
    unwrap(rawSyscall(NR.fcntl, fd, F_GETFL), "fcntl(F_GETFL)");
  unwrap(
    rawSyscall(
      NR.fcntl,
      fd,
      F_SETFL,
      on ? flags | O_NONBLOCK : flags & ~O_NONBLOCK,
    ),
    "fcntl(F_SETFL)",
  );
}

/** Sets FD_CLOEXEC on `fd`, ignoring errors. */
export function setCloseOnExec(fd: number): void {
  rawSyscall(NR.fcntl, fd, F_SETFD, FD_CLOEXEC);
}

/** Clears O_NONBLOCK on `fd`; returns an errno, or 0. */
export function clearNonBlockingRaw(fd: number): number {
  const fl = rawSyscall(NR.fcntl, fd, F_GETFL);
  if (fl < 0) return -fl;
  const r = rawSyscall(NR.fcntl, fd, F_SETFL, fl & ~O_NONBLOCK);
  return r < 0 ? -r : 0;
}
