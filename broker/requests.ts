/**
 * Turns a notification (syscall number and raw arguments) into a request
 * with its paths read from the notifying process.
 *
 * @module
 */

import {
  AT_FDCWD,
  AT_REMOVEDIR,
  O_CREAT,
  O_TRUNC,
  O_WRONLY,
} from "../syscalls/constants.ts";
export { AT_FDCWD };
import type { Arch } from "../seccomp/filter.ts";
import { syscallTable } from "../seccomp/table.ts";

/** A broker-relevant call, with paths as the process passed them. */
export type Request =
  | {
    op: "open";
    syscall: string;
    dirfd: number;
    path: string;
    flags: number;
    mode: number;
    resolve: number;
  }
  | { op: "mkdir"; syscall: string; dirfd: number; path: string; mode: number }
  | {
    op: "unlink";
    syscall: string;
    dirfd: number;
    path: string;
    rmdir: boolean;
  }
  | {
    op: "rename" | "link";
    syscall: string;
    olddirfd: number;
    oldpath: string;
    newdirfd: number;
    newpath: string;
    flags: number;
  }
  | {
    op: "symlink";
    syscall: string;
    target: string;
    newdirfd: number;
    newpath: string;
  }
  | {
    op: "mount";
    syscall: string;
    source?: string;
    path: string;
    fstype?: string;
    flags: number;
    data?: string;
  }
  | { op: "umount"; syscall: string; path: string; flags: number }
  | { op: "open_tree"; syscall: string; path: string; flags: number }
  | {
    op: "move_mount";
    syscall: string;
    fromFd: number;
    fromPath: string;
    path: string;
    flags: number;
  }
  | { op: "fsopen"; syscall: string; path: string; flags: number }
  | {
    op: "fsconfig";
    syscall: string;
    fd: number;
    cmd: number;
    key?: string;
    value?: string;
  }
  | { op: "fsmount"; syscall: string; fd: number; flags: number; attrs: number }
  | {
    op: "mount_setattr";
    syscall: string;
    path: string;
    flags: number;
    attr: [number, number, number, number] | number;
  };

/** The mount-family requests (`umount2` decodes as `umount`). */
const MOUNT_OPS = [
  "mount",
  "umount",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "mount_setattr",
] as const;

/** A request of the mount family. */
export type MountRequest = Extract<Request, { op: typeof MOUNT_OPS[number] }>;

/** Whether a request belongs to the mount family. */
export function isMountRequest(req: Request): req is MountRequest {
  return (MOUNT_OPS as readonly string[]).includes(req.op);
}

/** Calls intercepted for declared files. */
export const OPEN_CALLS = ["openat", "openat2", "open", "creat"];
/** Calls intercepted when the policy declares brokered mounts. */
export const MOUNT_CALLS = [
  "mount",
  "umount2",
  "open_tree",
  "move_mount",
  "fsopen",
  "fsconfig",
  "fsmount",
  "mount_setattr",
];
/** The rest of the mount family: refused with the policy's errno. */
export const NEW_MOUNT_API = ["fspick"];
/** Calls intercepted when scratch or export roots exist. */
export const TREE_CALLS = [
  "mkdirat",
  "mkdir",
  "unlinkat",
  "unlink",
  "rmdir",
  "renameat2",
  "renameat",
  "rename",
  "linkat",
  "link",
  "symlinkat",
  "symlink",
];

/** Which of `names` exist on `arch`. */
export function callsOn(arch: Arch, names: readonly string[]): string[] {
  const table = syscallTable(arch);
  return names.filter((n) => Object.hasOwn(table, n));
}

/** Syscall number → name, for the calls the broker handles. */
export function namesByNumber(arch: Arch): Map<number, string> {
  const table = syscallTable(arch);
  return new Map(
    callsOn(arch, [...OPEN_CALLS, ...TREE_CALLS, ...MOUNT_CALLS]).map((
      n,
    ) => [table[n], n]),
  );
}

/** Reads what a request needs from the process; numbers are -errno. */
export interface Memory {
  path(addr: bigint): string | number;
  /** `struct open_how` at addr: flags, mode, resolve. */
  openHow(addr: bigint, size: bigint): [number, number, number] | number;
  /** `struct mount_attr` at addr: attr_set, attr_clr, propagation, userns_fd. */
  mountAttr(
    addr: bigint,
    size: bigint,
  ): [number, number, number, number] | number;
}

const int = (v: bigint) => Number(BigInt.asIntN(32, v));
const uint = (v: bigint) => Number(BigInt.asUintN(32, v));

