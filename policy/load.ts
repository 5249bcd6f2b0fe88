/**
 * Policy text → validated policy, through the cache when possible.
 *
 * @module
 */

import { cachedPolicy, cachePolicy } from "./cache.ts";
import { PolicyError, type Source } from "./diagnostic.ts";
import { expandPolicy } from "./expand.ts";
import type { Policy } from "./schema.ts";

/**
 * Validates `source` (or finds it already validated) and expands `${NAME}`
 * in its paths. Throws PolicyError.
 */
export async function loadPolicy(source: Source): Promise<Policy> {
  let policy = cachedPolicy(source.text);
  if (!policy) {
    // A computed specifier keeps zod out of start-up (see main.ts).
    const { validatePolicy }: typeof import("./validate.ts") = await import(
      new URL("./validate.ts", import.meta.url).href
    );
    const result = validatePolicy(source);
    if (!result.policy) throw new PolicyError(source, result.diagnostics);
    cachePolicy(source.text, result.policy);
    policy = result.policy;
  }
  const expanded = expandPolicy(policy);
  if (expanded.diagnostics.length) {
    throw new PolicyError(source, expanded.diagnostics);
  }
  return expanded.policy;
}
