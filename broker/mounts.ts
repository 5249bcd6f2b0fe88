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

import {
  AT_RECURSIVE,
  FSCONFIG_CMD_CREATE,
  FSCONFIG_CMD_CREATE_EXCL,
  FSCONFIG_SET_STRING,
  FSMOUNT_CLOEXEC,
  FSOPEN_CLOEXEC,
  MNT_DETACH,
  MOUNT_ATTR_NODEV,
  MOUNT_ATTR_NOEXEC,
  MOUNT_ATTR_NOSUID,
  MOUNT_ATTR_RDONLY,
  MOVE_MOUNT_F_EMPTY_PATH,
  MS_BIND,
  MS_MGC_MASK,
  MS_MGC_VAL,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_RDONLY,
  MS_REC,
  MS_SILENT,
  O_CLOEXEC,
  OPEN_TREE_CLONE,
} from "../syscalls/constants.ts";
import { normalize } from "./paths.ts";

/** A declared bind: exactly this source on exactly this target. */
export interface BindGrant {
  source: string;
  target: string;
  read_only: boolean;
}

/** A declared mount object, built with fsopen/fsconfig/fsmount. */
export interface ObjectGrant {
  name: string;
  fs_type: "tmpfs" | "proc";
  attach: string[];
  /** `MOUNT_ATTR_*` mask the mount must carry, exactly. */
  attrs: number;
}

/** What the policy lets the sandbox mount. */
export interface MountGrants {
  tmpfs: string[];
  bind: BindGrant[];
  objects: ObjectGrant[];
  /** errno for everything refused (the policy's seccomp errno, default EPERM). */
  errno: number;
}

/** `MOUNT_ATTR_*` by the policy's names. */
export const MOUNT_ATTR = {
  readonly: MOUNT_ATTR_RDONLY,
  nosuid: MOUNT_ATTR_NOSUID,
  nodev: MOUNT_ATTR_NODEV,
  noexec: MOUNT_ATTR_NOEXEC,
} as const;

/** What an fd the broker handed to the sandbox stands for. */
export type Issued =
  | { kind: "tree"; bind: BindGrant }
  | { kind: "context"; objects: ObjectGrant[]; name?: string; created: boolean }
  | { kind: "mount"; object: ObjectGrant };

/** A request for the helper, or a refusal. */
export type MountAction =
  | { act: "deny"; errno: number }
  | {
    act: "helper";
    op:
      | "tmpfs"
      | "bind"
      | "umount"
      | "open_tree"
      | "move_mount"
      | "fsopen"
      | "fsconfig"
      | "fsmount"
      | "setattr";
    source?: string;
    target?: string;
    flags: number;
    read_only: boolean;
    /** setattr: MOUNT_ATTR_* to set and to clear. */
    attr_set?: number;
    attr_clr?: number;
    data?: string;
    /** What a returned fd will stand for. */
    issue?: Issued;
    /** The context's new state after fsconfig. */
    update?: Issued;
    /** Whether the fd injected into the sandbox is close-on-exec. */
    cloexec?: boolean;
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

const ALL_ATTRS = MOUNT_ATTR_RDONLY | MOUNT_ATTR_NOSUID | MOUNT_ATTR_NODEV |
  MOUNT_ATTR_NOEXEC;

const OBJECT_OPTION: Record<ObjectGrant["fs_type"], RegExp> = {
  tmpfs: /^(size|nr_inodes|mode)$/,
  proc: /^(hidepid|subset)$/,
};
const OPTION_VALUE = /^[0-9A-Za-z%]{1,20}$/;

/** `open_tree(OPEN_TREE_CLONE)` of a declared bind source. */
export function decideOpenTree(
  path: string,
  flags: number,
  grants: MountGrants,
): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (
    !(flags & OPEN_TREE_CLONE) ||
    (flags & ~(OPEN_TREE_CLONE | O_CLOEXEC | AT_RECURSIVE))
  ) {
    return deny;
  }
  if (!path.startsWith("/")) return deny;
  const bind = grants.bind.find((b) => b.source === normalize(path));
  if (!bind) return deny;
  return {
    act: "helper",
    op: "open_tree",
    source: bind.source,
    flags: flags & AT_RECURSIVE,
    read_only: false,
    issue: { kind: "tree", bind },
    cloexec: (flags & O_CLOEXEC) !== 0,
  };
}

