/**
 * `extends`: a policy built on other policies. The rules, in full (also in
 * docs/policy.md, "Extending a policy"):
 *
 * 1. The bases named by `extends` (one, or a list) are merged in the order
 *    listed; the extending file is merged on top of them.
 * 2. Merging is one rule for every key: tables merge key by key, arrays
 *    concatenate, and any other value (a string, number or boolean) from the
 *    later file replaces the earlier one. So `[[fs_layer]]`s add layers
 *    (narrowing: stacked layers intersect), `[seccomp] deny` and
 *    `handled_access_net` add to the base's, `[[net.rule]]`s add ports, and
 *    `compat`, `[scope]` flags, `[seccomp] errno` and `[runtime]` keys are
 *    replaced when the extending file sets them. A base's `[net]` keeps
 *    the TCP operations it handles by default (`["connect_tcp"]` unless it
 *    sets only `udp`/`raw`): they are written out before merging, so an
 *    extending `[net]` of `udp`/`raw` only cannot drop them.
 * 3. `[[fs_rule]]` widens the bases' layers: the rule is added to every
 *    layer the bases define, each time with the rights that layer handles,
 *    or, with `layer = N`, to base layer N only (which must handle all of
 *    its rights). `[[net_rule]]` adds a port rule to the bases' `[net]`.
 *    They apply to the bases' layers, never to the extending file's own
 *    (policy/extends_widen.ts).
 *
 * Every value of the merged document remembers the file and key it came
 * from, so errors name that file's line and `--dry-run` can show origins.
 *
 * @module
 */

import type { z } from "zod";
import type { Diagnostic, Source } from "./diagnostic.ts";
import type { KeyPath } from "./locate.ts";
import { keyOf, nearest, type Origin, type Origins } from "./origins.ts";
import { extendingKeys } from "./schema.ts";
import { widen } from "./extends_widen.ts";
import { handledNet, type NetTable } from "./net_sockets.ts";
import {
  BUILTIN_POLICIES,
  builtinPolicyNames,
  checkPolicyName,
  PolicyLookupError,
  policySearchPath,
  readPolicyFile,
} from "./source.ts";

/** The deepest chain of `extends` accepted (the file itself is depth 0). */
export const MAX_EXTENDS_DEPTH = 8;

type Doc = Record<string, unknown>;

/** What {@link resolveExtends} needs from the validator. */
export interface ResolveHelpers {
  parse(source: Source): { doc?: Doc; diagnostics?: Diagnostic[] };
  describe(issues: readonly z.core.$ZodIssue[], doc: unknown): Diagnostic[];
}

/** The merged document, or what was wrong. */
export interface Resolved {
  doc: Doc;
  origins: Origins;
  /** Every policy read, the extending file first. */
  sources: Source[];
  diagnostics: Diagnostic[];
}

const EXTENDING_KEYS = ["extends", "fs_rule", "net_rule"];

/** Whether the document uses `extends`, `[[fs_rule]]` or `[[net_rule]]`. */
export function isExtending(doc: Doc): boolean {
  return EXTENDING_KEYS.some((k) => Object.hasOwn(doc, k));
}

const isTable = (v: unknown): v is Doc =>
  v !== null && typeof v === "object" && !Array.isArray(v) &&
  !(v instanceof Date);

function clone<T>(v: T): T {
  return structuredClone(v);
}

/** `/a/b/../c/./d` → `/a/c/d` */
function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

/** A source's identity for cycle checks: an absolute path or a URL. */
function identity(source: Source): string | undefined {
  const loc = source.location;
  if (loc === undefined) return undefined;
  if (/^[a-z]+:/.test(loc)) return loc;
  return normalize(loc.startsWith("/") ? loc : `${Deno.cwd()}/${loc}`);
}

function readUrl(href: string, name: string): Source {
  try {
    return {
      name,
      text: Deno.readTextFileSync(new URL(href)),
      location: href,
    };
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "No such file or directory (ENOENT)"
      : String(e);
    throw new PolicyLookupError(`Cannot read policy "${name}": ${why}`);
  }
}

/**
 * The policy `spec` names, as written in `from`'s `extends`: a path (it
 * contains "/" or ends in ".toml") relative to `from`'s file, or a name
 * looked up like `--policy NAME`, skipping `from` itself (so a
 * `ci-default.toml` in a policy directory can extend the built-in one).
 */
