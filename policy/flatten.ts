/**
 * A policy that extends others, merged into one self-contained document,
 * for readers that must not open files themselves (the daemon).
 *
 * @module
 */

import { stringify } from "smol-toml";
import { PolicyError, type Source } from "./diagnostic.ts";
import { loadedFrom, mayExtend } from "./origins.ts";
import { validatePolicy } from "./validate.ts";

/**
 * `source` itself when it extends nothing; otherwise the merged policy as
 * TOML (`${NAME}` still unexpanded), under the same name. Throws
 * PolicyError.
 */
export function flattenPolicy(source: Source): Source {
  if (!mayExtend(source.text)) return source;
  const result = validatePolicy(source, { resolve: true });
  if (!result.policy) throw new PolicyError(source, result.diagnostics);
  const doc = JSON.parse(JSON.stringify(result.policy));
  return {
    name: source.name,
    text:
      `# merged by landlockd from ${source.name} and the policies it extends\n${
        stringify(doc)
      }\n`,
  };
}

/**
 * Every file a policy is read from: its own (when it is a file) and,
 * through `extends`, each base, recursively; paths for files, `file:` or
 * other URLs for the starter policies built into landlockd. Throws
 * PolicyError when the chain cannot be read.
 */
export function policySourceFiles(source: Source): string[] {
  const own = source.location === undefined ? [] : [source.location];
  if (!mayExtend(source.text)) return own;
  const result = validatePolicy(source, { resolve: true });
  if (!result.policy) throw new PolicyError(source, result.diagnostics);
  return loadedFrom(result.policy).flatMap((s) =>
    s.location === undefined ? [] : [s.location]
  );
}
