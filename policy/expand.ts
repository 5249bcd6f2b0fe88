/**
 * `${NAME}` in policy paths, expanded from the environment when a policy is
 * used, so one starter policy serves many jobs (`/run/jobs/${JOB}/root`).
 * The validated policy keeps the placeholders (the daemon keeps it in
 * memory by its text); expansion is cheap and reruns every time, so a
 * changed variable is never served stale.
 *
 * @module
 */

import type { Diagnostic } from "./diagnostic.ts";
import type { KeyPath } from "./locate.ts";
import type { Policy } from "./schema.ts";

/** Keys whose strings are text, not paths. */
const NOT_PATHS = new Set(["description", "name"]);

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** The user's home directory from /etc/passwd, when HOME is unset. */
function passwdHome(uid: number | null): string | undefined {
  if (uid === null) return undefined;
  try {
    for (const line of Deno.readTextFileSync("/etc/passwd").split("\n")) {
      const f = line.split(":");
      if (f.length >= 7 && Number(f[2]) === uid && f[5].startsWith("/")) {
        return f[5];
      }
    }
  } catch {
    // no passwd file: HOME stays unset
  }
  return undefined;
}

/**
 * The variables of a direct run: the environment, except that `${PWD}` is
 * always the working directory landlockd runs in and `${HOME}` falls back
 * to the user's home in /etc/passwd, so both are always available.
 */
export function runVariable(name: string): string | undefined {
  if (name === "PWD") {
    try {
      return Deno.cwd();
    } catch {
      return undefined; // the working directory was removed
    }
  }
  const v = Deno.env.get(name);
  if (name === "HOME" && !v) return passwdHome(Deno.uid());
  return v;
}

/** Expands every `${NAME}` in the policy's strings; reports unset names. */
export function expandPolicy(
  policy: Policy,
  env: (name: string) => string | undefined = runVariable,
): { policy: Policy; diagnostics: Diagnostic[] } {
  const diagnostics: Diagnostic[] = [];
  const walk = (value: unknown, path: (string | number)[]): unknown => {
    if (typeof value === "string") return expand(value, path);
    if (Array.isArray(value)) return value.map((v, i) => walk(v, [...path, i]));
    if (value !== null && typeof value === "object") {
      return Object.fromEntries(
        Object.entries(value).map((
          [k, v],
        ) => [k, NOT_PATHS.has(k) ? v : walk(v, [...path, k])]),
      );
    }
    return value;
  };
  const expand = (s: string, path: KeyPath): string => {
    if (!s.includes("${")) return s;
    const out = s.replace(VARIABLE, (whole, name: string) => {
      const v = env(name);
      if (v === undefined || v === "") {
        diagnostics.push({
          severity: "error",
          path,
          message: `\${${name}} is not set in the environment`,
        });
        return whole;
      }
      return v;
    });
    const text = path[0] === "env" && path[1] === "set"; // a value, not a path
    if (!text && !out.startsWith("/") && !diagnostics.length) {
      diagnostics.push({
        severity: "error",
        path,
        message: `"${s}" expands to "${out}", which is not an absolute path`,
      });
    }
    return out;
  };
  return { policy: walk(policy, []) as Policy, diagnostics };
}
