/**
 * Maps landlockd's C library: one mapping per process, and the path every
 * thread opens it by. ffi/mod.ts binds its symbols; main.ts maps it first
 * for `landlockd run`, to check the bundle in one C call
 * ({@linkcode checkStamps}) before the bundle loads.
 *
 * This module is one instance per thread whichever way the code was
 * loaded: cli/bundle.ts leaves it out of dist/run/, whose chunks import it
 * from the sources, so main.ts and the bundle's ffi/mod.ts share its state
 * (which path the library was mapped by).
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
 * @module
 */

// No imports: every module main.ts loads from the sources before the
// bundle costs it 0.2-0.3 ms.

const MFD_CLOEXEC = 1;
/** Seals the memfd non-executable (Linux 6.3+; EINVAL before). */
const MFD_NOEXEC_SEAL = 8;
const MEMFD_NAME = "liblandlockd.so";
/** What /proc/self/fd/N of that memfd reads as. */
const MEMFD_LINK = `/memfd:${MEMFD_NAME} (deleted)`;
const SUPPORTED_ARCHS = ["x86_64", "aarch64"];

/** The libc functions needed before landlockd's own library is loaded. */
export const libcSymbols = {
  /** int memfd_create(const char *name, unsigned int flags); */
  memfd_create: { parameters: ["buffer", "u32"], result: "i32" },
  /** int close(int fd); */
  close: { parameters: ["i32"], result: "i32" },
} as const satisfies Deno.ForeignLibraryInterface;

/**
 * The C function this module calls itself; ffi/symbols.ts puts it in the
 * one symbol table.
 */
export const stampSymbols = {
  /** int32_t ll_stamps_check(const char *root, const uint8_t *req,
   *  uint32_t len); off the JS thread, like ll_syscall_async: main.ts's
   *  first C call ({@linkcode checkStamps}). */
  ll_stamps_check: {
    parameters: ["buffer", "buffer", "u32"],
    result: "i32",
    nonblocking: true,
  },
} as const satisfies Deno.ForeignLibraryInterface;

/** `s` as UTF-8 with a NUL (ffi/cstring.ts cstring, which this module does not import). */
function cstring(s: string): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) {
    throw new TypeError(
      `Cannot pass ${JSON.stringify(s)} to C: it contains a NUL byte`,
    );
  }
  return new TextEncoder().encode(`${s}\0`);
}

/** Where `deno task build` puts the library. */
export const LIBRARY_URL = new URL("./build/liblandlockd.so", import.meta.url);
const LIBRARY_PATH = decodeURIComponent(LIBRARY_URL.pathname);

/** Thrown when the C library cannot be found or opened. */
export class LibraryError extends Error {
  override name = "LibraryError";
}

/** This thread's path of the library, once mapped. */
let mapped: string | undefined;

/**
 * Maps the library once per process and returns the path every thread
 * opens it by: finds the memfd another thread of this process mapped (or
 * the file another thread opened in place), or opens it, so that a
 * missing or broken library fails here. `firstThread`: the caller knows
 * that no other thread of this process can have mapped it yet (main.ts,
 * before it loads anything else), which saves the search of
 * /proc/self/fd (0.6-1.0 ms).
 */
