/**
 * Which executable a PATH search will run under a plan, and which PATH
 * candidates the Landlock rules make it skip. The child tries each
 * candidate in order (ffi/spawn.c, like execvp) and moves on after
 * EACCES, so a candidate the policy denies (a version manager's shim in
 * $HOME) is passed over silently for a later one (/usr/bin/python3):
 * landlockd says so, at `--dry-run` and at run time.
 *
 * @module
 */

import type { LandlockPlan } from "../policy/plan.ts";
import { isBeneath } from "../policy/paths.ts";

/** How the host filesystem looks, for {@link resolveCommand}. */
export interface PathProbe {
  /** The canonical path (symlinks resolved), or undefined if missing. */
  realPath(path: string): string | undefined;
  /** Whether `path` is a regular file with an execute bit. */
  isExecutable(path: string): boolean;
}

/** The host's filesystem. */
export const HOST: PathProbe = {
  realPath(path) {
    try {
      return Deno.realPathSync(path);
    } catch {
      return undefined;
    }
  },
  isExecutable(path) {
    try {
      const st = Deno.statSync(path);
      return st.isFile && ((st.mode ?? 0) & 0o111) !== 0;
    } catch {
      return false;
    }
  },
};

/** What a PATH search under the plan comes to. */
export interface CommandResolution {
  /** The candidate that will run; undefined when none can. */
  path?: string;
  /** Executable candidates before it that the policy does not allow. */
  skipped: string[];
}

/**
 * Whether every Landlock layer that handles `execute` allows it on
 * `path` (rule paths and `path` compared after resolving symlinks, as the
 * kernel compares inodes).
 */
export function executeAllowed(
  landlock: LandlockPlan,
  path: string,
  probe: PathProbe = HOST,
): boolean {
  const real = probe.realPath(path) ?? path;
  return landlock.layers.every((layer) =>
    !layer.handled_access_fs.includes("execute") ||
    layer.path_beneath.some((rule) => {
      if (!rule.allowed_access.includes("execute")) return false;
      const base = probe.realPath(rule.path);
      return base !== undefined && isBeneath(real, base);
    })
  );
}

/** Walks the candidates as the child will. */
export function resolveCommand(
  landlock: LandlockPlan,
  candidates: readonly string[],
  probe: PathProbe = HOST,
): CommandResolution {
  const skipped: string[] = [];
  for (const c of candidates) {
    if (!probe.isExecutable(c)) continue;
    if (executeAllowed(landlock, c, probe)) return { path: c, skipped };
    skipped.push(c);
  }
  return { skipped };
}

/** The warnings for a resolution; none when nothing was skipped. */
export function skippedWarnings(r: CommandResolution): string[] {
  return r.skipped.map((s) =>
    `warning: "${s}" is on PATH, but the policy does not allow executing it; ${
      r.path ? `"${r.path}" runs instead` : "no later candidate is allowed"
    }`
  );
}
