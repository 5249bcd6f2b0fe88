/**
 * Policy text → validated policy, through the cache when possible.
 *
 * @module
 */

import { cachedPolicy, cachePolicy } from "./cache.ts";
import { PolicyError, type Source } from "./diagnostic.ts";
import { expandPolicy } from "./expand.ts";
import { carryOrigins, mayExtend, relocate } from "./origins.ts";
import type { Policy } from "./schema.ts";

/**
 * Validates `source` (or finds it already validated) and expands `${NAME}`
 * in its paths. Throws PolicyError.
 */
export async function loadPolicy(source: Source): Promise<Policy> {
  // A policy that extends others depends on more than its own text.
  const extending = mayExtend(source.text);
  let policy = extending ? undefined : cachedPolicy(source.text);
  if (!policy) {
    // A computed specifier keeps zod out of start-up (see main.ts).
    const { validatePolicy }: typeof import("./validate.ts") = await import(
      new URL("./validate.ts", import.meta.url).href
    );
    const result = validatePolicy(source, { resolve: true });
    if (!result.policy) throw new PolicyError(source, result.diagnostics);
    if (!extending) cachePolicy(source.text, result.policy);
    policy = result.policy;
  }
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
