/**
 * landlockd's own environment variables, read strictly: a value landlockd
 * cannot use is an {@link EnvError} (one line, exit 1), never a guess.
 *
 * @module
 */

/** An environment variable has a value landlockd cannot use. */
export class EnvError extends Error {
  override name = "EnvError";
}

/**
 * `name` as a whole number ≥ 0, or undefined when unset or empty.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { envWholeNumber } from "./env.ts";
 * assert.equal(envWholeNumber("X", () => "4"), 4);
 * assert.equal(envWholeNumber("X", () => undefined), undefined);
 * assert.throws(() => envWholeNumber("X", () => "six"), /whole number/);
 * ```
 */
export function envWholeNumber(
  name: string,
  get: (name: string) => string | undefined = (n) => Deno.env.get(n),
): number | undefined {
  const raw = get(name);
  if (raw === undefined || raw === "") return undefined;
  if (!/^\d{1,9}$/.test(raw)) {
    throw new EnvError(
      `${name} must be a whole number, got ${JSON.stringify(raw)}`,
    );
  }
  return Number(raw);
}

/**
 * Checks every landlockd variable whose value has a format, so a bad one
 * stops any command before it starts. Throws EnvError.
 */
export function checkEnvironment(): void {
  envWholeNumber("LANDLOCKD_ABI_MAX");
}
