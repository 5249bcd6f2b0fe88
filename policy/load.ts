/**
 * Policy text → validated policy. Nothing is cached on disk: whatever a
 * sandboxed command could write must not decide how a later run is
 * sandboxed, so every run validates the text it was given.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import { PolicyError, type Source } from "./diagnostic.ts";
import { expandPolicy } from "./expand.ts";
import { carryOrigins, relocate } from "./origins.ts";
import type { Policy } from "./schema.ts";

/** Validates `source` and expands `${NAME}` in its paths. Throws PolicyError. */
export async function loadPolicy(source: Source): Promise<Policy> {
  // A computed specifier keeps zod out of start-up (see main.ts).
  const { validatePolicy } = await lazyImport<typeof import("./validate.ts")>(
    "./validate.ts",
    import.meta.url,
  );
  const result = validatePolicy(source, { resolve: true });
  if (!result.policy) throw new PolicyError(source, result.diagnostics);
  const policy = result.policy;
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
