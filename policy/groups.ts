/**
 * Right groups: short names for common sets of filesystem rights, accepted
 * in `allowed_access` and `handled_access_fs` beside the kernel's rights.
 * A group expands, when the policy is validated, to exactly the rights
 * listed here; after that it is as if those rights had been written out,
 * so a group downgrades on an older kernel exactly as its rights do
 * (policy/plan.ts).
 *
 * @module
 */

import { FS_RIGHT_NAMES, FS_RIGHTS, type FsRight } from "./rights.ts";

const RO: readonly FsRight[] = ["read_file", "read_dir"];
const RX: readonly FsRight[] = [...RO, "execute"];
const RW: readonly FsRight[] = [
  ...RO,
  "write_file",
  "truncate",
  "make_reg",
  "make_dir",
  "make_sym",
  "make_sock",
  "make_fifo",
  "remove_file",
  "remove_dir",
  "refer",
];

/** Each group and the rights it stands for. */
export const FS_GROUPS = {
  /** Read files and list directories. */
  ro: RO,
  /** `ro` plus execute. */
  rx: RX,
  /** `ro` plus creating, changing, renaming and removing files. */
  rw: RW,
  /** Every filesystem right this format knows. */
  all: FS_RIGHT_NAMES,
} as const satisfies Record<string, readonly FsRight[]>;

/** A group's name. */
export type FsGroup = keyof typeof FS_GROUPS;

/** The group names, in the order documented. */
export const FS_GROUP_NAMES = Object.keys(FS_GROUPS) as [
  FsGroup,
  ...FsGroup[],
];

/** A right or a group, as a policy may write it. */
export type FsRightOrGroup = FsRight | FsGroup;

/** Whether `name` is a group. */
export function isFsGroup(name: string): name is FsGroup {
  return Object.hasOwn(FS_GROUPS, name);
}

/**
 * Rights and groups → rights, in the order written, without duplicates:
 * `["ro", "write_file"]` → `["read_file", "read_dir", "write_file"]`.
 */
export function expandFsRights(names: readonly FsRightOrGroup[]): FsRight[] {
  return [...new Set(names.flatMap((n) => isFsGroup(n) ? FS_GROUPS[n] : [n]))];
}

/** The newest Landlock ABI any of the group's rights needs. */
export function groupNeedsAbi(group: FsGroup): number {
  return Math.max(...FS_GROUPS[group].map((r) => FS_RIGHTS[r].abi));
}
