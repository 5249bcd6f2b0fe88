/**
 * Byte layouts of every struct landlockd hands to the kernel or to its C
 * library, and every number shared with ffi/landlockd.h (steps, `out[]`
 * indices, flags, ops, limits): offsets are explicit, integers
 * little-endian (x86_64 and aarch64). tests/layout_test.ts checks each one
 * against what ffi/layout_check.c prints.
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

/**
 * A `struct sock_fprog` pointing at `filter` (BPF, 8 bytes per
 * instruction); keep `filter` reachable while the kernel reads it.
 */
export function sockFprogOf(
  filter: Uint8Array<ArrayBuffer>,
): Uint8Array<ArrayBuffer> {
  const [prog, view] = struct(sockFprog.size);
  view.setUint16(sockFprog.len, filter.length / 8, true);
  view.setBigUint64(
    sockFprog.filter,
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(filter))),
    true,
  );
  return prog;
}

/** `struct ll_spawn_req` from ffi/landlockd.h. */
export const spawnReq = {
  size: 160,
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
  mounts: 96,
  n_mounts: 104,
  clone_flags: 108,
  map_uid: 112,
  map_gid: 116,
  late_rules: 120,
  n_late_rules: 128,
  n_groups: 132,
  groups: 136,
  run_uid: 144,
  run_gid: 148,
  drop_caps: 152,
} as const;

/** `struct ll_late_rule` from ffi/landlockd.h. */
export const lateRule = {
  size: 24,
  path: 0,
  allowed_access: 8,
  layer: 16,
} as const;

/** `struct ll_mount` from ffi/landlockd.h. */
export const llMount = {
  size: 48,
  source: 0,
  target: 8,
  fstype: 16,
  data: 24,
  flags: 32,
  op: 40,
} as const;

/** `enum ll_mount_op` */
export const MOUNT_OPS = { mount: 1, rdonly: 2, pivot: 3 } as const;

/** `enum ll_spawn_out`: indices into ll_spawn()'s `int32_t out[length]`. */
export const spawnOut = {
  pid: 0,
  pidfd: 1,
  step: 2,
  errno: 3,
  listener: 4,
  detail: 5,
  helper: 6,
  length: 8,
} as const;

/** `struct ll_mount_req` from ffi/landlockd.h. */
export const mountReq = {
  size: 8464,
  op: 0,
  flags: 4,
  read_only: 8,
  attr_clr: 12,
  source: 16,
  target: 4112,
  data: 8208,
} as const;

/** `enum ll_mount_req_op` */
export const MOUNT_REQ_OPS = {
  tmpfs: 1,
  bind: 2,
  umount: 3,
  open_tree: 4,
  move_mount: 5,
  fsopen: 6,
  fsconfig: 7,
  fsmount: 8,
  setattr: 9,
} as const;

/** `LL_SPAWN_MOUNT_HELPER` */
export const SPAWN_MOUNT_HELPER = 2;

/** `LL_SPAWN_SET_IDS` */
export const SPAWN_SET_IDS = 4;

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
  "userns",
  "init",
  "rules",
  "ids",
  "caps",
] as const;

/** One step of the child's fixed sequence. */
export type SpawnStep = typeof spawnSteps[number];

/** `LL_SPAWN_NO_NEW_PRIVS` */
export const SPAWN_NO_NEW_PRIVS = 1;

/** Limits from ffi/landlockd.h, by their C names. */
export const limits = {
  /** How many brokers one thread may serve at once (ll_broker_next_any). */
  LL_BROKER_MAX: 64,
  /** The size of `ll_broker.path_out`. */
  LL_BROKER_PATH_SIZE: 4096,
  /** How many fds one ll_sock_send/ll_sock_recv passes at most. */
  LL_SOCK_MAX_FDS: 8,
  /** How many broker threads the remote-read watchdog can watch. */
  LL_WATCH_SLOTS: 256,
  /** The flags of the child's sendmsg handing the listener back. */
  LL_LISTENER_SEND_FLAGS: 0x40004000,
} as const;

/**
 * seccomp user-notification ioctls and flags (linux/seccomp.h), by their C
 * names: the C fast path and the TypeScript broker both answer with them.
 * The same on x86_64 and aarch64.
 */
export const seccompIoctls = {
  SECCOMP_IOCTL_NOTIF_SEND: 0xc0182101,
  SECCOMP_IOCTL_NOTIF_ID_VALID: 0x40082102,
  SECCOMP_IOCTL_NOTIF_ADDFD: 0x40182103,
  SECCOMP_USER_NOTIF_FLAG_CONTINUE: 1,
} as const;

/** A zeroed buffer with a little-endian view. */
export function struct(size: number): [Uint8Array<ArrayBuffer>, DataView] {
  const bytes = new Uint8Array(size);
  return [bytes, new DataView(bytes.buffer)];
}

/** `struct seccomp_notif` (with its `struct seccomp_data`). */
export const seccompNotif = {
  size: 80,
  id: 0,
  pid: 8,
  flags: 12,
  data_nr: 16,
  data_arch: 20,
  data_instruction_pointer: 24,
  data_args: 32,
} as const;

/** `struct seccomp_notif_resp` */
export const seccompNotifResp = {
  size: 24,
  id: 0,
  val: 8,
  error: 16,
  flags: 20,
} as const;

/** `struct seccomp_notif_addfd` */
export const seccompNotifAddfd = {
  size: 24,
  id: 0,
  flags: 8,
  srcfd: 12,
  newfd: 16,
  newfd_flags: 20,
} as const;

/** `struct open_how` (openat2) */
export const openHow = { size: 24, flags: 0, mode: 8, resolve: 16 } as const;

/** `struct mount_attr` (linux/mount.h, MOUNT_ATTR_SIZE_VER0). */
export const mountAttr = {
  size: 32,
  attr_set: 0,
  attr_clr: 8,
  propagation: 16,
  userns_fd: 24,
} as const;

/** `struct iovec` */
export const iovec = { size: 16, iov_base: 0, iov_len: 8 } as const;

/** `struct msghdr` (64-bit). */
export const msghdr = {
  size: 56,
  msg_name: 0,
  msg_namelen: 8,
  msg_iov: 16,
  msg_iovlen: 24,
  msg_control: 32,
  msg_controllen: 40,
  msg_flags: 48,
} as const;

/** `struct mmsghdr`: a msghdr and the bytes sent, padded to 64. */
export const mmsghdr = { size: 64, msg_hdr: 0, msg_len: 56 } as const;

/** `struct pollfd` */
export const pollfd = { size: 8, fd: 0, events: 4, revents: 6 } as const;

/** `struct ll_broker` from ffi/landlockd.h. */
export const brokerState = {
  size: 64,
  listener: 0,
  pidfd: 4,
  prefixes: 8,
  open_nrs: 16,
  path_args: 24,
  n_open: 32,
  listening: 36,
  continued: 40,
  sync_wake_tried: 48,
  path_len: 52,
  path_out: 56,
} as const;
