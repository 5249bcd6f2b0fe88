/**
 * Loads landlockd's C library: one symbol table (./symbols.ts), one mapping
 * of the library per process.
 *
 * The shared object built by `deno task build` is opened where it is when
 * nobody but root can change it: the file and every directory above it are
 * owned by root and writable by no group and no other user (checked with
 * lstat, so no symlink on the way). Otherwise (a tree the invoking user
 * owns, the embedded files of a `deno compile` binary) its bytes are read,
 * copied into a memfd and opened from /proc/self/fd. The copy holds the
 * bytes the file held when it was read, no more trustworthy than the file
 * itself; it costs 5-15 ms of a run's start (bench/profile_run.ts), which
 * the direct open saves. A root-owned tree is the one the TypeScript
 * modules are loaded from as well (ffi/ sits beside them), so opening the
 * library there trusts nothing the modules did not already need.
 *
 * The memfd stays open (close-on-exec) for the life of the process, and
 * every thread (each Worker has its own module state) opens the library by
 * that same /proc/self/fd path, or by the same file path when it was opened
 * in place: the dynamic loader then returns the mapping it already has, so
 * the C library's static state (the watchdog's slots, signal forwarding) is
 * one per process.
 *
 * Deno spends time binding each symbol, so each is bound on first use: a
 * direct run binds only the few it calls.
 *
 * @module
 */

import { cstring } from "./cstring.ts";
import { libcSymbols, type Library, symbols } from "./symbols.ts";

export type { Library } from "./symbols.ts";
export * from "./cstring.ts";
export * from "./layout.ts";
export * from "./syscall_numbers.ts";

const MFD_CLOEXEC = 1;
/** Seals the memfd non-executable (Linux 6.3+; EINVAL before). */
const MFD_NOEXEC_SEAL = 8;
const MEMFD_NAME = "liblandlockd.so";
/** What /proc/self/fd/N of that memfd reads as. */
const MEMFD_LINK = `/memfd:${MEMFD_NAME} (deleted)`;
const SUPPORTED_ARCHS = ["x86_64", "aarch64"];

/** Where `deno task build` puts the library. */
export const LIBRARY_URL = new URL("./build/liblandlockd.so", import.meta.url);
const LIBRARY_PATH = decodeURIComponent(LIBRARY_URL.pathname);

/** Thrown when the C library cannot be found or opened. */
export class LibraryError extends Error {
  override name = "LibraryError";
}

type Name = keyof typeof symbols;

/** This thread's /proc/self/fd path of the library, once mapped. */
let mapped: string | undefined;
let lib: Library | undefined;

/**
 * The C library's symbols, each bound on first use. The first call maps
 * the library (or finds this process's mapping), so a missing or broken
 * library throws {@linkcode LibraryError} here.
 */
export function library(): Library {
  if (lib) return lib;
  const table = {} as Record<Name, unknown>;
  for (const name of Object.keys(symbols) as Name[]) {
    Object.defineProperty(table, name, {
      configurable: true,
      enumerable: true,
      get: () => bind(table, [name])[name],
    });
  }
  map();
  lib = table as Library;
  return lib;
}

/** Binds `names` in one call and replaces their getters with the results. */
function bind(
  table: Record<Name, unknown>,
  names: Name[],
): Record<string, unknown> {
  const wanted = Object.fromEntries(names.map((n) => [n, symbols[n]]));
  const fns = Deno.dlopen(map(), wanted).symbols as Record<string, unknown>;
  for (const n of names) {
    Object.defineProperty(table, n, { value: fns[n], enumerable: true });
  }
  return fns;
}

/**
 * Binds `names` now, in one `Deno.dlopen`: a symbol bound on its first call
 * costs a dlopen of its own (0.2-0.7 ms each), so a path that knows which
 * functions it calls binds them together. Others still bind on first use.
 */
export function bindSymbols(names: readonly (keyof typeof symbols)[]): void {
  const table = library() as unknown as Record<Name, unknown>;
  const lazy = names.filter((n) =>
    Object.getOwnPropertyDescriptor(table, n)?.get
  );
  if (lazy.length) bind(table, lazy);
}

let bound = false;

/**
 * The library with every symbol bound now, in one call: for a long-lived
 * thread (the daemon's, a broker thread) that should not pay for binding
 * on its first request.
 */
