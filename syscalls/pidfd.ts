/**
 * pidfds: signal a process, or fetch and compare one of its fds, without
 * racing a reused pid.
 *
 * @module
 */

import { NR } from "../ffi/mod.ts";
import { close, rawSyscall } from "./sys.ts";

/** SIGKILL. */
export const SIGKILL = 9;
const KCMP_FILE = 0;
/** `PIDFD_THREAD` (= O_EXCL): a pidfd for one thread. */
const PIDFD_THREAD = 0o200;
const EINVAL = 22;

/** Sends `signal` through `pidfd`; whether the kernel took it. */
export function signalPidfd(pidfd: number, signal: number): boolean {
  return rawSyscall(NR.pidfd_send_signal, pidfd, signal, 0, 0) === 0;
}

/**
 * A copy of `pid`'s fd `fd` in this process (pidfd_open + pidfd_getfd),
 * or undefined if it cannot be had. The caller closes it.
 */
export function fetchFd(pid: number, fd: number): number | undefined {
  // `pid` may be a thread other than the leader (a seccomp notification
  // names the thread): PIDFD_THREAD (Linux 6.9) opens it; older kernels
  // say EINVAL, and only a leader can be opened.
  let pidfd = rawSyscall(NR.pidfd_open, pid, PIDFD_THREAD);
  if (pidfd === -EINVAL) pidfd = rawSyscall(NR.pidfd_open, pid, 0);
  if (pidfd < 0) return undefined;
  const theirs = rawSyscall(NR.pidfd_getfd, pidfd, fd, 0);
  close(pidfd);
  return theirs < 0 ? undefined : theirs;
}

/** Whether two of this process's fds refer to the same open file (kcmp). */
export function sameFile(a: number, b: number): boolean {
  const self = Deno.pid;
  return rawSyscall(NR.kcmp, self, self, KCMP_FILE, a, b) === 0;
}
