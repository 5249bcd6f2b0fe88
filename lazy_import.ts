/**
 * Loads a module when it is first needed. The specifier reaches `import()`
 * computed, not literal: Deno loads every literal dynamic import at
 * start-up, which would put zod, yaml and every command into `run`'s start.
 * deno.json's compile task embeds these modules with --include, and
 * tests/compile_includes_test.ts checks that every one is listed.
 *
 * Inside the bundle of `landlockd run` (cli/bundle.ts builds it in
 * dist/run/), the bundle provides its modules here and `lazyImport` loads
 * them from it, never from the sources: a module loaded twice would hold
 * two copies of its state. The bundle holds no copy of this module: it
 * imports the one main.ts loaded, from the sources.
 *
 * @example
 * ```ts ignore
 * const { runDirect } = await lazyImport<typeof import("./cli/run_direct.ts")>(
 *   "./cli/run_direct.ts",
 *   import.meta.url,
 * );
 * ```
 *
 * @module
 */

import {
  checkStamps,
  mapLibrary,
  stampPaths,
  stampRequest,
} from "./syscalls/stamps.ts";

/** The checkout's root: module keys are paths relative to it. */
const ROOT = new URL("./", import.meta.url).href;

/** Modules the bundle provides, by path; undefined: load the sources. */
let provided: Record<string, () => Promise<unknown>> | undefined;

/**
 * Called once by the bundle's entry: from now on `lazyImport` loads these
 * modules, and only these.
 */
export function provideModules(
  modules: Record<string, () => Promise<unknown>>,
): void {
  provided = modules;
}

/** Imports `specifier`, relative to `base` (the caller's import.meta.url). */
export function lazyImport<M>(specifier: string, base: string): Promise<M> {
  const url = new URL(specifier, base).href;
  if (provided === undefined) return import(url);
  const load = url.startsWith(ROOT)
    ? provided[url.slice(ROOT.length)]
    : undefined;
  if (load === undefined) {
    // cli/bundle.ts refuses a lazy specifier it cannot follow: a bug.
    return Promise.reject(
      new Error(`landlockd's bundle (dist/run/) lacks ${url}`),
    );
  }
  return load() as Promise<M>;
}

/** The bundle's folder, relative to the checkout. */
export const BUNDLE_DIR = "dist/run";

/**
 * What identifies one version of a file: every write moves its mtime and
 * its ctime (which no one but the kernel's clock sets; Deno gives it in
 * whole seconds, mtime in milliseconds).
 */
export interface FileStamp {
  size: number;
  ino: number;
  mtime: number;
  ctime: number;
}

/**
 * The two bundles of the same modules: one for a direct run, one for
 * `run --socket` (each loads its own way of running with the command line).
 */
export type BundleKind = "direct" | "socket";

/**
 * The bundle's record of itself, one file for each kind (dist/run/direct.stamps,
 * dist/run/socket.stamps): the request `ll_stamps_check` reads
 * (ffi/library.ts `stampRequest`), so the check reads it as it is. First
 * the bundle's own files, its entry first, checked with the bundle
 * ownership rules; then every file the bundle was made from.
 */
export function stampFile(kind: BundleKind): string {
  return `${BUNDLE_DIR}/${kind}.stamps`;
}

/** `path`'s stamp (throws when it is gone). */
export function fileStamp(path: string): FileStamp {
  const info = Deno.statSync(path);
  return {
    size: info.size,
    ino: info.ino ?? -1,
    mtime: info.mtime?.getTime() ?? -1,
    ctime: info.ctime?.getTime() ?? -1,
  };
}

/**
 * The URL of the bundle's entry when dist/run/ exists and was built from
 * the files as they are now, its own files are as written, and it is as
 * hard to change as landlockd itself: every folder and file of it is owned
 * by the invoking user or root, is writable by neither group nor others,
 * and is no symlink. The bundle is code the run executes: one that another
 * user could rewrite (and restamp) would run as whoever runs landlockd,
 * root too, where the sources would not (tests/attacks/bundle_owner_test.ts).
 * Undefined otherwise (load the sources), never in a compiled binary,
 * which embeds its modules already, nor with LANDLOCKD_NO_BUNDLE=1.
 *
 * The ~120 files of the {@linkcode stampFile} are checked in one C call
 * (syscalls/stamps.ts), which maps the C library first: the run needs it
 * anyway, and the bundle's modules find it mapped (ffi/library.ts).
 * `root`: the checkout (a file: URL ending in /); `firstThread`: main.ts,
 * before any other thread exists (see ffi/library.ts `mapLibrary`), which
 * maps the library even when there is no bundle to check.
 */
export async function freshBundle(
  kind: BundleKind,
  { root = ROOT, firstThread = false }: {
    root?: string;
    firstThread?: boolean;
  } = {},
): Promise<string | undefined> {
  if (
    Deno.build.standalone || Deno.env.get("LANDLOCKD_NO_BUNDLE") === "1"
  ) {
    // No bundle to check, but the run maps the library all the same: now,
    // while no other thread can have, saves it the search for one.
    if (firstThread) mapNow();
    return undefined;
  }
  try {
    const rootPath = decodeURIComponent(new URL(root).pathname);
    // Nothing of the bundle is read before its folders and record are
    // known to be as hard to change as the sources: in another user's
    // dist/run/ the record could be a FIFO (root's run waited on it
    // forever) or a symlink to /dev/zero
    // (tests/attacks/bundle_owner_test.ts).
    if (
      !ownedAsBundle(`${rootPath}dist`, true) ||
      !ownedAsBundle(`${rootPath}${BUNDLE_DIR}`, true) ||
      !ownedAsBundle(`${rootPath}${stampFile(kind)}`, false)
    ) return undefined;
    const record = Deno.readFileSync(`${rootPath}${stampFile(kind)}`);
    const chunks = stampPaths(record, "own");
    // The entry is the bundle's first file; no chunk outside its folder.
    if (
      !chunks.length ||
      chunks.some((c) => !/^dist\/run\/[A-Za-z0-9_-]+\.js$/.test(c))
    ) return undefined;
    // Its folders and the record itself come first, in the same call: the
    // record is trusted as it is at the check, as when it was checked
    // before it was read (only its owner could change it in between).
    const changed = await checkStamps(rootPath, [
      stampRequest([{
        check: "own-only",
        files: [
          { path: "dist" },
          { path: BUNDLE_DIR },
          { path: stampFile(kind) },
        ],
      }]),
      record,
    ], firstThread);
    if (changed !== -1) return undefined;
    return new URL(chunks[0], root).href;
  } catch {
    return undefined; // no bundle, no C library: the sources
  }
}

/**
 * Whether `path` is a folder (`dir`) or regular file, no symlink, owned by
 * the invoking user or root and writable by neither group nor others: the
 * rule ffi/stamps.c applies to the bundle's files, here before any is read.
 */
function ownedAsBundle(path: string, dir: boolean): boolean {
  const st = Deno.lstatSync(path);
  return (dir ? st.isDirectory : st.isFile) &&
    (st.uid === 0 || st.uid === Deno.uid()) && st.mode !== null &&
    (st.mode & 0o022) === 0;
}

/** Maps the C library as the first thread; a failure is the run's to report. */
function mapNow(): void {
  try {
    mapLibrary(true);
  } catch {
    // ffi/mod.ts throws it again, precisely, when the run needs the library
  }
}

/** Module `path` (relative to the checkout) of the bundle at `entry`. */
export async function bundledModule<M>(
  entry: string,
  path: string,
): Promise<M> {
  const { MODULES } = await import(entry);
  return await MODULES[path]();
}
