/**
 * TOML text → validated {@link Policy}, with one precise diagnostic per
 * problem. This module imports zod and smol-toml; commands load it only when
 * they have a policy to validate.
 *
 * @module
 */

import type { z } from "zod";
import type { Diagnostic, Source } from "./diagnostic.ts";
import { type Policy, policySchema } from "./schema.ts";
import { parseDocument } from "./toml_parse.ts";
import { isExtending, resolveExtends } from "./extends.ts";
import { type Origins, registerOrigins, toOrigin } from "./origins.ts";

export { parseDocument };

/** Options for {@link validatePolicy}. */
export interface ValidateOptions {
  /**
   * Read the files `extends` names (policy/extends.ts). Off by default: a
   * reader that must not open files (the daemon) refuses `extends`, and
   * its client sends the merged policy instead.
   */
  resolve?: boolean;
}

/**
 * Parses and validates a policy document; errors only. With
 * `{ resolve: true }` it also reads the policies `extends` names, and
 * errors found in them name their own file.
 */
export function validatePolicy(
  source: Source,
  options: ValidateOptions = {},
): { policy: Policy; diagnostics: [] } | {
  policy?: undefined;
  diagnostics: Diagnostic[];
} {
  const parsed = parseDocument(source);
  if (!parsed.doc) return { diagnostics: parsed.diagnostics };
  let doc: unknown = parsed.doc;
  let origins: Origins | undefined;
  let sources: Source[] = [];
  if (isExtending(parsed.doc)) {
    if (!options.resolve) {
      return {
        diagnostics: [{
          severity: "error",
          path: ["extends" in parsed.doc ? "extends" : "fs_rule"],
          message:
            "a policy that extends others must be merged where it is read; send the merged policy (landlockd run --socket does)",
        }],
      };
    }
    const resolved = resolveExtends(source, parsed.doc, {
      parse: parseDocument,
      describe: (issues, d) => issues.flatMap((i) => describeIssue(i, d)),
    });
    if (resolved.diagnostics.length) {
      return { diagnostics: resolved.diagnostics };
    }
    doc = resolved.doc;
    origins = resolved.origins;
    sources = resolved.sources;
  }
  const result = policySchema.safeParse(doc);
  if (result.success) {
    if (origins) registerOrigins(result.data, origins, sources);
    return { policy: result.data, diagnostics: [] };
  }
  const diagnostics = result.error.issues.flatMap((issue) =>
    describeIssue(issue, doc)
  );
  return {
    diagnostics: origins
      ? diagnostics.map((d) => toOrigin(d, origins, source))
      : diagnostics,
  };
}

function valueAt(doc: unknown, path: readonly PropertyKey[]): unknown {
  let v = doc;
  for (const key of path) {
    if (v === null || typeof v !== "object") return undefined;
    v = (v as Record<PropertyKey, unknown>)[key];
  }
  return v;
}

function typeName(v: unknown): string {
  if (v === undefined) return "nothing";
  if (Array.isArray(v)) return "an array";
  if (v instanceof Date) return "a date";
  if (v === null) return "null";
  if (typeof v === "object") return "a table";
  if (typeof v === "string") return `the string ${JSON.stringify(v)}`;
  return `${typeof v} ${String(v)}`;
}

const EXPECTED: Record<string, string> = {
  string: "a string",
  array: "an array",
  object: "a table",
  boolean: "true or false",
  number: "a number",
  int: "an integer",
};

/** The closest name by edit distance, when it is close enough to suggest. */
export function closest(word: string, options: readonly string[]) {
  let best: string | undefined;
  let bestDistance = Math.max(2, Math.floor(word.length / 3)) + 1;
  for (const o of options) {
    const d = editDistance(word, o);
    if (d < bestDistance) [best, bestDistance] = [o, d];
  }
  return best;
}

