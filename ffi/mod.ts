/**
 * Loads landlockd's C library.
 *
 * The shared object built by `deno task build` is read as bytes (from the
 * source tree under `deno run`, from the embedded files of a `deno compile`
 * binary), copied into a memfd and opened from /proc/self/fd. Both ways of
 * running landlockd therefore take the same path.
 *
 * @module
 */

import { cstring } from "./cstring.ts";
import {
  type CoreLibrary,
  coreSymbols,
  type DaemonLibrary,
  daemonSymbols,
  libcSymbols,
  type Library,
  symbols,
} from "./symbols.ts";

export type { CoreLibrary, DaemonLibrary, Library } from "./symbols.ts";
export * from "./cstring.ts";
export * from "./layout.ts";
export * from "./syscall_numbers.ts";

const MFD_CLOEXEC = 1;
const SUPPORTED_ARCHS = ["x86_64", "aarch64"];

/** Where `deno task build` puts the library. */
export const LIBRARY_URL = new URL("./build/liblandlockd.so", import.meta.url);

let loaded: Library | undefined;
let daemon: DaemonLibrary | undefined;
let core: CoreLibrary | undefined;

/** Thrown when the C library cannot be found or opened. */
export class LibraryError extends Error {
  override name = "LibraryError";
}

/** Opens the C library once per thread and returns its symbols. */
export function library(): Library {
  loaded ??= open(symbols);
  return loaded;
}

/** Opens the daemon's table once per thread and returns its symbols. */
export function daemonLibrary(): DaemonLibrary {
  daemon ??= open(daemonSymbols);
  return daemon;
}

/**
 * The core symbols (raw system calls, socket I/O): the daemon's table when
 * it is open already, else just these, which open faster.
 */
export function coreLibrary(): CoreLibrary {
  if (daemon) return daemon;
  core ??= open(coreSymbols);
  return core;
}

/** `ll_syscall` from whichever table is open (the core one if none is). */
export function syscallEntry(): Library["ll_syscall"] {
  return (loaded ?? daemon ?? coreLibrary()).ll_syscall;
}

function open<S extends Deno.ForeignLibraryInterface>(
  wanted: S,
): Deno.DynamicLibrary<S>["symbols"] {
  if (Deno.build.os !== "linux" || !SUPPORTED_ARCHS.includes(Deno.build.arch)) {
    throw new LibraryError(
      `landlockd runs on Linux x86_64 and aarch64, not ${Deno.build.os} ${Deno.build.arch}`,
    );
  }
  let bytes: Uint8Array;
  try {
    bytes = Deno.readFileSync(LIBRARY_URL);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    throw new LibraryError(
      `Cannot find landlockd's C library at "${LIBRARY_URL.pathname}": run "deno task build" first`,
    );
  }
  const libc = Deno.dlopen("libc.so.6", libcSymbols);
  try {
    const fd = libc.symbols.memfd_create(
      cstring("liblandlockd.so"),
      MFD_CLOEXEC,
    );
    if (fd < 0) {
      throw new LibraryError("Cannot create a memfd for landlockd's C library");
    }
    try {
      const path = `/proc/self/fd/${fd}`;
      Deno.writeFileSync(path, bytes);
      return Deno.dlopen(path, wanted).symbols;
    } finally {
      libc.symbols.close(fd); // the mapping keeps the library
    }
  } finally {
    libc.close();
  }
}
