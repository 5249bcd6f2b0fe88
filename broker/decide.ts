/**
 * What the broker does with a request whose paths are resolved. Pure:
 * given the same request and grants, the same action. Tested from a table
 * in decide_test.ts.
 *
 * The rules: a request that names no declared path is continued (Landlock
 * decides it). Declared files: read, and write only when in allow_write.
 * Scratch roots: create, open, mkdir, rename, link, symlink, unlink, rmdir
 * beneath a root, never on the root itself (which may only be opened to
 * read). Export roots are destinations only: the target of a rename or
 * hard link from a scratch root. Anything else naming a declared path is
 * refused with EACCES.
 *
 * @module
 */

import {
  AT_EMPTY_PATH,
  AT_SYMLINK_FOLLOW,
  O_ACCMODE,
  O_CREAT,
  O_RDONLY,
  O_TMPFILE,
  O_TRUNC,
  RENAME_EXCHANGE,
  RENAME_WHITEOUT,
} from "../syscalls/constants.ts";
import { errno } from "../syscalls/errno.ts";
import { classify, type Grants, type Target } from "./paths.ts";

/** The errno a refused request gets. */
export const EACCES = errno.EACCES;

/** A place inside a root. */
export interface Beneath {
  root: string;
  rel: string;
}

/** What the broker does. */
export type Action =
  | { act: "continue" }
  | { act: "deny"; errno: number }
  | { act: "open_file"; canonical: string }
  | { act: "open_beneath"; at: Beneath }
  | { act: "mkdir"; at: Beneath }
  | { act: "unlink"; at: Beneath }
  | { act: "rename" | "link"; from: Beneath; to: Beneath }
  | { act: "symlink"; at: Beneath };

/** A request with every path made absolute and normalised. */
export type Resolved =
  | { op: "open"; path: string; flags: number }
  | { op: "mkdir" | "unlink" | "symlink"; path: string }
  | { op: "rename" | "link"; oldpath: string; newpath: string; flags: number };

const DENY: Action = { act: "deny", errno: EACCES };

/** Whether open flags can change the file. */
export function writes(flags: number): boolean {
  return (flags & O_ACCMODE) !== O_RDONLY ||
    (flags & (O_CREAT | O_TRUNC | O_TMPFILE)) !== 0;
}

function inScratch(t: Target | undefined): Beneath | undefined {
  return t?.kind === "scratch" && t.rel !== ""
    ? { root: t.root, rel: t.rel }
    : undefined;
}

/** Decides a request against the grants. */
export function decide(req: Resolved, grants: Grants): Action {
  if ("oldpath" in req) {
    const from = classify(req.oldpath, grants);
    const to = classify(req.newpath, grants);
    if (!from && !to) return { act: "continue" };
    const src = inScratch(from);
    const dst = inScratch(to) ??
      (to?.kind === "export" && to.rel !== ""
        ? { root: to.root, rel: to.rel }
        : undefined);
    if (!src || !dst) return DENY;
    if (req.op === "rename") {
      if (req.flags & RENAME_WHITEOUT) return DENY;
      // An exchange would move export content back into scratch.
      if ((req.flags & RENAME_EXCHANGE) && to?.kind === "export") return DENY;
    } else if (req.flags & (AT_SYMLINK_FOLLOW | AT_EMPTY_PATH)) {
      // Following a symlink could hard-link a file from outside the root.
      return DENY;
    }
    return { act: req.op, from: src, to: dst };
  }

  const target = classify(req.path, grants);
  if (!target) return { act: "continue" };
  if (target.kind === "file") {
    if (req.op !== "open") return DENY;
    return !target.writable && writes(req.flags)
      ? DENY
      : { act: "open_file", canonical: target.canonical };
  }
  if (target.kind === "export") return DENY;
  const at = { root: target.root, rel: target.rel };
  if (target.rel === "") {
    // The root itself: readable, never changed.
    return req.op === "open" && !writes(req.flags)
      ? { act: "open_beneath", at }
      : DENY;
  }
  switch (req.op) {
    case "open":
      return { act: "open_beneath", at };
    case "mkdir":
      return { act: "mkdir", at };
    case "unlink":
      return { act: "unlink", at };
    case "symlink":
      return { act: "symlink", at };
  }
}
