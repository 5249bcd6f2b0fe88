/**
 * The command line's one map from a typed error to an exit status (the
 * numbers are in ../exit_status.ts, shared with the daemon). Errors are
 * matched with `instanceof`, never by name.
 *
 * @module
 */

import { EXIT } from "../exit_status.ts";

export { EXIT };

/** A bad command line: printed with a hint, exits {@link EXIT.USAGE}. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(message: string, readonly command: string) {
    super(message);
  }
}

/**
 * JavaScript's own error types: landlockd throws none of them for bad input
 * (that is an Error subclass), so one of these is a bug.
 */
const BUGS = [
  TypeError,
  RangeError,
  ReferenceError,
  SyntaxError,
  EvalError,
  URIError,
];

/** What main does with an error that reached it, and the status it exits with. */
export type Outcome =
  | { show: "usage"; error: UsageError; status: number }
  | { show: "message"; error: Error; status: number }
  | { show: "stack"; error: unknown; status: number };

/**
 * Maps an error that reached main to its exit status: a usage error prints
 * a hint; a landlockd error (an Error subclass of its own) prints its
 * message; anything else (a plain Error, JavaScript's own types, a thrown
 * non-Error) is a bug and prints its stack. All are landlockd's own
 * failure: the status must not look like the command's.
 */
export function outcomeOf(e: unknown): Outcome {
  if (e instanceof UsageError) {
    return { show: "usage", error: e, status: EXIT.USAGE };
  }
  const bug = !(e instanceof Error) ||
    Object.getPrototypeOf(e) === Error.prototype ||
    BUGS.some((b) => e instanceof b);
  if (!bug) return { show: "message", error: e, status: EXIT.POLICY };
  return { show: "stack", error: e, status: EXIT.POLICY };
}
