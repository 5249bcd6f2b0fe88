/**
 * landlockd's exit codes (documented in README.md). A finished command's own
 * status passes through; 128 + N means it died of signal N. landlockd's own
 * failures all exit 125, as with `env`, `timeout`, `docker run` and
 * `chroot`, so CI can tell "the policy is broken" from "the tests failed".
 *
 * The numbers, and the status of each kind of failed run, are shared by the
 * command line and the daemon (which sends a run's status to its client);
 * cli/exit_codes.ts maps errors to them.
 *
 * @module
 */

/** landlockd's own failure: usage, policy, set-up, daemon or broker. */
const OWN_FAILURE = 125;

import type { FailureKind } from "./sandbox/report.ts";

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

/** The exit status for a failed run of `kind`. */
export function failureStatus(kind: FailureKind): number {
  return kind === "not_found"
    ? EXIT.NOT_FOUND
    : kind === "not_executable"
    ? EXIT.NOT_EXECUTABLE
    : EXIT.POLICY;
}
