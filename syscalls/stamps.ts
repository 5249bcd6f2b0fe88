/**
 * Whether files still have the stamps (size, inode, times) recorded for
 * them, and a bundle's files the ownership it needs: the check of
 * `landlockd run`'s bundle (lazy_import.ts `freshBundle`), one C call for
 * its ~120 files where a `Deno.statSync` each cost 2-3 ms in a fresh
 * process. It maps landlockd's C library first (`mapLibrary`, which main.ts
 * also calls when there is no bundle to check).
 *
 * @module
 */

export {
  checkStamps,
  mapLibrary,
  type StampCheck,
  type StampEntry,
  type StampList,
  stampPaths,
  stampRequest,
} from "../ffi/library.ts";
