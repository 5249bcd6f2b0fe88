/**
 * Loads landlockd's C library: one symbol table (./symbols.ts), one mapping
 * of the library per process (./library.ts, which says where the library
 * is opened from and why).
 *
 * Deno spends time binding each symbol, so each is bound on first use: a
 * direct run binds only the few it calls.
 *
 * @module
 */

import { mapLibrary } from "./library.ts";
import { type Library, symbols } from "./symbols.ts";

export type { Library } from "./symbols.ts";
export { LIBRARY_URL, LibraryError, rootOnly } from "./library.ts";
export * from "./cstring.ts";
export * from "./layout.ts";
export * from "./syscall_numbers.ts";

type Name = keyof typeof symbols;

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
  mapLibrary();
  lib = table as Library;
  return lib;
}

/** Binds `names` in one call and replaces their getters with the results. */
function bind(
  table: Record<Name, unknown>,
  names: Name[],
): Record<string, unknown> {
  const wanted = Object.fromEntries(names.map((n) => [n, symbols[n]]));
  const fns = Deno.dlopen(mapLibrary(), wanted).symbols as Record<
    string,
    unknown
  >;
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