function editDistance(a: string, b: string): number {
  const row = Array.from({ length: b.length + 1 }, (_, i) => i);
  for (let i = 1; i <= a.length; i++) {
    let prev = row[0];
    row[0] = i;
    for (let j = 1; j <= b.length; j++) {
      const tmp = row[j];
      row[j] = Math.min(
        row[j] + 1,
        row[j - 1] + 1,
        prev + (a[i - 1] === b[j - 1] ? 0 : 1),
      );
      prev = tmp;
    }
  }
  return row[b.length];
}

function didYouMean(word: string, options: readonly string[]): string {
  const c = closest(word, options);
  return c ? ` (did you mean "${c}"?)` : "";
}

/** Keys the schema allows for the table at `path`. */
function allowedKeys(path: readonly PropertyKey[]): string[] {
  // deno-lint-ignore no-explicit-any
  const unwrap = (s: any) => {
    while (WRAPPERS.has(s?._zod?.def?.type)) s = s._zod.def.innerType;
    return s;
  };
  let s = unwrap(policySchema);
  for (const key of path) {
    s = unwrap(typeof key === "number" ? s?.element : s?.shape?.[key]);
  }
  return s?.shape ? Object.keys(s.shape) : [];
}

const WRAPPERS = new Set(["optional", "default", "nullable", "prefault"]);

function rightKind(path: readonly PropertyKey[]): string {
  const p = path.join(".");
  if (p.startsWith("fs_layer")) return "filesystem right";
  if (p === "net.udp") return "udp mode";
  if (p.startsWith("net")) return "network right";
  return "value";
}

/** Keys whose strings are absolute paths, named so when missing. */
const PATH_KEYS = new Set(["path", "target", "source", "root", "cwd"]);

function describeIssue(issue: z.core.$ZodIssue, doc: unknown): Diagnostic[] {
  const path = issue.path as (string | number)[];
  const value = valueAt(doc, path);
  const error = (p: (string | number)[], message: string): Diagnostic => ({
    severity: "error",
    path: p,
    message,
  });
  switch (issue.code) {
    case "unrecognized_keys": {
      const allowed = allowedKeys(path);
      return issue.keys.map((k) =>
        error(
          [...path, k],
          `unknown key${didYouMean(k, allowed)}; expected one of: ${
            allowed.join(", ")
          }`,
        )
      );
    }
    case "invalid_value": {
      const options = issue.values.map(String);
      if (path.at(-1) === "version") {
        return [error(path, `expected version = 1, got ${typeName(value)}`)];
      }
      if (value === undefined) {
        return [error(path, `missing; expected one of: ${options.join(", ")}`)];
      }
      const shown = typeof value === "string" ? `"${value}"` : typeName(value);
      return [error(
        path,
        `unknown ${rightKind(path)} ${shown}${
          didYouMean(String(value), options)
        }; expected one of: ${options.join(", ")}`,
      )];
    }
    case "invalid_type":
      if (value === undefined) {
        return [
          error(
            path,
            `missing; expected ${
              issue.expected === "string" && PATH_KEYS.has(String(path.at(-1)))
                ? "an absolute path"
                : EXPECTED[issue.expected] ?? issue.expected
            }`,
          ),
        ];
      }
      return [error(
        path,
        `expected ${EXPECTED[issue.expected] ?? issue.expected}, got ${
          typeName(value)
        }`,
      )];
    case "too_small":
    case "too_big": {
      if (issue.origin === "array") {
        return [error(
          path,
          issue.code === "too_small"
            ? "must not be empty"
            : `expected at most ${issue.maximum} entries`,
        )];
      }
      const key = path.at(-1);
      const range = key === "port"
        ? "an integer from 0 to 65535"
        : key === "errno"
        ? "an errno number from 1 to 4095"
        : "a value in range";
      return [error(path, `expected ${range}, got ${typeName(value)}`)];
    }
    case "invalid_key":
      return [error(path, issue.issues[0]?.message ?? issue.message)];
    default:
      return [error(path, issue.message)];
  }
}
