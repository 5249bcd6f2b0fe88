/**
 * Refuses, before anything starts, a plan that lets the command change
 * what a later landlockd run trusts: the policy file itself, landlockd's
 * own files (source tree with node_modules/ and ffi/build/, or the compiled
 * binary), the Deno runtime, the Deno cache (DENO_DIR) that `deno run`
 * loads transpiled code, V8 code cache and npm packages from, and the
 * default daemon socket.
 *
 * What Deno 2.9 checks in DENO_DIR (tried here, December 2026):
 * - `gen/` (transpiled modules): each file ends with a source hash and an
 *   XxHash64 of the code and a cache-version string. A naive edit is
 *   detected and the module re-transpiled; but the hash is not a secret
 *   (Deno's own comment calls it an insecure hash, fine "because if someone
 *   can change the emit source then they can also change the version
 *   hash"), so an attacker who computes it is not stopped.
 * - `v8_code_cache_v2` (bytecode, SQLite): another module's bytecode of the
 *   same length swapped into a row was rejected by V8; not proven safe.
 * - `npm/` (extracted packages): when `node_modules/` is missing or
 *   incomplete (`nodeModulesDir: "auto"`), Deno copies packages from here
 *   without re-checking their integrity: a line appended to
 *   `npm/registry.npmjs.org/smol-toml/1.4.2/dist/index.js` ran in the next
 *   landlockd start. `node_modules/` itself is never verified.
 * - `latest.txt` (upgrade notice text), `dl/` (the `denort` that
 *   `deno compile` embeds: build time, not run time).
 * So the whole of DENO_DIR is treated as landlockd's own code.
 *
 * @module
 */

import { PathError } from "../policy/diagnostic.ts";
import type { Policy } from "../policy/schema.ts";
import {
  type Place,
  type ResolvedGrant,
  type ResolvedLayer,
  type Target,
  writeGrant,
} from "../policy/self_write.ts";
import { isBeneath, parentOf } from "../policy/paths.ts";
import type { SandboxPlan } from "./run.ts";
import { policyFiles, type Trusted, trustedFiles } from "./trusted.ts";

export {
  clientTrusted,
  denoDir,
  policyFiles,
  type Trusted,
  trustedFiles,
} from "./trusted.ts";

function idOf(info: Deno.FileInfo): string {
  return `${info.dev}:${info.ino}`;
}

/** `dev:ino` by real path, for one check (directories repeat a lot). */
type Ids = Map<string, string>;

/** The inode chain of `path` (following symlinks), or undefined if missing. */
export function placeOf(path: string, ids: Ids = new Map()): Place | undefined {
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch {
    return undefined;
  }
  const chain: string[] = [];
  for (let dir = real;; dir = parentOf(dir)) {
    let id = ids.get(dir);
    if (id === undefined) {
      id = idOf(Deno.statSync(dir));
      ids.set(dir, id);
    }
    chain.push(id);
    if (dir === "/") break;
  }
  return { id: chain[0], chain };
}

function resolveLayers(plan: SandboxPlan, ids: Ids): ResolvedLayer[] {
  // Rules on a per-run tmpfs or proc apply to that fresh filesystem only.
  const fresh = (plan.mounts?.mounts ?? []).filter((m) => m.kind !== "bind");
  return plan.landlock.layers.map((layer) => ({
    handled_access_fs: layer.handled_access_fs,
    path_beneath: layer.path_beneath.flatMap((rule) => {
      if (fresh.some((m) => isBeneath(rule.path, m.host_target))) return [];
      const place = placeOf(rule.path, ids);
      return place ? [{ ...rule, ...place }] : [];
    }),
  }));
}

function resolveGrants(policy: Policy, ids: Ids): ResolvedGrant[] {
  const out: ResolvedGrant[] = [];
  for (const kind of ["allow_write", "scratch", "export"] as const) {
    (policy.broker?.[kind] ?? []).forEach((path, index) => {
      const place = placeOf(path, ids);
      if (place) out.push({ kind, index, path, ...place });
    });
  }
  return out;
}

/** A writable bind mount: `source` shows again at `at` (a host path). */
interface Bind {
  source: string;
  at: string;
}

function writableBinds(policy: Policy, plan: SandboxPlan): Bind[] {
  const root = plan.mounts?.root ?? "";
  return [
    ...(plan.mounts?.mounts ?? []).filter((m) =>
      m.kind === "bind" && !m.read_only && m.source
    ).map((m) => ({ source: m.source!, at: m.host_target })),
    ...(policy.broker?.mount_bind ?? []).filter((b) => !b.read_only).map((
      b,
    ) => ({ source: b.source, at: root + b.target })),
  ];
}

/** The object itself when it exists, else its nearest existing directory. */
function targetOf(t: Trusted, ids: Ids): Target | undefined {
  const place = placeOf(t.path, ids);
  if (place) return { path: t.path, tree: t.tree, ...place };
  for (let dir = parentOf(t.path);; dir = parentOf(dir)) {
    const up = placeOf(dir, ids);
    if (up) return { path: dir, tree: false, ...up };
    if (dir === "/") return undefined;
  }
}

/**
 * Throws PathError (at the rule's line) when `plan` lets the command
 * change `policyFile`, a file it extends (`bases`), or anything in
 * `trusted`.
 */
export function refuseSelfWrite(
  policy: Policy,
  plan: SandboxPlan,
  policyFile: string | undefined,
  bases: readonly string[] = [],
  trusted: Trusted[] = trustedFiles(),
): void {
  const ids: Ids = new Map();
  const layers = resolveLayers(plan, ids);
  const grants = resolveGrants(policy, ids);
  const all: Trusted[] = [...trusted, ...policyFiles(policyFile, bases)];
  const binds = writableBinds(policy, plan);
  for (const t of all) {
    const target = targetOf(t, ids);
    if (!target) continue;
    let grant = writeGrant(target, layers, grants);
    let via = "";
    // A writable bind of (part of) the target shows it again under the
    // bind's target, where other rules cover it: Landlock skips the
    // mount point itself and continues above it.
    for (const b of grant ? [] : binds) {
      const source = placeOf(b.source, ids);
      const at = placeOf(b.at, ids);
      if (!source || !at) continue;
      if (
        !source.chain.includes(target.id) && !target.chain.includes(source.id)
      ) {
        continue;
      }
      grant = writeGrant({ path: b.at, tree: true, ...at }, layers, grants);
      if (grant) {
        via = ` through the bind mount of "${b.source}" on "${b.at}"`;
        break;
      }
    }
    if (!grant) continue;
    const how = grant.key[0] === "broker"
      ? `the broker's ${grant.right} "${grant.path}"`
      : `"${grant.right}" on "${grant.path}"`;
    const where = target.path === t.path
      ? `"${t.path}"`
      : `"${t.path}" (not there yet: its directory "${target.path}")`;
    throw new PathError({
      severity: "error",
      path: grant.key,
      message:
        `${how} lets the command change ${t.what}, ${where}${via}, and a later run would trust what it wrote there; ${t.hint}`,
    });
  }
}
