/**
 * The calls the observer (broker/observer.ts) watches, and how each one's
 * arguments are decoded: pure, given a way to read the task's memory.
 *
 * @module
 */

import { AT_FDCWD } from "../syscalls/constants.ts";
import type { Arch } from "../seccomp/filter.ts";
import { syscallTable } from "../seccomp/table.ts";
import { callsOn } from "./requests.ts";

/** Every call a file or TCP port access goes through (those the arch has). */
export const OBSERVE_CALLS = [
  "open",
  "openat",
  "openat2",
  "creat",
  "execve",
  "execveat",
  "mkdir",
  "mkdirat",
  "mknod",
  "mknodat",
  "unlink",
  "unlinkat",
  "rmdir",
  "rename",
  "renameat",
  "renameat2",
  "link",
  "linkat",
  "symlink",
  "symlinkat",
  "truncate",
  "bind",
  "connect",
  "socket",
] as const;

/** The observed calls this architecture has. */
export function observedCalls(arch: Arch): string[] {
  return callsOn(arch, OBSERVE_CALLS);
}

/** Syscall number → name of the observed calls. */
export function observedByNumber(arch: Arch): Map<number, string> {
  const table = syscallTable(arch);
  return new Map(observedCalls(arch).map((n) => [table[n], n]));
}

/** A path as the task named it: relative to `dirfd` unless absolute. */
export interface Named {
  dirfd: number;
  path: string;
}

/** What one observed call asks for, before its paths are resolved. */
export type Intent =
  | { kind: "open"; syscall: string; at: Named; flags: number }
  | { kind: "exec"; syscall: string; at: Named; flags: number }
  | { kind: "mkdir"; syscall: string; at: Named }
  | { kind: "mknod"; syscall: string; at: Named; mode: number }
  | { kind: "unlink"; syscall: string; at: Named; rmdir: boolean }
  | { kind: "rename"; syscall: string; from: Named; to: Named; flags: number }
  | { kind: "link"; syscall: string; from: Named; to: Named; flags: number }
  | { kind: "symlink"; syscall: string; at: Named }
  | { kind: "truncate"; syscall: string; at: Named }
  | {
    kind: "bind" | "connect";
    syscall: string;
    fd: number;
    family: number;
    port?: number;
  }
  | {
    kind: "socket";
    syscall: string;
    family: number;
    type: number;
    protocol: number;
  };

/** Reads what an intent needs from the task; numbers are -errno. */
export interface ObservedMemory {
  path(addr: bigint): string | number;
  /** Up to `len` bytes at `addr` (a copy). */
  bytes(addr: bigint, len: number): Uint8Array | number;
  /** `struct open_how`: flags, mode, resolve. */
  openHow(addr: bigint, size: bigint): [number, number, number] | number;
}

const int = (v: bigint) => Number(BigInt.asIntN(32, v));
const uint = (v: bigint) => Number(BigInt.asUintN(32, v));

/** `O_CREAT | O_WRONLY | O_TRUNC`, what creat(2) opens with. */
const CREAT_FLAGS = 0o100 | 0o1 | 0o1000;
const AT_REMOVEDIR = 0x200;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;

/**
 * Decodes an observed call; undefined when its arguments cannot be read
 * (the kernel will fail the call itself, or the task rewrote them).
 */
export function decodeObserved(
  name: string,
  a: readonly bigint[],
  mem: ObservedMemory,
): Intent | undefined {
  const path = (addr: bigint): string | undefined => {
    const p = mem.path(addr);
    return typeof p === "number" ? undefined : p;
  };
  const at = (dirfd: bigint | number, addr: bigint): Named | undefined => {
    const p = path(addr);
    return p === undefined
      ? undefined
      : { dirfd: typeof dirfd === "number" ? dirfd : int(dirfd), path: p };
  };
  const fdcwd = AT_FDCWD;
  switch (name) {
    case "open":
    case "creat": {
      const n = at(fdcwd, a[0]);
      if (!n) return undefined;
      const flags = name === "creat" ? CREAT_FLAGS : uint(a[1]);
      return { kind: "open", syscall: name, at: n, flags };
    }
    case "openat": {
      const n = at(a[0], a[1]);
      return n && { kind: "open", syscall: name, at: n, flags: uint(a[2]) };
    }
    case "openat2": {
      const n = at(a[0], a[1]);
      const how = mem.openHow(a[2], a[3]);
      if (!n || typeof how === "number") return undefined;
      return { kind: "open", syscall: name, at: n, flags: how[0] };
    }
    case "execve": {
      const n = at(fdcwd, a[0]);
      return n && { kind: "exec", syscall: name, at: n, flags: 0 };
    }
    case "execveat": {
      const n = at(a[0], a[1]);
      return n && { kind: "exec", syscall: name, at: n, flags: uint(a[4]) };
    }
    case "mkdir":
    case "mkdirat": {
      const n = name === "mkdir" ? at(fdcwd, a[0]) : at(a[0], a[1]);
      return n && { kind: "mkdir", syscall: name, at: n };
    }
    case "mknod":
    case "mknodat": {
      const n = name === "mknod" ? at(fdcwd, a[0]) : at(a[0], a[1]);
      const mode = uint(name === "mknod" ? a[1] : a[2]);
      return n && { kind: "mknod", syscall: name, at: n, mode };
    }
    case "unlink":
    case "rmdir": {
      const n = at(fdcwd, a[0]);
      return n &&
        { kind: "unlink", syscall: name, at: n, rmdir: name === "rmdir" };
    }
    case "unlinkat": {
      const n = at(a[0], a[1]);
      const rmdir = (uint(a[2]) & AT_REMOVEDIR) !== 0;
      return n && { kind: "unlink", syscall: name, at: n, rmdir };
    }
    case "rename":
    case "link": {
      const from = at(fdcwd, a[0]);
      const to = at(fdcwd, a[1]);
      if (!from || !to) return undefined;
      return { kind: name, syscall: name, from, to, flags: 0 };
    }
    case "renameat":
    case "renameat2":
    case "linkat": {
      const from = at(a[0], a[1]);
      const to = at(a[2], a[3]);
      if (!from || !to) return undefined;
      return {
        kind: name === "linkat" ? "link" : "rename",
        syscall: name,
        from,
        to,
        flags: name === "renameat" ? 0 : uint(a[4]),
      };
    }
    case "symlink": {
      const n = at(fdcwd, a[1]);
      return n && { kind: "symlink", syscall: name, at: n };
    }
    case "symlinkat": {
      const n = at(a[1], a[2]);
      return n && { kind: "symlink", syscall: name, at: n };
    }
    case "truncate": {
      const n = at(fdcwd, a[0]);
      return n && { kind: "truncate", syscall: name, at: n };
    }
    case "bind":
    case "connect": {
      const len = Math.min(uint(a[2]), 28);
      if (len < 2) return undefined;
      const b = mem.bytes(a[1], len);
      if (typeof b === "number" || b.length < 2) return undefined;
      const family = b[0] | (b[1] << 8);
      const port = (family === AF_INET || family === AF_INET6) && b.length >= 4
        ? (b[2] << 8) | b[3]
        : undefined;
      return {
        kind: name,
        syscall: name,
        fd: int(a[0]),
        family,
        ...(port === undefined ? {} : { port }),
      };
    }
    case "socket":
      return {
        kind: "socket",
        syscall: name,
        family: int(a[0]),
        type: int(a[1]) & 0xf, // without SOCK_NONBLOCK / SOCK_CLOEXEC
        protocol: int(a[2]),
      };
  }
  return undefined;
}
