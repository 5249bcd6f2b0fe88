/**
 * Lexical path handling for the broker. Pure: no filesystem access.
 *
 * The broker never trusts these results to stay inside a root: it performs
 * every operation relative to an fd of the root with RESOLVE_BENEATH, so a
 * symlink or a race can make an operation fail, never escape.
 *
 * @module
 */

/**
 * Makes `path` absolute against `base` and removes `.`, `..` and repeated
 * slashes, without looking at the filesystem.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { normalize } from "./paths.ts";
 * assert.equal(normalize("/scratch/a/../b//c/."), "/scratch/b/c");
 * assert.equal(normalize("x/../../y", "/scratch/sub"), "/scratch/y");
 * ```
 */
export function normalize(path: string, base = "/"): string {
  const full = path.startsWith("/") ? path : `${base}/${path}`;
  const out: string[] = [];
  for (const part of full.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** `rel` of `path` beneath `root` ("" for the root itself), or undefined. */
export function beneath(path: string, root: string): string | undefined {
  if (path === root) return "";
  const prefix = root === "/" ? "/" : `${root}/`;
  return path.startsWith(prefix) ? path.slice(prefix.length) : undefined;
}

/** `["a/b", "c"]` for `"a/b/c"`; `[".", "c"]` for `"c"`. */
export function splitParent(rel: string): [string, string] {
  const i = rel.lastIndexOf("/");
  return i < 0 ? [".", rel] : [rel.slice(0, i), rel.slice(i + 1)];
}

/** What a path is to the broker. */
export type Target =
  | { kind: "file"; path: string; canonical: string; writable: boolean }
  | { kind: "scratch" | "export"; path: string; root: string; rel: string };

/** The declared paths, canonicalised. */
export interface Grants {
  /** Declared and canonical file paths → canonical path and writability. */
  files: Map<string, { canonical: string; writable: boolean }>;
  scratch: string[];
  export: string[];
  /**
   * `[[broker.addfd]]` rules for `open` and `scratch_open`, targets
   * normalised (and canonical when they exist). Absent when the policy has
   * no addfd rule (no narrowing); present, possibly empty, when it has any
   * (an fd needs a covering rule).
   */
  addfd?: AddfdGrant[];
}

/** One `[[broker.addfd]]` rule as the broker matches it. */
export interface AddfdGrant {
  action: "open" | "scratch_open";
  /** The target as written (normalised) and its canonical path. */
  targets: string[];
  mode?: "read" | "write";
}

/** The declared thing `path` (absolute, normalised) touches, if any. */
export function classify(path: string, grants: Grants): Target | undefined {
  const file = grants.files.get(path);
  if (file) return { kind: "file", path, ...file };
  for (const kind of ["scratch", "export"] as const) {
    for (const root of grants[kind]) {
      const rel = beneath(path, root);
      if (rel !== undefined) return { kind, path, root, rel };
    }
  }
  return undefined;
}
