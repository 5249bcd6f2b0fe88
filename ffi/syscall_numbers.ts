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
  | "pidfd_send_signal";

const X86_64: Record<OwnSyscall, number> = {
  read: 0,
  write: 1,
  close: 3,
  openat: 257,
  landlock_create_ruleset: 444,
  landlock_add_rule: 445,
  pidfd_send_signal: 424,
};

const AARCH64: Record<OwnSyscall, number> = {
  read: 63,
  write: 64,
  close: 57,
  openat: 56,
  landlock_create_ruleset: 444,
  landlock_add_rule: 445,
  pidfd_send_signal: 424,
};

/** Numbers for the architecture landlockd runs on. */
export const NR: Record<OwnSyscall, number> = Deno.build.arch === "aarch64"
  ? AARCH64
  : X86_64;
