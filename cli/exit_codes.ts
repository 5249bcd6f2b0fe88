/**
 * landlockd's exit codes (documented in README.md). A finished command's own
 * status passes through; 128 + N means it died of signal N.
 *
 * @module
 */

export const EXIT = {
  /** Success (lint: the policy is valid). */
  OK: 0,
  /** Policy or sandbox set-up error (lint: the policy is invalid). */
  POLICY: 1,
  /** Usage error: unknown option, missing argument. */
  USAGE: 2,
  /** The daemon could not be reached, refused us, or went away mid-run. */
  DAEMON: 3,
  /** The command was found but could not be executed. */
  NOT_EXECUTABLE: 126,
  /** The command was not found. */
  NOT_FOUND: 127,
} as const;

/** A bad command line: printed with a hint, exits {@link EXIT.USAGE}. */
export class UsageError extends Error {
  override name = "UsageError";
  constructor(message: string, readonly command: string) {
    super(message);
  }
}
