/**
 * Output helpers shared by the commands.
 *
 * @module
 */

/** JSON with object keys sorted at every depth, so output is stable. */
export function stableJson(value: unknown): string {
  return JSON.stringify(sortKeys(value), null, 2);
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.keys(value).sort().map((
        k,
      ) => [k, sortKeys((value as Record<string, unknown>)[k])]),
    );
  }
  return value;
}

/** Writes an error in landlockd's voice to stderr. */
export function printError(message: string): void {
  console.error(
    message.split("\n").map((l) => `landlockd: ${l}`).join("\n"),
  );
}
