/**
 * Which symlinks a declared broker path goes through, and whether the
 * sandbox could have put them there.
 *
 * Declared paths are resolved once, at plan time, and the broker then opens
 * the canonical path without following any symlink. A symlink met at plan
 * time is trusted only if no run of this policy could have planted it: no
 * directory from `/` down to the symlink's own lets the sandbox create a
 * symlink (`make_sym`) or move a directory in (`make_dir` with `refer`)
 * under the policy's Landlock layers. Otherwise a sandbox could leave a
 * symlink to a file Landlock denies it, and the next run's broker would
 * grant that file.
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";
import { beneath, normalize } from "./paths.ts";

/** A symlink on a path, and the canonical directory holding it. */
export interface Symlink {
  link: string;
  dir: string;
}

/** The symlinks resolving `path` meets, in order (none for a canonical path). */
export function symlinksOn(path: string): Symlink[] {
  const found: Symlink[] = [];
  let rest = normalize(path).split("/").filter((p) => p);
  let dir = "/";
  while (rest.length) {
    const name = rest.shift()!;
    if (name === "..") {
      dir = normalize(`${dir}/..`);
      continue;
    }
    if (name === ".") continue;
    const next = dir === "/" ? `/${name}` : `${dir}/${name}`;
    let isSymlink: boolean;
    try {
      isSymlink = Deno.lstatSync(next).isSymlink;
    } catch {
      break; // missing: the caller reports it
    }
    if (!isSymlink) {
      dir = next;
      continue;
    }
    found.push({ link: next, dir });
    if (found.length > 40) break; // ELOOP: the caller reports it
    const target = Deno.readLinkSync(next);
    if (target.startsWith("/")) dir = "/";
    rest = [...target.split("/").filter((p) => p), ...rest];
  }
  return found;
}

interface Layer {
  handled: Set<string>;
  /** Canonical rule path → rights granted there and beneath. */
  rules: { path: string; allowed: Set<string> }[];
}

/** The policy's layers with rule paths canonicalised (missing ones dropped). */
function layersOf(policy: Policy): Layer[] {
  return (policy.fs_layer ?? []).map((layer) => ({
    // Landlock handles `refer` in every ruleset, listed or not.
    handled: new Set([...layer.handled_access_fs, "refer"]),
    rules: (layer.rule ?? []).flatMap((rule) => {
      try {
        return [{
          path: Deno.realPathSync(rule.path),
          allowed: new Set<string>(rule.allowed_access),
        }];
      } catch {
        return [];
      }
    }),
  }));
}

/** Whether every layer lets the sandbox use `right` in directory `dir`. */
function allows(layers: Layer[], right: string, dir: string): boolean {
  return layers.every((layer) =>
    !layer.handled.has(right) ||
    layer.rules.some((r) =>
      r.allowed.has(right) && beneath(dir, r.path) !== undefined
    )
  );
}

/** Whether the sandbox may create or move an entry holding a symlink in `dir`. */
function mayPlant(layers: Layer[], dir: string): boolean {
  return allows(layers, "make_sym", dir) ||
    (allows(layers, "make_dir", dir) && allows(layers, "refer", dir));
}

/**
 * The first symlink on `path` that a sandbox under `policy` could have
 * planted, or undefined when every symlink on it (if any) is out of reach.
 */
export function plantable(path: string, policy: Policy): Symlink | undefined {
  const links = symlinksOn(path);
  if (!links.length) return undefined;
  const layers = layersOf(policy);
  return links.find((s) => {
    // The symlink's directory and every directory above it.
    for (let d = s.dir;; d = normalize(`${d}/..`)) {
      if (mayPlant(layers, d)) return true;
      if (d === "/") return false;
    }
  });
}
