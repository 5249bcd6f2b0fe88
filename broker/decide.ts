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
 * `[[broker.addfd]]` narrows fd injection, never widens it, as in the C
 * landlockd: once a policy has any addfd rule, a declared file gets an fd
 * only when an `open` rule's target is the file or a directory above it (by
 * declared or canonical path), and an open beneath a scratch root only when
 * a `scratch_open` rule covers it; anything else is refused with EACCES. A
 * covering rule with `mode = "read"` refuses a write open with EACCES even
 * when allow_write declares the file. Without addfd rules, nothing changes.
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
import {
  type AddfdGrant,
  beneath,
  classify,
  type Grants,
  type Target,
} from "./paths.ts";

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
  /** `noSymlinks`: resolve without following any symlink (ELOOP). */
  | { act: "open_beneath"; at: Beneath; noSymlinks?: true }
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

/**
 * What `[[broker.addfd]]` rules of `action` say about an open of one of
 * `paths` (the same object by different names): "inject" when the policy
 * has no addfd rules or a covering rule allows the open; "deny" when no rule
 * of this action covers it, or every covering rule is read-only and the
 * open writes.
 */
export function addfdVerdict(
  action: AddfdGrant["action"],
  paths: string[],
  flags: number,
  grants: Grants,
): "inject" | "deny" {
  if (!grants.addfd) return "inject";
  const covering = grants.addfd.filter((r) =>
    r.action === action &&
    r.targets.some((t) => paths.some((p) => beneath(p, t) !== undefined))
  );
  return covering.some((r) => r.mode !== "read" || !writes(flags))
    ? "inject"
    : "deny";
}

/**
 * Whether `scratch_open` rules treat everything beneath `root` alike, so a
 * symlink inside the root (the broker resolves beneath it) cannot lead
 * from a path a rule allows to one it does not: some rule covers the whole
 * root, and either it allows writes or no rule inside the root does.
 */
export function uniformBeneath(root: string, grants: Grants): boolean {
  const rules = (grants.addfd ?? []).filter((r) => r.action === "scratch_open");
  const whole = rules.filter((r) =>
    r.targets.some((t) => beneath(root, t) !== undefined)
  );
  if (whole.some((r) => r.mode !== "read")) return true;
  return whole.length > 0 && !rules.some((r) => r.mode !== "read");
}

/** What `scratch_open` rules give an open of `path`: "rw", "r" or "". */
function scratchClass(path: string, at: Beneath, grants: Grants): string {
  const names = [path, at.rel ? `${at.root}/${at.rel}` : at.root];
  return (addfdVerdict("scratch_open", names, 0, grants) === "inject"
    ? "r"
    : "") +
    (addfdVerdict("scratch_open", names, 2, grants) === "inject" ? "w" : "");
}

/**
 * Whether a rename or link within scratch would carry content between
 * places `scratch_open` rules treat differently (a hard link to a
 * read-only file from a writable place), or move a subtree across a rule's
 * target (a directory renamed onto it). Either would undo the narrowing by
 * path, so with rules that are not uniform over a root it is refused.
 */
function movesAcrossAddfd(
  oldpath: string,
  src: Beneath,
  newpath: string,
  dst: Beneath,
  grants: Grants,
): boolean {
  if (!grants.addfd || !grants.scratch.includes(dst.root)) return false;
  if (uniformBeneath(src.root, grants) && uniformBeneath(dst.root, grants)) {
    return false;
  }
  if (
    scratchClass(oldpath, src, grants) !== scratchClass(newpath, dst, grants)
  ) {
    return true;
  }
  const inside = (p: string, at: Beneath) =>
    [p, `${at.root}/${at.rel}`].some((base) =>
      grants.addfd!.some((r) =>
        r.action === "scratch_open" &&
        r.targets.some((t) => t !== base && beneath(t, base) !== undefined)
      )
    );
  return inside(oldpath, src) || inside(newpath, dst);
}

function narrowed(verdict: "inject" | "deny", ok: Action): Action {
  return verdict === "inject" ? ok : DENY;
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
    if (movesAcrossAddfd(req.oldpath, src, req.newpath, dst, grants)) {
      return DENY;
    }
    return { act: req.op, from: src, to: dst };
  }

  const target = classify(req.path, grants);
  if (!target) return { act: "continue" };
  if (target.kind === "file") {
    if (req.op !== "open") return DENY;
    if (!target.writable && writes(req.flags)) return DENY;
    return narrowed(
      addfdVerdict(
        "open",
        [target.path, target.canonical],
        req.flags,
        grants,
      ),
      { act: "open_file", canonical: target.canonical },
    );
  }
  if (target.kind === "export") return DENY;
  const at = { root: target.root, rel: target.rel };
  const scratchOpen = (flags: number): Action =>
    narrowed(
      addfdVerdict(
        "scratch_open",
        [
          target.path,
          target.rel ? `${target.root}/${target.rel}` : target.root,
        ],
        flags,
        grants,
      ),
      grants.addfd && !uniformBeneath(target.root, grants)
        ? { act: "open_beneath", at, noSymlinks: true }
        : { act: "open_beneath", at },
    );
  if (target.rel === "") {
    // The root itself: readable, never changed.
    return req.op === "open" && !writes(req.flags)
      ? scratchOpen(req.flags)
      : DENY;
  }
  switch (req.op) {
    case "open":
      return scratchOpen(req.flags);
    case "mkdir":
      return { act: "mkdir", at };
    case "unlink":
      return { act: "unlink", at };
    case "symlink":
      return { act: "symlink", at };
  }
}
