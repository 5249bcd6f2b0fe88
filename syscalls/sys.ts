/**
 * Raw system calls through landlockd's C library, and the one place where a
 * negative result becomes a {@link SyscallError}.
 *
 * @module
 */

import {
  addressOf,
  bindSymbols,
  cstring,
  library,
  libraryBound,
  NR,
  type OwnSyscall,
  syscallEntry,
} from "../ffi/mod.ts";
import type { Library } from "../ffi/symbols.ts";
import { errno, SyscallError } from "./errno.ts";

/** A syscall argument: an integer or an address. */
export type Arg = number | bigint;

import { AT_FDCWD, O_CLOEXEC, O_PATH } from "./constants.ts";
export { AT_FDCWD, O_CLOEXEC, O_PATH };

/**
 * Whether this thread calls the `_r` variants of a run's C functions
 * (ffi/short_run.c, the same functions with their result in a struct), which
 * {@link openSymbolsFor} binds for a direct run: Deno compiles no fast-call
 * trampoline for them (about 0.7 ms of a fresh process's start, for calls
 * that V8 would route through one only from optimized code). The daemon and
 * broker threads bind the plain ones.
 */
let shortRun = false;

/** See {@link shortRun}. */
export function shortRunCalls(): boolean {
  return shortRun;
}

/** The value of a `struct ll_result` (ffi/short_run.c). */
export function resultValue(r: Uint8Array): number {
  return Number(new DataView(r.buffer, r.byteOffset, 8).getBigInt64(0, true));
}

let syscallR: Library["ll_syscall_r"] | undefined;

/** Calls syscall `nr` and returns the kernel's result (-errno on failure). */
export function rawSyscall(nr: number, ...args: Arg[]): number {
  const [a0 = 0, a1 = 0, a2 = 0, a3 = 0, a4 = 0, a5 = 0] = args;
  if (shortRun) {
    return resultValue(
      (syscallR ??= library().ll_syscall_r)(
        BigInt(nr),
        BigInt(a0),
        BigInt(a1),
        BigInt(a2),
        BigInt(a3),
        BigInt(a4),
        BigInt(a5),
      ),
    );
  }
  const r = syscallEntry()(
    BigInt(nr),
    BigInt(a0),
    BigInt(a1),
    BigInt(a2),
    BigInt(a3),
    BigInt(a4),
    BigInt(a5),
  );
  return Number(r);
}

/** Turns a raw result into a value, or throws a {@link SyscallError}. */
export function unwrap(result: number, what: string, subject?: string): number {
  if (result < 0) throw new SyscallError(what, -result, subject);
  return result;
}

/** Calls one of landlockd's own syscalls by name and unwraps the result. */
export function syscall(name: OwnSyscall, ...args: Arg[]): number {
  return unwrap(rawSyscall(NR[name], ...args), name);
}

/**
 * Maps the library now, and with `daemon` binds every symbol at once (a
 * long-lived process pays for binding before its first request, not on it).
 */
export function openSymbols(daemon = false): void {
  if (daemon) libraryBound();
  else library();
}

/**
 * The C functions every run calls: a direct run (spawn, signals, wait,
 * raw syscalls) or `run --socket`'s client (connect, send, receive).
 */
const RUN_SYMBOLS = {
  run: [
    "ll_syscall_r",
    "ll_forward_signals_r",
    "ll_spawn_r",
    "ll_forward_to_r",
    "ll_wait_r",
    "ll_forwarded_r",
    "ll_add_path_rules_r",
  ],
  // only calls off the JS thread: the first symbol called on it costs
  // about half a millisecond more to bind
  client: [
    "ll_sock_connect_async",
    "ll_sock_send_async",
    "ll_sock_recv",
    "ll_syscall_async",
  ],
} as const;

/**
 * Maps the library and binds the functions `use` calls on every run in one
 * dlopen, not one each on first use (a few milliseconds of a short run).
 */
export function openSymbolsFor(use: keyof typeof RUN_SYMBOLS): void {
  bindSymbols(RUN_SYMBOLS[use]);
  if (use === "run") shortRun = true;
}

/** Closes `fd`, ignoring errors (the fd is gone either way). */
export function close(fd: number): void {
  rawSyscall(NR.close, fd);
}

/** Writes all of `bytes` to `fd`. */
export function writeAll(fd: number, bytes: Uint8Array<ArrayBuffer>): void {
  let offset = 0;
  while (offset < bytes.length) {
    const chunk = bytes.subarray(offset);
    const n = rawSyscall(
      NR.write,
      fd,
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(chunk))),
      chunk.length,
    );
    if (n === -errno.EINTR) continue;
    offset += unwrap(n, "write to fd", String(fd));
  }
}

/** Opens `path` with O_PATH | O_CLOEXEC: a handle for rules, not for I/O. */
export function openPath(
  path: string,
  pathBytes: Uint8Array = cstring(path),
): number {
  const r = rawSyscall(
    NR.openat,
    AT_FDCWD,
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(pathBytes))),
    O_PATH | O_CLOEXEC,
  );
  return unwrap(r, "open", path);
}

const AT_EMPTY_PATH = 0x1000;
const STATX_TYPE = 0x1;
const EMPTY = cstring("");
/** A struct statx (256 bytes), the same layout on every architecture. */
const statxBuf = new Uint8Array(256);
const statxMode = new DataView(statxBuf.buffer, 28, 2); // stx_mode

/**
 * Whether `path` does not exist (ENOENT, a dangling symlink included), by
 * one statx that throws nothing: any Deno call that fails throws, and the
 * first such error costs a fresh process about 0.45 ms (a direct run of a
 * starter policy fails no other call). Any other outcome, an error
 * included, is false: the caller then reads the path as before and gets
 * its precise error.
 */
export function pathMissing(path: string): boolean {
  const bytes = cstring(path);
  const args = [
    BigInt(NR.statx),
    BigInt(AT_FDCWD),
    addressOf(bytes),
    0n, // follow symlinks, as a read does
    BigInt(STATX_TYPE),
    addressOf(statxBuf),
    0n,
  ] as const;
  const r = resultValue((syscallR ??= library().ll_syscall_r)(...args));
  return r === -errno.ENOENT;
}

/**
 * Whether `fd` (an O_PATH fd will do) is a directory: statx on the fd
 * itself, one system call.
 */
export function isDirectoryFd(fd: number): boolean {
  unwrap(
    rawSyscall(
      NR.statx,
      fd,
      addressOf(EMPTY),
      AT_EMPTY_PATH,
      STATX_TYPE,
      addressOf(statxBuf),
    ),
    "statx",
    String(fd),
  );
  return (statxMode.getUint16(0, true) & 0o170000) === 0o040000;
}