export function libraryBound(): Library {
  const l = library();
  if (!bound) {
    const table = l as unknown as Record<Name, unknown>;
    const lazy = (Object.keys(symbols) as Name[]).filter((n) =>
      Object.getOwnPropertyDescriptor(table, n)?.get
    );
    if (lazy.length) bind(table, lazy);
    bound = true;
  }
  return l;
}

let syscall: Library["ll_syscall"] | undefined;

/** `ll_syscall`, bound once per thread. */
export function syscallEntry(): Library["ll_syscall"] {
  return syscall ??= library().ll_syscall;
}

/**
 * Maps the library once per process: finds the memfd another thread of
 * this process made, or makes it; opens it so that a missing or broken
 * library fails here. Returns the path every thread opens it by.
 */
function map(): string {
  if (mapped) return mapped;
  if (Deno.build.os !== "linux" || !SUPPORTED_ARCHS.includes(Deno.build.arch)) {
    throw new LibraryError(
      `landlockd runs on Linux x86_64 and aarch64, not ${Deno.build.os} ${Deno.build.arch}`,
    );
  }
  // Another thread's choice first: one mapping per process.
  const path = existingMemfd() ??
    (mappedInPlace() || rootOnly(LIBRARY_URL)
      ? LIBRARY_PATH
      : create(libraryBytes()));
  Deno.dlopen(path, {});
  mapped = path;
  return path;
}

function libraryBytes(): Uint8Array {
  try {
    return Deno.readFileSync(LIBRARY_URL);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new LibraryError(
      `Cannot find landlockd's C library at "${LIBRARY_URL.pathname}": run "deno task build" first`,
    );
  }
}

/**
 * Whether `url` is a file on disk that only root can change: it and every
 * directory above it are owned by uid 0, are not symlinks, and give no
 * write permission to their group or others (with POSIX ACLs the group
 * bits are the mask, so no named user or group can write either).
 */
export function rootOnly(url: URL): boolean {
  if (Deno.build.standalone || url.protocol !== "file:") return false;
  const owned = (path: string, file: boolean) => {
    const st = Deno.lstatSync(path);
    return (file ? st.isFile : st.isDirectory) && st.uid === 0 &&
      st.mode !== null && (st.mode & 0o022) === 0;
  };
  try {
    const path = decodeURIComponent(url.pathname);
    if (!owned(path, true)) return false;
    for (let dir = path; dir !== "/";) {
      dir = dir.slice(0, dir.lastIndexOf("/")) || "/";
      if (!owned(dir, false)) return false;
    }
    return true;
  } catch {
    return false; // missing: the memfd path says so precisely
  }
}

/**
 * Whether another thread of this process opened the library in place (a
 * Worker follows it, whatever the file looks like now).
 */
function mappedInPlace(): boolean {
  if (
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
      "undefined"
  ) {
    return false; // the main thread opens it first
  }
  const line = ` ${LIBRARY_PATH}\n`;
  return Deno.readTextFileSync("/proc/self/maps").includes(line);
}

/** The /proc/self/fd path of this process's complete memfd, if any. */
function existingMemfd(): string | undefined {
  let size: number | undefined;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const path = `/proc/self/fd/${e.name}`;
    try {
      // A memfd still being written by another thread is shorter.
      if (Deno.readLinkSync(path) !== MEMFD_LINK) continue;
      size ??= libraryBytes().length;
      if (Deno.statSync(path).size === size) return path;
    } catch {
      // closed meanwhile (readDir's own fd, another thread's)
    }
  }
  return undefined;
}

/** Copies the library into a new memfd, kept open for the process. */
function create(bytes: Uint8Array): string {
  const libc = Deno.dlopen("libc.so.6", libcSymbols);
  try {
    // Sealed non-executable where the kernel can (6.3+), so a landlockd
    // running inside a sandbox with `[seccomp] memfd_exec = false` loads
    // too; the loader maps it, which the seal allows.
    let fd = libc.symbols.memfd_create(
      cstring(MEMFD_NAME),
      MFD_CLOEXEC | MFD_NOEXEC_SEAL,
    );
    if (fd < 0) {
      fd = libc.symbols.memfd_create(cstring(MEMFD_NAME), MFD_CLOEXEC);
    }
    if (fd < 0) {
      throw new LibraryError("Cannot create a memfd for landlockd's C library");
    }
    const path = `/proc/self/fd/${fd}`;
    try {
      Deno.writeFileSync(path, bytes);
    } catch (e) {
      libc.symbols.close(fd);
      throw e;
    }
    return path;
  } finally {
    libc.close();
  }
}
