/**
 * Byte layouts of every struct landlockd hands to the kernel or to its C
 * library: offsets are explicit, integers little-endian (x86_64 and aarch64).
 * tests/layout_test.ts checks them against ffi/layout_check.c.
 *
 * @module
 */

/** `struct landlock_ruleset_attr` (ABI 6: three u64 fields). */
export const landlockRulesetAttr = {
  size: 24,
  handled_access_fs: 0,
  handled_access_net: 8,
  scoped: 16,
} as const;

/** `struct landlock_path_beneath_attr`, packed. */
export const landlockPathBeneathAttr = {
  size: 12,
  allowed_access: 0,
  parent_fd: 8,
} as const;

/** `struct landlock_net_port_attr`. */
export const landlockNetPortAttr = {
  size: 16,
  allowed_access: 0,
  port: 8,
} as const;

/** `struct sock_fprog` on a 64-bit kernel. */
export const sockFprog = { size: 16, len: 0, filter: 8 } as const;

/** `struct ll_spawn_req` from ffi/landlockd.h. */
export const spawnReq = {
  size: 96,
  paths: 0,
  argv: 8,
  envp: 16,
  layer_fds: 24,
  keep_fds: 32,
  cwd: 40,
  seccomp_prog: 48,
  n_layers: 56,
  n_keep: 60,
  stdio: 64,
  flags: 76,
  seccomp_flags: 80,
  restrict_flags: 84,
  sig_ignore: 88,
} as const;

/** Fields of ll_spawn()'s `int32_t out[6]`. */
export const spawnOut = {
  pid: 0,
  pidfd: 1,
  step: 2,
  errno: 3,
  listener: 4,
  length: 6,
} as const;

/** `enum ll_step` from ffi/landlockd.h, by number. */
export const spawnSteps = [
  "none",
  "signals",
  "pdeathsig",
  "stdio",
  "fds",
  "mounts",
  "cwd",
  "no_new_privs",
  "landlock",
  "seccomp",
  "exec",
] as const;

/** One step of the child's fixed sequence. */
export type SpawnStep = typeof spawnSteps[number];

/** `LL_SPAWN_NO_NEW_PRIVS` */
export const SPAWN_NO_NEW_PRIVS = 1;

/** A zeroed buffer with a little-endian view. */
export function struct(size: number): [Uint8Array<ArrayBuffer>, DataView] {
  const bytes = new Uint8Array(size);
  return [bytes, new DataView(bytes.buffer)];
}
