/**
 * `[env]`: the command's environment, made from the one landlockd (or, for
 * the daemon, its client) has. Pure; the rules, in order:
 *
 * 1. Start from the environment, or from nothing with `clear = true`.
 * 2. Remove landlockd's own variables ({@link OWN_VARIABLES}) and every
 *    name an `unset` pattern matches.
 * 3. Put back every name a `keep` pattern matches (keep wins over 1 and 2).
 * 4. Apply `set` (its `${VAR}` were expanded with the policy's paths).
 *
 * Patterns are names with `*` (any run of characters) and `?` (one
 * character), matched without regard to case (`npm_config__auth` is as
 * secret as `NPM_CONFIG__AUTH`).
 *
 * @module
 */

/** A policy's `[env]` section, validated. */
export interface EnvSpec {
  clear: boolean;
  keep: readonly string[];
  set: Readonly<Record<string, string>>;
  unset: readonly string[];
}

/** Variables landlockd reads itself; never passed on unless kept. */
export const OWN_VARIABLES: readonly string[] = ["LANDLOCKD_*", "LISTEN_*"];

/**
 * Variables that commonly hold credentials: the starter policies that run
 * third-party code (ci-default, net-fetch, hermetic-build) unset these.
 */
export const CREDENTIAL_PATTERNS: readonly string[] = [
  "*TOKEN*",
  "*SECRET*",
  "*PASSWORD*",
  "*_KEY",
  "AWS_*",
  "ACTIONS_RUNTIME_*",
  "ACTIONS_ID_TOKEN_*",
  "NPM_CONFIG__AUTH*",
  "NODE_AUTH_TOKEN",
];

/**
 * A string as a case-insensitive RegExp without the `u` flag compares it
 * (ECMA-262's Canonicalize, one UTF-16 unit at a time): each unit's upper
 * case, unless that is not one unit or would turn a non-ASCII unit into
 * an ASCII one (`ſ` stays `ſ`, so `*SECRET*` does not match `ſECRET`;
 * neither did the RegExp this replaces).
 */
function fold(s: string): string {
  let ascii = true;
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      ascii = false;
      break;
    }
  }
  if (ascii) return s.toUpperCase();
  let out = "";
  for (let i = 0; i < s.length; i++) {
    const unit = s[i];
    const up = unit.toUpperCase();
    out +=
      up.length !== 1 || (unit.charCodeAt(0) > 0x7f && up.charCodeAt(0) <= 0x7f)
        ? unit
        : up;
  }
  return out;
}

/**
 * Whether the folded `name` matches the folded glob `pattern` as a whole:
 * `*` any run of units (line breaks too), `?` one unit, anything else
 * itself. Greedy with one resumption point, so linear in practice.
 */
function foldedMatch(pattern: string, name: string): boolean {
  let p = 0;
  let n = 0;
  let star = -1; // the last `*` seen in the pattern
  let resume = 0; // where in `name` that `*` resumes
  while (n < name.length) {
    const c = pattern[p];
    if (c === "*") {
      star = p++;
      resume = n;
    } else if (p < pattern.length && (c === "?" || c === name[n])) {
      p++;
      n++;
    } else if (star >= 0) {
      p = star + 1;
      n = ++resume;
    } else {
      return false;
    }
  }
  while (pattern[p] === "*") p++;
  return p === pattern.length;
}

/**
 * A test of a folded name against the folded glob `pattern`. The usual
 * shapes (`*TOKEN*`, `AWS_*`, `*_KEY`, a plain name) are one string
 * method each; anything else goes through {@link foldedMatch}.
 */
function folded(pattern: string): (name: string) => boolean {
  const lead = pattern[0] === "*";
  let end = pattern.length;
  const trail = end > (lead ? 1 : 0) && pattern[end - 1] === "*";
  if (trail) end--;
  const core = pattern.slice(lead ? 1 : 0, end);
  if (core.includes("*") || core.includes("?")) {
    return (name) => foldedMatch(pattern, name);
  }
  if (lead && trail) return (name) => name.includes(core);
  if (lead) return (name) => name.endsWith(core);
  if (trail) return (name) => name.startsWith(core);
  return (name) => name === core;
}

/** Whether `name` matches the glob `pattern` (case-insensitive). */
export function globMatches(pattern: string, name: string): boolean {
  return folded(fold(pattern))(fold(name));
}

/**
 * A test of whether a name matches any of `patterns`: the patterns are
 * folded once, each name once. No RegExp: compiling and first running one
 * case-insensitive expression for the list, then testing 40 names
 * against it, cost a direct run about 1 ms of its start
 * (docs/performance.md).
 */
function anyOf(patterns: readonly string[]): (name: string) => boolean {
  if (!patterns.length) return () => false;
  const tests = patterns.map((p) => folded(fold(p)));
  return (name) => {
    const f = fold(name);
    for (const test of tests) if (test(f)) return true;
    return false;
  };
}

/** The command's environment under `spec` (no `[env]`: only rule 2's own variables go). */
export function commandEnvironment(
  spec: EnvSpec | undefined,
  env: Readonly<Record<string, string>>,
): Record<string, string> {
  const keep = anyOf(spec?.keep ?? []);
  const unset = anyOf([...OWN_VARIABLES, ...(spec?.unset ?? [])]);
  const out: Record<string, string> = {};
  for (const [name, value] of Object.entries(env)) {
    if (keep(name) || (!spec?.clear && !unset(name))) {
      out[name] = value;
    }
  }
  return { ...out, ...spec?.set };
}
