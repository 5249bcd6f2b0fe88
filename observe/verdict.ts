/**
 * The plan's verdict on one observed access, computed in TypeScript the
 * way Landlock computes it: a layer refuses an access when it handles a
 * right the access needs and no rule of that layer on the path, or on a
 * directory above it, allows that right. Pure; rule paths are resolved
 * once by the caller (symlinks followed, as the kernel did when the rule
 * was added).
 *
 * @module
 */

import type { LandlockPlan } from "../policy/plan.ts";
import { FILE_RIGHTS, type FsRight } from "../policy/rights.ts";
import type { Access } from "./access.ts";

/** Which layer refuses an access, and which rights it lacks. */
export interface Refusal {
  /** Index of the refusing layer in the plan. */
  layer: number;
  /** The policy section that refuses: `fs_layer[0]` or `net`. */
  section: string;
  /** The rights the access needs that this layer does not grant there. */
  missing: string[];
}

/** A plan's rules with their paths resolved, ready to evaluate accesses. */
export interface ResolvedPlan {
  layers: {
    from: string[];
    fs: Set<string>;
    net: Set<string>;
    rules: { path: string; rights: Set<string> }[];
    ports: Map<number, Set<string>>;
  }[];
}

/**
 * Resolves a plan's rule paths with `real` (undefined: the path does not
 * exist, and the rule is skipped as the kernel would).
 */
export function resolvePlan(
  plan: LandlockPlan,
  real: (path: string) => string | undefined,
): ResolvedPlan {
  return {
    layers: plan.layers.map((l) => ({
      from: l.from,
      fs: new Set(l.handled_access_fs),
      net: new Set(l.handled_access_net),
      rules: l.path_beneath.flatMap((r) => {
        const path = real(r.path);
        return path === undefined
          ? []
          : [{ path, rights: new Set<string>(r.allowed_access) }];
      }),
      ports: l.net_port.reduce(
        (m, p) =>
          m.set(p.port, new Set([...m.get(p.port) ?? [], ...p.allowed_access])),
        new Map<number, Set<string>>(),
      ),
    })),
  };
}

/** Whether `dir` is `path` or a directory above it. */
export function covers(dir: string, path: string): boolean {
  return dir === path || dir === "/" ||
    (path.startsWith(dir) && path[dir.length] === "/");
}

/** The directory holding `path`. */
export function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/")) || "/";
}

const FILE = new Set<string>(FILE_RIGHTS as readonly FsRight[]);
const NET = new Set(["bind_tcp", "connect_tcp"]);

/**
 * The first layer that refuses `a`, or undefined when the plan allows it.
 * `read_dir` and the file rights are checked on the path itself and above;
 * the rights to create, remove and reparent entries on the directory
 * holding it and above.
 */
export function refusal(
  plan: ResolvedPlan,
  a: Pick<Access, "path" | "port" | "rights">,
): Refusal | undefined {
  const rights = a.rights ?? [];
  for (const [index, layer] of plan.layers.entries()) {
    const missing: string[] = [];
    for (const right of rights) {
      if (NET.has(right)) {
        if (!layer.net.has(right) || a.port === undefined) continue;
        if (!layer.ports.get(a.port)?.has(right)) missing.push(right);
        continue;
      }
      if (!layer.fs.has(right) || a.path === undefined) continue;
      const target = FILE.has(right) || right === "read_dir"
        ? a.path
        : parentOf(a.path);
      const granted = layer.rules.some((r) =>
        r.rights.has(right) && covers(r.path, target)
      );
      if (!granted) missing.push(right);
    }
    if (missing.length) {
      const net = missing.every((r) => NET.has(r));
      const section = net
        ? (layer.from.find((f) => f === "net") ?? "net")
        : (layer.from.find((f) => f.startsWith("fs_layer")) ?? layer.from[0]);
      return { layer: index, section, missing };
    }
  }
  return undefined;
}