export function readBase(spec: string, from: Source): Source {
  const self = identity(from);
  if (spec.includes("/") || spec.endsWith(".toml")) {
    const loc = from.location;
    if (spec.startsWith("/")) return readPolicyFile(spec);
    if (loc === undefined) {
      throw new PolicyLookupError(
        `Cannot resolve "${spec}": ${from.name} was not read from a file; name the base by an absolute path or a policy name`,
      );
    }
    if (/^[a-z]+:/.test(loc)) {
      const href = new URL(spec, loc).href;
      const name = href.startsWith(BUILTIN_POLICIES.href)
        ? `policy "${href.slice(BUILTIN_POLICIES.href.length)}" (built in)`
        : href;
      return readUrl(href, name);
    }
    const dir = identity(from)!.replace(/\/[^/]*$/, "");
    return readPolicyFile(normalize(`${dir}/${spec}`));
  }
  checkPolicyName(spec);
  for (const dir of policySearchPath()) {
    const path = normalize(`${dir}/${spec}.toml`);
    if (path === self) continue;
    try {
      Deno.statSync(path);
    } catch {
      continue;
    }
    return readPolicyFile(path);
  }
  const href = new URL(`${spec}.toml`, BUILTIN_POLICIES).href;
  if (href !== self && builtinPolicyNames().includes(spec)) {
    return readUrl(href, `policy "${spec}" (built in)`);
  }
  throw new PolicyLookupError(
    `No policy named "${spec}" in ${
      policySearchPath().join(", ")
    } or the starter policies (${builtinPolicyNames().join(", ")})${
      href === self ? ` other than ${from.name} itself` : ""
    }`,
  );
}

/** Copies `value` into `acc[k]` by the merge rule, recording origins. */
function mergeInto(
  acc: Doc,
  at: KeyPath,
  value: Doc,
  originOf: (rel: KeyPath) => Origin,
  rel: KeyPath,
  origins: Origins,
): void {
  const record = (v: unknown, m: KeyPath, r: KeyPath) => {
    origins.set(keyOf(m), originOf(r));
    if (Array.isArray(v)) v.forEach((e, i) => record(e, [...m, i], [...r, i]));
    else if (isTable(v)) {
      for (const [k, e] of Object.entries(v)) record(e, [...m, k], [...r, k]);
    }
  };
  const forget = (m: KeyPath) => {
    const prefix = keyOf(m).slice(0, -1);
    for (const k of [...origins.keys()]) {
      if (
        k.startsWith(prefix) &&
        (k.length === prefix.length + 1 || k[prefix.length] === ",")
      ) {
        origins.delete(k);
      }
    }
  };
  for (const [k, v] of Object.entries(value)) {
    const m = [...at, k];
    const r = [...rel, k];
    const current = acc[k];
    if (isTable(current) && isTable(v)) {
      origins.set(keyOf(m), originOf(r));
      mergeInto(current, m, v, originOf, r, origins);
    } else if (Array.isArray(current) && Array.isArray(v)) {
      origins.set(keyOf(m), originOf(r));
      v.forEach((e, i) => {
        record(e, [...m, current.length], [...r, i]);
        current.push(clone(e));
      });
    } else {
      forget(m);
      acc[k] = clone(v);
      record(v, m, r);
    }
  }
}

/**
 * Writes out the `handled_access_net` a base's `[net]` implies
 * (policy/net_sockets.ts), so the merge keeps it: a base whose `[net]`
 * restricts TCP connects by default still does when the extending file's
 * `[net]` sets only `udp` or `raw` (which alone would leave TCP alone).
 * The extending file's own `[net]` likewise: an empty one still means "no
 * network" over a base whose `[net]` sets only `udp` or `raw`.
 */
function keepTcpRestriction(base: Doc): void {
  const net = base.net;
  if (!isTable(net) || net.handled_access_net !== undefined) return;
  const handled = handledNet(net as NetTable);
  if (handled.length) net.handled_access_net = handled;
}

interface Built {
  doc: Doc;
  origins: Origins;
}

function error(
  source: Source,
  top: Source,
  path: KeyPath,
  message: string,
): Diagnostic {
  return {
    severity: "error",
    path,
    message,
    ...(source === top ? {} : { source }),
  };
}

