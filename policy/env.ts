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
 * Compiled patterns, by pattern or by list. Bounded: a daemon compiles the
 * patterns its clients send, and must not keep every one it ever saw.
 */
const compiled = new Map<string, RegExp>();
const compiledLists = new Map<string, RegExp>();
const MAX_COMPILED = 1024;

function cached(
  compiled: Map<string, RegExp>,
  key: string,
  make: () => RegExp,
): RegExp {
  let re = compiled.get(key);
  if (!re) {
    if (compiled.size >= MAX_COMPILED) compiled.clear();
    re = make();
    compiled.set(key, re);
  }
  return re;
}

/** A glob as the body of a regular expression. */
const globBody = (pattern: string) =>
  pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&")
    .replaceAll("*", ".*").replaceAll("?", ".");

/** Whether `name` matches the glob `pattern` (case-insensitive). */
export function globMatches(pattern: string, name: string): boolean {
  return cached(
    compiled,
    pattern,
    () => new RegExp(`^${globBody(pattern)}$`, "is"),
  )
    .test(name);
}

/**
 * A test of whether a name matches any of `patterns`: one expression for
 * the whole list (an environment of 40 names against 11 patterns is then
 * 40 tests, not 440; the daemon does this on every run).
 */
function anyOf(patterns: readonly string[]): (name: string) => boolean {
  if (!patterns.length) return () => false;
  const re = cached(
    compiledLists,
    JSON.stringify(patterns),
    () => new RegExp(`^(?:${patterns.map(globBody).join("|")})$`, "is"),
  );
  return (name) => re.test(name);
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
