/**
 * landlockd's exit codes (documented in README.md). A finished command's own
 * status passes through; 128 + N means it died of signal N. landlockd's own
 * failures all exit 125, as with `env`, `timeout`, `docker run` and
 * `chroot`, so CI can tell "the policy is broken" from "the tests failed".
 *
 * @module
 */

/** landlockd's own failure: usage, policy, set-up, daemon or broker. */
const OWN_FAILURE = 125;

export const EXIT = {
  /** Success (lint: the policy is valid). */
  OK: 0,
  /** lint only: the policy is invalid (lint is a checker, not a wrapper). */
  INVALID: 1,
  /** Policy or sandbox set-up error. */
  POLICY: OWN_FAILURE,
  /** Usage error: unknown option, missing argument. */
  USAGE: OWN_FAILURE,
  /** The daemon could not be reached, refused us, or went away mid-run. */
  DAEMON: OWN_FAILURE,
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