/** Decodes a notification; a number is the errno to fail the call with. */
export function decode(
  name: string,
  a: readonly bigint[],
  mem: Memory,
): Request | number {
  const paths: string[] = [];
  const read = (...addrs: bigint[]): number | undefined => {
    for (const addr of addrs) {
      const p = mem.path(addr);
      if (typeof p === "number") return -p;
      paths.push(p);
    }
    return undefined;
  };
  let err: number | undefined;
  switch (name) {
    case "openat":
    case "open":
    case "creat": {
      const at = name === "openat" ? 1 : 0;
      if ((err = read(a[at]))) return err;
      const flags = name === "creat"
        ? O_CREAT | O_WRONLY | O_TRUNC
        : uint(a[at + 1]);
      const mode = uint(name === "creat" ? a[1] : a[at + 2]);
      return {
        op: "open",
        syscall: name,
        dirfd: at ? int(a[0]) : AT_FDCWD,
        path: paths[0],
        flags,
        mode,
        resolve: 0,
      };
    }
    case "openat2": {
      if ((err = read(a[1]))) return err;
      const how = mem.openHow(a[2], a[3]);
      if (typeof how === "number") return -how;
      return {
        op: "open",
        syscall: name,
        dirfd: int(a[0]),
        path: paths[0],
        flags: how[0],
        mode: how[1],
        resolve: how[2],
      };
    }
    case "mkdirat":
    case "mkdir": {
      const at = name === "mkdirat" ? 1 : 0;
      if ((err = read(a[at]))) return err;
      return {
        op: "mkdir",
        syscall: name,
        dirfd: at ? int(a[0]) : AT_FDCWD,
        path: paths[0],
        mode: uint(a[at + 1]),
      };
    }
    case "unlinkat":
    case "unlink":
    case "rmdir": {
      const at = name === "unlinkat" ? 1 : 0;
      if ((err = read(a[at]))) return err;
      return {
        op: "unlink",
        syscall: name,
        dirfd: at ? int(a[0]) : AT_FDCWD,
        path: paths[0],
        rmdir: name === "rmdir" ||
          (name === "unlinkat" && (uint(a[2]) & AT_REMOVEDIR) !== 0),
      };
    }
    case "renameat2":
    case "renameat":
    case "linkat": {
      if ((err = read(a[1], a[3]))) return err;
      return {
        op: name === "linkat" ? "link" : "rename",
        syscall: name,
        olddirfd: int(a[0]),
        oldpath: paths[0],
        newdirfd: int(a[2]),
        newpath: paths[1],
        flags: name === "renameat" ? 0 : uint(a[4]),
      };
    }
    case "rename":
    case "link": {
      if ((err = read(a[0], a[1]))) return err;
      return {
        op: name,
        syscall: name,
        olddirfd: AT_FDCWD,
        oldpath: paths[0],
        newdirfd: AT_FDCWD,
        newpath: paths[1],
        flags: 0,
      };
    }
    case "symlinkat": {
      if ((err = read(a[0], a[2]))) return err;
      return {
        op: "symlink",
        syscall: name,
        target: paths[0],
        newdirfd: int(a[1]),
        newpath: paths[1],
      };
    }
    case "symlink": {
      if ((err = read(a[0], a[1]))) return err;
      return {
        op: "symlink",
        syscall: name,
        target: paths[0],
        newdirfd: AT_FDCWD,
        newpath: paths[1],
      };
    }
    case "mount": {
      // source, fstype and data may be NULL.
      const optional = (addr: bigint): string | undefined | number =>
        addr === 0n ? undefined : mem.path(addr);
      const source = optional(a[0]);
      const fstype = optional(a[2]);
      const data = optional(a[4]);
      for (const v of [source, fstype, data]) {
        if (typeof v === "number") return -v;
      }
      if ((err = read(a[1]))) return err;
      return {
        op: "mount",
        syscall: name,
        source: source as string | undefined,
        path: paths[0],
        fstype: fstype as string | undefined,
        flags: uint(a[3]),
        data: data as string | undefined,
      };
    }
    case "umount2": {
      if ((err = read(a[0]))) return err;
      return { op: "umount", syscall: name, path: paths[0], flags: uint(a[1]) };
    }
    case "open_tree":
      if ((err = read(a[1]))) return err;
      return { op: name, syscall: name, path: paths[0], flags: uint(a[2]) };
    case "move_mount":
      if ((err = read(a[1], a[3]))) return err;
      return {
        op: name,
        syscall: name,
        fromFd: int(a[0]),
        fromPath: paths[0],
        path: paths[1],
        flags: uint(a[4]),
      };
    case "fsopen":
      if ((err = read(a[0]))) return err;
      return { op: name, syscall: name, path: paths[0], flags: uint(a[1]) };
    case "fsconfig": {
      const key = a[2] === 0n ? undefined : mem.path(a[2]);
      const value = a[3] === 0n ? undefined : mem.path(a[3]);
      if (typeof key === "number") return -key;
      if (typeof value === "number") return -value;
      return {
        op: name,
        syscall: name,
        fd: int(a[0]),
        cmd: uint(a[1]),
        key,
        value,
      };
    }
    case "fsmount":
      return {
        op: name,
        syscall: name,
        fd: int(a[0]),
        flags: uint(a[1]),
        attrs: uint(a[2]),
      };
    case "mount_setattr": {
      if ((err = read(a[1]))) return err;
      return {
        op: name,
        syscall: name,
        path: paths[0],
        flags: uint(a[2]),
        attr: mem.mountAttr(a[3], a[4]),
      };
    }
  }
  throw new Error(`broker: no decoder for ${name}`);
}