export function mapLibrary(firstThread = false): string {
  if (mapped) return mapped;
  if (Deno.build.os !== "linux" || !SUPPORTED_ARCHS.includes(Deno.build.arch)) {
    throw new LibraryError(
      `landlockd runs on Linux x86_64 and aarch64, not ${Deno.build.os} ${Deno.build.arch}`,
    );
  }
  // Another thread's choice first: one mapping per process.
  const maps = firstThread ? "" : Deno.readTextFileSync("/proc/self/maps");
  const path = mappedMemfd(maps) ??
    (mappedInPlace(maps) || rootOnly(LIBRARY_URL)
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
 * Worker follows it, whatever the file looks like now); `maps`:
 * /proc/self/maps.
 */
function mappedInPlace(maps: string): boolean {
  if (
    typeof (globalThis as { WorkerGlobalScope?: unknown }).WorkerGlobalScope ===
      "undefined"
  ) {
    return false; // the main thread opens it first
  }
  const line = ` ${LIBRARY_PATH}\n`;
  return maps.includes(line);
}

/**
 * The /proc/self/fd path of the memfd another thread of this process
 * mapped the library from, if any: a memfd of that name that this process
 * has mapped (/proc/self/maps, by device and inode). Never just any fd
 * that reads as one: a root daemon holds fds its clients sent
 * (SCM_RIGHTS), and a memfd another user named "liblandlockd.so" and
 * filled with their own code ran as root in the daemon's next broker
 * thread (tests/attacks/libmemfd_test.ts). Only this process's own
 * `dlopen` maps a memfd of that name. `maps`: /proc/self/maps.
 */
function mappedMemfd(maps: string): string | undefined {
  const ours = new Set<string>();
  for (const line of maps.split("\n")) {
    if (!line.endsWith(MEMFD_LINK)) continue;
    // address perms offset major:minor inode path
    const m = /^\S+ \S+ \S+ ([0-9a-f]+):([0-9a-f]+) (\d+) +(.*)$/.exec(line);
    if (m && m[4] === MEMFD_LINK) {
      ours.add(`${deviceNumber(m[1], m[2])} ${m[3]}`);
    }
  }
  if (!ours.size) return undefined;
  for (const e of Deno.readDirSync("/proc/self/fd")) {
    const path = `/proc/self/fd/${e.name}`;
    try {
      if (Deno.readLinkSync(path) !== MEMFD_LINK) continue;
      const st = Deno.statSync(path);
      if (ours.has(`${st.dev} ${st.ino}`)) return path;
    } catch {
      // closed meanwhile (readDir's own fd, another thread's)
    }
  }
  return undefined;
}

/** `st_dev` as glibc's makedev builds it from /proc/self/maps' hex fields. */
function deviceNumber(majorHex: string, minorHex: string): number {
  const major = BigInt(`0x${majorHex}`);
  const minor = BigInt(`0x${minorHex}`);
  return Number(
    ((major & 0xfffn) << 8n) | ((major & ~0xfffn) << 32n) | (minor & 0xffn) |
      ((minor & ~0xffn) << 12n),
  );
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

/** A file's stamp as Deno gives it (Deno.FileInfo). */
export interface StampEntry {
  /** Relative to the root `checkStamps` is given. */
  path: string;
  size: number;
  ino: number;
  /** Milliseconds. */
  mtime: number;
  /** Whole seconds, in milliseconds. */
  ctime: number;
}

/**
 * How `ll_stamps_check` checks a list of files: its stamp (`stat`, which
 * follows symlinks); its stamp and the ownership of a bundle file
 * (`lstat`: no symlink, owned by root or the caller, writable by neither
 * group nor others); or only that ownership (a folder).
 */
export type StampCheck = "stamp" | "own" | "own-only";

/** `LL_STAMP_OWN` and `LL_STAMP_OWN_ONLY` (ffi/landlockd.h). */
export const STAMP_FLAGS = { stamp: 0, own: 1, "own-only": 2 } as const;
/** `LL_STAMP_HEAD_SIZE`: an entry's size before its path. */
export const STAMP_HEAD_SIZE = 40;

/** Files to check one way. */
export interface StampList {
  check: StampCheck;
  /** Stamps are ignored for "own-only". */
  files: readonly (Pick<StampEntry, "path"> & Partial<StampEntry>)[];
}

/**
 * The request `ll_stamps_check` reads (ffi/stamps.c): each entry 8-byte
 * aligned, its four numbers as doubles, then flags, the path's length with
 * its NUL, the path.
 */
export function stampRequest(lists: readonly StampList[]): Uint8Array {
  let size = 0;
  // At most 3 bytes of UTF-8 per UTF-16 unit, a NUL, padding.
  for (const { files } of lists) {
    for (const f of files) size += STAMP_HEAD_SIZE + f.path.length * 3 + 8;
  }
  const buf = new Uint8Array((size + 7) & ~7);
  const f64 = new Float64Array(buf.buffer);
  const u32 = new Uint32Array(buf.buffer);
  const encoder = new TextEncoder();
  let at = 0;
  for (const { check, files } of lists) {
    for (const f of files) {
      if (f.path.includes("\0")) {
        throw new TypeError(
          `Cannot pass ${JSON.stringify(f.path)} to C: it contains a NUL byte`,
        );
      }
      f64[at / 8] = f.size ?? -1;
      f64[at / 8 + 1] = f.ino ?? -1;
      f64[at / 8 + 2] = f.mtime ?? -1;
      f64[at / 8 + 3] = f.ctime ?? -1;
      const { written } = encoder.encodeInto(
        f.path,
        buf.subarray(at + STAMP_HEAD_SIZE),
      );
      u32[at / 4 + 8] = STAMP_FLAGS[check];
      u32[at / 4 + 9] = written + 1;
      at += STAMP_HEAD_SIZE + ((written + 8) & ~7);
    }
  }
  return buf.subarray(0, at);
}

/**
 * The paths of the leading entries of `request` checked with `check` (the
 * bundle's chunks, which a stamp file lists first), read as Latin-1: the
 * bundle's names are ASCII, and a caller that checks the names sees any
 * other byte as a character it refuses. (A TextDecoder's first use costs
 * a fresh process 0.15-0.2 ms.)
 */
export function stampPaths(request: Uint8Array, check: StampCheck): string[] {
  const view = new DataView(
    request.buffer,
    request.byteOffset,
    request.byteLength,
  );
  const paths: string[] = [];
  for (let at = 0; at + STAMP_HEAD_SIZE <= request.length;) {
    if (view.getUint32(at + 32, true) !== STAMP_FLAGS[check]) break;
    const len = view.getUint32(at + 36, true);
    const start = at + STAMP_HEAD_SIZE;
    if (len === 0 || start + len > request.length) break;
    paths.push(
      String.fromCharCode(...request.subarray(start, start + len - 1)),
    );
    at = start + ((len + 7) & ~7);
  }
  return paths;
}

let stamps:
  | Deno.DynamicLibrary<typeof stampSymbols>["symbols"]["ll_stamps_check"]
  | undefined;

/**
 * Whether every file the requests list (made by {@linkcode stampRequest},
 * paths relative to the directory `root`) is as its entry requires
 * ({@linkcode StampCheck}): the index of the first that is not, or is
 * gone, counting through the requests in order; -1 when all are. One C
 * call for the lot, off this thread; it maps the library first
 * ({@linkcode mapLibrary}, `firstThread` passed on). A malformed request
 * throws {@linkcode LibraryError}.
 */
export async function checkStamps(
  root: string,
  requests: readonly Uint8Array[],
  firstThread = false,
): Promise<number> {
  stamps ??= Deno.dlopen(mapLibrary(firstThread), stampSymbols).symbols
    .ll_stamps_check;
  const request = new Uint8Array(
    requests.reduce((n, r) => n + r.length, 0),
  );
  let at = 0;
  for (const r of requests) {
    request.set(r, at);
    at += r.length;
  }
  const r = await stamps(cstring(root), request, request.length);
  if (r < 0) throw new LibraryError(`ll_stamps_check: error ${-r}`);
  return r - 1;
}
