/**
 * System call numbers that landlockd's own code calls, per architecture.
 *
 * @module
 */

/** The system calls landlockd makes itself. */
export type OwnSyscall =
  | "read"
  | "write"
  | "close"
  | "openat"
  | "landlock_create_ruleset"
  | "landlock_add_rule"
  | "pidfd_send_signal"
  | "ioctl"
  | "socket"
  | "pidfd_open"
  | "pidfd_getfd"
  | "kcmp"
  | "eventfd2"
  | "ppoll"
  | "process_vm_readv"
  | "openat2"
  | "mkdirat"
  | "unlinkat"
  | "renameat2"
  | "linkat"
  | "symlinkat"
  | "prctl"
  | "seccomp"
  | "memfd_create"
  | "pipe2"
  | "lseek"
  | "shutdown"
  | "getsockopt"
  | "fcntl"
  | "epoll_create1"
  | "setfsuid"
  | "setfsgid"
  | "setgroups"
  | "getgroups"
  | "rt_sigaction"
  | "statx"
  | "connect"
  | "sendmmsg"
  | "process_vm_writev";

const X86_64: Record<OwnSyscall, number> = {
  read: 0,
  write: 1,
  close: 3,
  openat: 257,
  landlock_create_ruleset: 444,
  landlock_add_rule: 445,
  pidfd_send_signal: 424,
  ioctl: 16,
  socket: 41,
  pidfd_open: 434,
  pidfd_getfd: 438,
  kcmp: 312,
  eventfd2: 290,
  ppoll: 271,
  process_vm_readv: 310,
  openat2: 437,
  mkdirat: 258,
  unlinkat: 263,
  renameat2: 316,
  linkat: 265,
  symlinkat: 266,
  prctl: 157,
  seccomp: 317,
  memfd_create: 319,
  pipe2: 293,
  lseek: 8,
  shutdown: 48,
  getsockopt: 55,
  fcntl: 72,
  epoll_create1: 291,
  setfsuid: 122,
  setfsgid: 123,
  setgroups: 116,
  getgroups: 115,
  rt_sigaction: 13,
  statx: 332,
  connect: 42,
  sendmmsg: 307,
  process_vm_writev: 311,
};

const AARCH64: Record<OwnSyscall, number> = {
  read: 63,
  write: 64,
  close: 57,
  openat: 56,
  landlock_create_ruleset: 444,
  landlock_add_rule: 445,
  pidfd_send_signal: 424,
  ioctl: 29,
  socket: 198,
  pidfd_open: 434,
  pidfd_getfd: 438,
  kcmp: 272,
  eventfd2: 19,
  ppoll: 73,
  process_vm_readv: 270,
  openat2: 437,
  mkdirat: 34,
  unlinkat: 35,
  renameat2: 276,
  linkat: 37,
  symlinkat: 36,
  prctl: 167,
  seccomp: 277,
  memfd_create: 279,
  pipe2: 59,
  lseek: 62,
  shutdown: 210,
  getsockopt: 209,
  fcntl: 25,
  epoll_create1: 20,
  setfsuid: 151,
  setfsgid: 152,
  setgroups: 159,
  getgroups: 158,
  rt_sigaction: 134,
  statx: 291,
  connect: 203,
  sendmmsg: 269,
  process_vm_writev: 271,
};

/** Numbers for the architecture landlockd runs on. */
export const NR: Record<OwnSyscall, number> = Deno.build.arch === "aarch64"
  ? AARCH64
  : X86_64;