/** `move_mount(fd, "", AT_FDCWD, target, MOVE_MOUNT_F_EMPTY_PATH)` of a broker-made mount. */
export function decideMoveMount(
  fromPath: string,
  target: string,
  flags: number,
  issued: Issued | undefined,
  grants: MountGrants,
): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (
    flags !== MOVE_MOUNT_F_EMPTY_PATH || fromPath !== "" ||
    !target.startsWith("/")
  ) {
    return deny;
  }
  const to = normalize(target);
  if (issued?.kind === "tree" && issued.bind.target === to) {
    return {
      act: "helper",
      op: "move_mount",
      target: to,
      flags: 0,
      read_only: issued.bind.read_only,
    };
  }
  if (issued?.kind === "mount" && issued.object.attach.includes(to)) {
    return {
      act: "helper",
      op: "move_mount",
      target: to,
      flags: 0,
      read_only: false,
    };
  }
  return deny;
}

/** `fsopen` of a declared object's filesystem type. */
export function decideFsopen(
  fsType: string,
  flags: number,
  grants: MountGrants,
): MountAction {
  const objects = grants.objects.filter((o) => o.fs_type === fsType);
  if (!objects.length || (flags & ~FSOPEN_CLOEXEC)) {
    return { act: "deny", errno: grants.errno };
  }
  return {
    act: "helper",
    op: "fsopen",
    source: fsType,
    flags: 0,
    read_only: false,
    issue: { kind: "context", objects, created: false },
    cloexec: (flags & FSOPEN_CLOEXEC) !== 0,
  };
}

/**
 * `fsconfig` on a context the broker made: `source` names the object (it
 * must be a declared name), a few harmless options per filesystem type,
 * then create.
 */
export function decideFsconfig(
  cmd: number,
  key: string | undefined,
  value: string | undefined,
  issued: Issued | undefined,
  grants: MountGrants,
): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (issued?.kind !== "context" || issued.created) return deny;
  const base = {
    act: "helper" as const,
    op: "fsconfig" as const,
    read_only: false,
  };
  if (cmd === FSCONFIG_SET_STRING && key !== undefined && value !== undefined) {
    if (key === "source") {
      const object = issued.objects.find((o) => o.name === value);
      if (!object || (issued.name !== undefined && issued.name !== value)) {
        return deny;
      }
      return {
        ...base,
        flags: cmd,
        source: key,
        data: value,
        update: { ...issued, objects: [object], name: value },
      };
    }
    const type = issued.objects[0].fs_type;
    if (!OBJECT_OPTION[type].test(key) || !OPTION_VALUE.test(value)) {
      return deny;
    }
    return { ...base, flags: cmd, source: key, data: value, update: issued };
  }
  if (cmd === FSCONFIG_CMD_CREATE || cmd === FSCONFIG_CMD_CREATE_EXCL) {
    if (issued.objects.length !== 1) return deny; // name the object first
    return { ...base, flags: cmd, update: { ...issued, created: true } };
  }
  return deny;
}

/** `fsmount` of a created context, with exactly the object's attributes. */
export function decideFsmount(
  flags: number,
  attrs: number,
  issued: Issued | undefined,
  grants: MountGrants,
): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (
    issued?.kind !== "context" || !issued.created || issued.objects.length !== 1
  ) {
    return deny;
  }
  const object = issued.objects[0];
  if ((flags & ~FSMOUNT_CLOEXEC) || attrs !== object.attrs) return deny;
  return {
    act: "helper",
    op: "fsmount",
    flags: object.attrs,
    read_only: false,
    issue: { kind: "mount", object },
    cloexec: (flags & FSMOUNT_CLOEXEC) !== 0,
  };
}

/**
 * `mount_setattr` on a declared target: it may add restrictions, never
 * clear one the policy requires (a read-only bind, an object's attrs, a
 * tmpfs's nosuid and nodev), and not change propagation.
 */
export function decideSetattr(
  path: string,
  flags: number,
  attr: [number, number, number, number] | number,
  grants: MountGrants,
): MountAction {
  const deny: MountAction = { act: "deny", errno: grants.errno };
  if (
    typeof attr === "number" || !path.startsWith("/") || (flags & ~AT_RECURSIVE)
  ) {
    return deny;
  }
  const [set, clr, propagation, userns] = attr;
  if (
    propagation !== 0 || userns !== 0 || (set & ~ALL_ATTRS) ||
    (clr & ~ALL_ATTRS)
  ) {
    return deny;
  }
  const target = normalize(path);
  let required: number | undefined;
  if (grants.tmpfs.includes(target)) {
    required = MOUNT_ATTR.nosuid | MOUNT_ATTR.nodev;
  }
  const bind = grants.bind.find((b) => b.target === target);
  if (bind) required = bind.read_only ? MOUNT_ATTR.readonly : 0;
  const object = grants.objects.find((o) => o.attach.includes(target));
  if (object) required = object.attrs;
  if (required === undefined || (clr & required)) return deny;
  return {
    act: "helper",
    op: "setattr",
    target,
    flags: flags & AT_RECURSIVE,
    read_only: false,
    attr_set: set,
    attr_clr: clr,
  };
}