/** Checks `extends` and returns the specs it names. */
function specsOf(
  doc: Doc,
  fail: (path: KeyPath, message: string) => void,
): string[] | undefined {
  const ext = doc.extends;
  if (ext === undefined) {
    const key = EXTENDING_KEYS.find((k) => Object.hasOwn(doc, k))!;
    fail(
      [key],
      `${key} adds to the policies this one extends, and it extends none; add extends = "NAME" or write the rule in an [[fs_layer]]/[net]`,
    );
    return undefined;
  }
  const list = typeof ext === "string" ? [ext] : ext;
  const shape =
    'expected a policy name or a path relative to this file (e.g. "ci-default" or "./base.toml"), or a non-empty list of them';
  if (!Array.isArray(list) || list.length === 0) {
    fail(["extends"], shape);
    return undefined;
  }
  let ok = true;
  list.forEach((s, i) => {
    if (typeof s !== "string" || s === "") {
      fail(typeof ext === "string" ? ["extends"] : ["extends", i], shape);
      ok = false;
    }
  });
  return ok ? list as string[] : undefined;
}

/**
 * Merges `doc` (the parsed text of `source`) with everything its `extends`
 * names, recursively. Errors name the file they are in.
 */
export function resolveExtends(
  source: Source,
  doc: Doc,
  helpers: ResolveHelpers,
): Resolved {
  const diagnostics: Diagnostic[] = [];
  const sources: Source[] = [];

  const build = (src: Source, d: Doc, chain: Source[]): Built | undefined => {
    sources.push(src);
    const fail = (path: KeyPath, message: string) =>
      diagnostics.push(error(src, source, path, message));
    const acc: Doc = {};
    const origins: Origins = new Map();
    let rules: z.output<typeof extendingKeys> | undefined;
    if (isExtending(d)) {
      const specs = specsOf(d, fail);
      if (!specs) return undefined;
      const checked = extendingKeys.safeParse({
        extends: d.extends,
        fs_rule: d.fs_rule,
        net_rule: d.net_rule,
      });
      if (!checked.success) {
        diagnostics.push(
          ...helpers.describe(checked.error.issues, d).map((x) =>
            src === source ? x : { ...x, source: src }
          ),
        );
        return undefined;
      }
      rules = checked.data;
      let failed = false;
      specs.forEach((spec, i) => {
        const at = typeof d.extends === "string" ? ["extends"] : ["extends", i];
        let base: Source;
        try {
          base = readBase(spec, src);
        } catch (e) {
          if (!(e instanceof PolicyLookupError)) throw e;
          fail(at, e.message);
          failed = true;
          return;
        }
        const names = [...chain, base].map((s) => s.name).join(" → ");
        const id = identity(base);
        if (id !== undefined && chain.some((s) => identity(s) === id)) {
          fail(at, `extends makes a cycle: ${names}`);
          failed = true;
          return;
        }
        if (chain.length > MAX_EXTENDS_DEPTH) {
          fail(
            at,
            `extends is nested more than ${MAX_EXTENDS_DEPTH} deep: ${names}`,
          );
          failed = true;
          return;
        }
        const parsed = helpers.parse(base);
        if (!parsed.doc) {
          diagnostics.push(
            ...parsed.diagnostics!.map((x) => ({ ...x, source: base })),
          );
          failed = true;
          return;
        }
        const built = build(base, parsed.doc, [...chain, base]);
        if (!built) {
          failed = true;
          return;
        }
        keepTcpRestriction(built.doc);
        mergeInto(
          acc,
          [],
          built.doc,
          (rel) => nearest(built.origins, rel) ?? { source: base, path: rel },
          [],
          origins,
        );
      });
      if (failed) return undefined;
      if (!widen(acc, origins, rules, src, fail)) return undefined;
    }
    const own = Object.fromEntries(
      Object.entries(d).filter(([k]) => !EXTENDING_KEYS.includes(k)),
    );
    // The extending file's own [net] means what it would alone: an empty
    // [net] ("no network") handles connect_tcp even over a base whose
    // [net] sets only udp or raw.
    if (isExtending(d) && isTable(own.net)) {
      own.net = { ...own.net };
      keepTcpRestriction(own);
    }
    mergeInto(acc, [], own, (rel) => ({ source: src, path: rel }), [], origins);
    return { doc: acc, origins };
  };

  const built = build(source, doc, [source]);
  return {
    doc: built?.doc ?? {},
    origins: built?.origins ?? new Map(),
    sources,
    diagnostics,
  };
}
