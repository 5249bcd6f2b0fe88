/**
 * Brokered mounts: which `mount(2)` and `umount2(2)` calls the broker
 * performs for the sandbox, through a helper in its mount namespace. Pure:
 * tested from a table in mounts_test.ts.
 *
 * Allowed: a tmpfs on a target listed in `[broker] mount_tmpfs` (always
 * nosuid and nodev; read-only and noexec if asked; options only `size`,
 * `nr_inodes`, `mode`), a bind mount of exactly a `mount_bind` pair (read-only
 * when declared so), and unmounting one of those targets. Everything else of
 * the mount family fails with the policy's errno. Paths are as the sandbox
 * sees them, and must be absolute.
 *
 * @module
 */

import { normalize } from "./paths.ts";

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_SILENT = 32768;
export const MS_BIND = 4096;
export const MS_REC = 16384;
const MS_MGC_MASK = 0xffff0000;
const MS_MGC_VAL = 0xc0ed0000;
export const MNT_DETACH = 2;

/** What the policy lets the sandbox mount. */
export interface MountGrants {
  tmpfs: string[];
  bind: { source: string; target: string; read_only: boolean }[];
  /** errno for everything refused (the policy's seccomp errno, default EPERM). */
  errno: number;
}

/** A request for the helper, or a refusal. */
export type MountAction =
  | { act: "deny"; errno: number }
  | {
    act: "helper";
    op: "tmpfs" | "bind" | "umount";
    source?: string;
    target: string;
    flags: number;
    read_only: boolean;
    data?: string;
  };

/** A mount-family call as decoded. */
export type MountCall =
  | {
    op: "mount";
    source?: string;
    path: string;
    fstype?: string;
    flags: number;
    data?: string;
  }
  | { op: "umount"; path: string; flags: number };

const TMPFS_OPTION = /^(size|nr_inodes|mode)=[0-9A-Za-z%]{1,20}$/;

function tmpfsOptionsOk(data: string | undefined): boolean {
  if (data === undefined || data === "") return true;
  return data.split(",").every((o) => TMPFS_OPTION.test(o));
}

/** Decides one call. */
export function decideMount(call: MountCall, grants: MountGrants): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (!call.path.startsWith("/")) return deny;
  const target = normalize(call.path);
  if (call.op === "umount") {
    const declared = grants.tmpfs.includes(target) ||
      grants.bind.some((b) => b.target === target);
    if (!declared || (call.flags & ~MNT_DETACH) !== 0) return deny;
    return {
      act: "helper",
      op: "umount",
      target,
      flags: call.flags,
      read_only: false,
    };
  }
  let flags = call.flags;
  if ((flags & MS_MGC_MASK) >>> 0 === MS_MGC_VAL) flags &= ~MS_MGC_MASK;
  flags &= ~MS_SILENT;
  if (flags & MS_BIND) {
    if ((flags & ~(MS_BIND | MS_REC)) !== 0 || !call.source?.startsWith("/")) {
      return deny;
    }
    const source = normalize(call.source);
    const pair = grants.bind.find((b) =>
      b.source === source && b.target === target
    );
    if (!pair) return deny;
    return {
      act: "helper",
      op: "bind",
      source,
      target,
      flags: 0,
      read_only: pair.read_only,
    };
  }
  const allowed = MS_RDONLY | MS_NOSUID | MS_NODEV | MS_NOEXEC;
  if (
    call.fstype !== "tmpfs" || (flags & ~allowed) !== 0 ||
    !grants.tmpfs.includes(target) || !tmpfsOptionsOk(call.data)
  ) {
    return deny;
  }
  return {
    act: "helper",
    op: "tmpfs",
    target,
    flags: flags & (MS_RDONLY | MS_NOEXEC),
    read_only: false,
    data: call.data,
  };
}
