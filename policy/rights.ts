/**
 * Landlock access rights and scopes, with the ABI that introduced each.
 * Pure data: nothing here talks to the kernel.
 *
 * @module
 */

/** One Landlock ABI version and the kernel that added it. */
export interface AbiVersion {
  abi: number;
  kernel: string;
  adds: string;
}

/** Landlock ABI versions (the kernel's `LANDLOCK_CREATE_RULESET_VERSION`). */
export const ABI_VERSIONS: readonly AbiVersion[] = [
  { abi: 1, kernel: "5.13", adds: "filesystem access rights" },
  {
    abi: 2,
    kernel: "5.19",
    adds: "refer (rename and link across directories)",
  },
  { abi: 3, kernel: "6.2", adds: "truncate" },
  { abi: 4, kernel: "6.7", adds: "TCP bind_tcp and connect_tcp" },
  { abi: 5, kernel: "6.10", adds: "ioctl_dev" },
  { abi: 6, kernel: "6.12", adds: "scopes: abstract_unix_socket, signal" },
  {
    abi: 7,
    kernel: "6.15",
    adds: "audit log flags for landlock_restrict_self",
  },
];

/** The newest ABI landlockd knows; newer kernels are treated as this one. */
export const NEWEST_KNOWN_ABI = ABI_VERSIONS[ABI_VERSIONS.length - 1].abi;

/** Clamps the kernel's ABI number to what landlockd knows (≤ 0: none). */
export function clampAbi(n: number): number {
  if (!Number.isInteger(n) || n <= 0) return 0;
  return Math.min(n, NEWEST_KNOWN_ABI);
}

/** The kernel version that added `abi`. */
export function kernelForAbi(abi: number): string {
  return ABI_VERSIONS.find((v) => v.abi === abi)?.kernel ?? "?";
}

/** A right: its bit in the kernel's mask and the ABI that added it. */
export interface Right {
  bit: number;
  abi: number;
}

/** `LANDLOCK_ACCESS_FS_*`, by the policy's lower-case names. */
export const FS_RIGHTS = {
  execute: { bit: 0, abi: 1 },
  write_file: { bit: 1, abi: 1 },
  read_file: { bit: 2, abi: 1 },
  read_dir: { bit: 3, abi: 1 },
  remove_dir: { bit: 4, abi: 1 },
  remove_file: { bit: 5, abi: 1 },
  make_char: { bit: 6, abi: 1 },
  make_dir: { bit: 7, abi: 1 },
  make_reg: { bit: 8, abi: 1 },
  make_sock: { bit: 9, abi: 1 },
  make_fifo: { bit: 10, abi: 1 },
  make_block: { bit: 11, abi: 1 },
  make_sym: { bit: 12, abi: 1 },
  refer: { bit: 13, abi: 2 },
  truncate: { bit: 14, abi: 3 },
  ioctl_dev: { bit: 15, abi: 5 },
} as const satisfies Record<string, Right>;

/** `LANDLOCK_ACCESS_NET_*` */
export const NET_RIGHTS = {
  bind_tcp: { bit: 0, abi: 4 },
  connect_tcp: { bit: 1, abi: 4 },
} as const satisfies Record<string, Right>;

/** `LANDLOCK_SCOPE_*` */
export const SCOPES = {
  abstract_unix_socket: { bit: 0, abi: 6 },
  signal: { bit: 1, abi: 6 },
} as const satisfies Record<string, Right>;

/** A filesystem right's name. */
export type FsRight = keyof typeof FS_RIGHTS;
/** A network right's name. */
export type NetRight = keyof typeof NET_RIGHTS;
/** A scope's name. */
export type Scope = keyof typeof SCOPES;

/** Filesystem right names, in bit order. */
export const FS_RIGHT_NAMES = Object.keys(FS_RIGHTS) as [FsRight, ...FsRight[]];
/** Network right names, in bit order. */
export const NET_RIGHT_NAMES = Object.keys(NET_RIGHTS) as [
  NetRight,
  ...NetRight[],
];
/** Scope names, in bit order. */
export const SCOPE_NAMES = Object.keys(SCOPES) as [Scope, ...Scope[]];

/** Rights that apply to a file that is not a directory. */
export const FILE_RIGHTS: readonly FsRight[] = [
  "execute",
  "write_file",
  "read_file",
  "truncate",
  "ioctl_dev",
];

/** Rights that only read (rust-landlock's `from_read`). */
export const FS_READ_RIGHTS: readonly FsRight[] = [
  "execute",
  "read_file",
  "read_dir",
];

/** Every filesystem right the given ABI supports. */
export function fsRightsForAbi(abi: number): FsRight[] {
  return FS_RIGHT_NAMES.filter((r) => FS_RIGHTS[r].abi <= abi);
}

/** Rights that change the filesystem: all minus the read rights. */
export function fsWriteRightsForAbi(abi: number): FsRight[] {
  return fsRightsForAbi(abi).filter((r) => !FS_READ_RIGHTS.includes(r));
}

/** The kernel bitmask of a list of rights from one table. */
export function toMask<K extends string>(
  table: Record<K, Right>,
  names: readonly K[],
): bigint {
  let mask = 0n;
  for (const n of names) mask |= 1n << BigInt(table[n].bit);
  return mask;
}

/** Names sorted into the table's bit order, without duplicates. */
export function inBitOrder<K extends string>(
  table: Record<K, Right>,
  names: Iterable<K>,
): K[] {
  return [...new Set(names)].sort((a, b) => table[a].bit - table[b].bit);
}
