/**
 * Policy text → validated policy. Nothing is cached on disk: whatever a
 * sandboxed command could write must not decide how a later run is
 * sandboxed, so every run validates the text it was given.
 *
 * A policy that does not extend others is checked by the validator
 * generated from the JSON Schema (policy/validator.generated.ts), which
 * returns what zod would. Anything it does not accept (an invalid policy,
 * `extends`, a value it is unsure of) goes to zod (policy/validate.ts),
 * which decides and words the errors: zod and its schema take ~100 ms of
 * CPU to load, so only those runs pay for it.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import { PolicyError, type Source } from "./diagnostic.ts";
import { expandPolicy } from "./expand.ts";
import { carryOrigins, relocate } from "./origins.ts";
import type { Policy } from "./schema.ts";
import { parseDocument } from "./toml_parse.ts";
import { STARTER_DOCUMENTS } from "./starters.generated.ts";
import { fastValidate } from "./validator.generated.ts";

/** The top-level keys of a policy that extends others (policy/extends.ts). */
export const EXTENDING_KEYS = ["extends", "fs_rule", "net_rule"] as const;

/** The validated policy, without zod; undefined: ask zod. */
function validateFast(source: Source): Policy | undefined {
  // A starter policy's text as shipped: parsed when landlockd was built
  // (policy/starters.generated.ts). Any other text is parsed here.
  const shipped = STARTER_DOCUMENTS.get(source.text);
  const doc = shipped !== undefined
    ? JSON.parse(shipped) as Record<string, unknown>
    : parseDocument(source).doc;
  if (!doc) return undefined; // zod's path words the syntax error
  if (EXTENDING_KEYS.some((k) => Object.hasOwn(doc, k))) {
    return undefined;
  }
  return fastValidate(doc);
}

/** Validates `source` with zod, resolving `extends`. Throws PolicyError. */
async function validateWithZod(source: Source): Promise<Policy> {
  // A computed specifier keeps zod out of start-up (see main.ts).
  const { validatePolicy } = await lazyImport<typeof import("./validate.ts")>(
    "./validate.ts",
    import.meta.url,
  );
  const result = validatePolicy(source, { resolve: true });
  if (!result.policy) throw new PolicyError(source, result.diagnostics);
  return result.policy;
}

/** Validates `source` and expands `${NAME}` in its paths. Throws PolicyError. */
export async function loadPolicy(source: Source): Promise<Policy> {
  const policy = validateFast(source) ?? await validateWithZod(source);
  const expanded = expandPolicy(policy);
  if (expanded.diagnostics.length) {
    throw new PolicyError(
      source,
      relocate(policy, source, expanded.diagnostics),
    );
  }
  carryOrigins(policy, expanded.policy);
  return expanded.policy;
}
