/**
 * Where each value of a merged policy (policy/extends.ts) was written: a
 * file and a key path in it. No zod here: `run` loads this on every start.
 *
 * @module
 */

import type { Diagnostic, Source } from "./diagnostic.ts";
import { formatKeyPath, indexLines, type KeyPath, lineOf } from "./locate.ts";
import type { Policy } from "./schema.ts";

/** Where one value of a merged policy was written. */
export interface Origin {
  source: Source;
  path: KeyPath;
}

/** Origins by merged key path ({@link keyOf}). */
export type Origins = Map<string, Origin>;

/**
 * Whether the text may use `extends`, `[[fs_rule]]` or `[[net_rule]]` (a
 * cheap test, before parsing: a false positive only costs a parse).
 */
export function mayExtend(text: string): boolean {
  return /^\s*(extends|fs_rule|net_rule)\b|\[\[\s*(fs|net)_rule/m.test(text);
}

/** The map key of a key path. */
export const keyOf = (p: KeyPath): string => JSON.stringify(p);

/** The origin of `path` or of its nearest parent that has one. */
export function nearest(origins: Origins, path: KeyPath): Origin | undefined {
  for (let len = path.length; len >= 0; len--) {
    const o = origins.get(keyOf(path.slice(0, len)));
    if (o) return { source: o.source, path: [...o.path, ...path.slice(len)] };
  }
  return undefined;
}

/** `policies/ci-default.toml:21` */
export function describeOrigin(origin: Origin | undefined): string {
  if (!origin) return "?";
  const line = lineOf(indexLines(origin.source.text), origin.path);
  return `${origin.source.name}${line === undefined ? "" : `:${line}`}`;
}

/** Moves a diagnostic about the merged document to the file it came from. */
export function toOrigin(
  d: Diagnostic,
  origins: Origins,
  top: Source,
): Diagnostic {
  const o = d.path.length ? nearest(origins, d.path) : undefined;
  if (!o) return d;
  return {
    ...d,
    path: o.path,
    ...(o.source === top ? {} : { source: o.source }),
  };
}

const ORIGINS = new WeakMap<object, { origins: Origins; sources: Source[] }>();

/** Remembers where a merged policy's values came from. */
export function registerOrigins(
  policy: Policy,
  origins: Origins,
  sources: Source[] = [],
): void {
  ORIGINS.set(policy, { origins, sources });
}

/**
 * Diagnostics about a merged policy, moved to the files and keys they came
 * from; unchanged for a policy that extends nothing.
 */
export function relocate(
  policy: Policy,
  top: Source,
  diagnostics: Diagnostic[],
): Diagnostic[] {
  const o = ORIGINS.get(policy);
  return o ? diagnostics.map((d) => toOrigin(d, o.origins, top)) : diagnostics;
}

/** Carries the origins over to a copy of the policy (after `${VAR}` expansion). */
export function carryOrigins(from: Policy, to: Policy): void {
  const o = ORIGINS.get(from);
  if (o) ORIGINS.set(to, o);
}

/** Every policy a merged policy was read from (empty when it extends none). */
export function loadedFrom(policy: Policy): Source[] {
  return ORIGINS.get(policy)?.sources ?? [];
}

/**
 * Where each layer, rule and section of a merged policy was written, as
 * `{ "fs_layer[0].rule[2]": "ci-default.toml:21" }`; undefined for a policy
 * that extends nothing (its keys are its own lines).
 */
export function ruleOrigins(
  policy: Policy,
): Record<string, string> | undefined {
  const o = ORIGINS.get(policy);
  if (!o) return undefined;
  const out: Record<string, string> = {};
  const add = (path: KeyPath) => {
    out[formatKeyPath(path)] = describeOrigin(nearest(o.origins, path));
  };
  (policy.fs_layer ?? []).forEach((layer, i) => {
    add(["fs_layer", i]);
    (layer.rule ?? []).forEach((_, j) => add(["fs_layer", i, "rule", j]));
  });
  (policy.net?.rule ?? []).forEach((_, j) => add(["net", "rule", j]));
  for (
    const key of [
      "compat",
      "net",
      "scope",
      "broker",
      "mount",
      "runtime",
      "seccomp",
    ] as const
  ) {
    if (o.origins.has(keyOf([key]))) add([key]);
  }
  return out;
}
