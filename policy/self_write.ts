/**
 * Whether a plan lets the command change a given file or tree (pure: the
 * caller resolves paths to inodes). `run` refuses a policy that could
 * change landlockd's own files, the Deno cache it loads from, or the policy
 * file itself: the next run would then execute or read what the command
 * wrote.
 *
 * Landlock attaches a rule to an inode and allows a right on a file when,
 * in every layer that handles the right, some rule granting it sits on the
 * file or on a directory the kernel passes walking up from it. So objects
 * are compared by inode (`dev:ino`), which sees through symlinks and bind
 * mounts of the rule's path.
 *
 * A right that no layer handles is not restricted by the policy at all;
 * such a policy makes no promise about writing, and this check does not
 * refuse it (docs/security.md).
 *
 * @module
 */

import type { FsRight } from "./rights.ts";
import type { KeyPath } from "./locate.ts";

/** Rights that change a file's content or a directory's entries. */
export const WRITE_RIGHTS: readonly FsRight[] = [
  "write_file",
  "truncate",
  "remove_dir",
  "remove_file",
  "make_char",
  "make_dir",
  "make_reg",
  "make_sock",
  "make_fifo",
  "make_block",
  "make_sym",
  "refer",
];

/** A place on the host: its inode and those of the directories above it. */
export interface Place {
  /** `dev:ino` of the object itself. */
  id: string;
  /** `dev:ino` of the object and every directory up to `/`, nearest first. */
  chain: readonly string[];
}

/** A `path_beneath` rule, resolved. */
export interface ResolvedRule extends Place {
  key: string;
  path: string;
  allowed_access: readonly FsRight[];
}

/** A Landlock layer, resolved. */
export interface ResolvedLayer {
  handled_access_fs: readonly FsRight[];
  path_beneath: readonly ResolvedRule[];
}

/** A broker grant that writes on the command's behalf, resolved. */
export interface ResolvedGrant extends Place {
  /** `allow_write`, `scratch` or `export`. */
  kind: string;
  index: number;
  path: string;
}

/** What may be written: one file, or a directory and everything beneath. */
export interface Target extends Place {
  path: string;
  tree: boolean;
}

/** Why a target is writable: the right and the rule (or grant) giving it. */
export interface WriteGrant {
  right: string;
  /** Key path of the rule or broker entry, e.g. `fs_layer[0].rule[1]`. */
  key: KeyPath;
  /** The rule's or grant's path as the policy wrote it. */
  path: string;
}

function keyPathOf(key: string): KeyPath {
  return key.split(/[.[\]]+/).filter((p) => p !== "").map((p) =>
    /^\d+$/.test(p) ? Number(p) : p
  );
}

/** Whether `inner` is `outer` or lies beneath it. */
function within(inner: Place, outer: Place): boolean {
  return inner.chain.includes(outer.id);
}

/**
 * The first way `layers` and `grants` let the command change `target` (its
 * content, or for a tree anything beneath it), or undefined.
 */
export function writeGrant(
  target: Target,
  layers: readonly ResolvedLayer[],
  grants: readonly ResolvedGrant[] = [],
): WriteGrant | undefined {
  // Coverage only grows going down, so the deepest points worth checking
  // are the target itself and, in a tree, each rule path beneath it.
  const points: Place[] = [target];
  if (target.tree) {
    for (const layer of layers) {
      for (const rule of layer.path_beneath) {
        if (within(rule, target)) points.push(rule);
      }
    }
  }
  for (const right of WRITE_RIGHTS) {
    const handling = layers.filter((l) => l.handled_access_fs.includes(right));
    if (handling.length === 0) continue;
    for (const point of points) {
      const granting = handling.map((l) =>
        l.path_beneath.find((r) =>
          r.allowed_access.includes(right) && within(point, r)
        )
      );
      if (granting.every((r) => r !== undefined)) {
        const rule = granting[granting.length - 1]!;
        return {
          right,
          key: [...keyPathOf(rule.key), "allowed_access"],
          path: rule.path,
        };
      }
    }
  }
  for (const grant of grants) {
    const hit = within(target, grant) ||
      (target.tree && within(grant, target));
    if (hit) {
      return {
        right: grant.kind,
        key: ["broker", grant.kind, grant.index],
        path: grant.path,
      };
    }
  }
  return undefined;
}
