/**
 * What a run tells its user, for a direct run and the daemon alike (the
 * daemon sends it to its client): a failure's message and exit code, and
 * the warning for a run that is not fully enforced.
 *
 * @module
 */

import { EXIT } from "../cli/exit_codes.ts";
import { PathError, PolicyError, type Source } from "../policy/diagnostic.ts";
import { CompatError } from "../policy/plan.ts";
import { SpawnError } from "../syscalls/process.ts";
import { type SandboxPlan, SetupError } from "./run.ts";

/** A failure's message and the exit code a run reports for it. */
export interface RunFailure {
  message: string;
  exitCode: number;
}

/**
 * Maps an error thrown while planning or starting a run; `undefined` for
 * an error that is a bug rather than a failure of this run.
 */
export function runFailure(e: unknown, source: Source): RunFailure | undefined {
  if (e instanceof PolicyError) {
    return { message: e.message, exitCode: EXIT.POLICY };
  }
  if (e instanceof PathError) {
    return {
      message: new PolicyError(source, [e.diagnostic]).message,
      exitCode: EXIT.POLICY,
    };
  }
  // BrokerError is matched by name: its module loads only with a broker.
  if (
    (e instanceof Error &&
      (e.name === "BrokerError" || e.name === "AuditError")) ||
    e instanceof SetupError
  ) {
    return { message: (e as Error).message, exitCode: EXIT.POLICY };
  }
  if (e instanceof CompatError) {
    return { message: `${source.name}: ${e.message}`, exitCode: EXIT.POLICY };
  }
  if (e instanceof SpawnError) {
    const exitCode = e.step !== "exec"
      ? EXIT.POLICY
      : e.code === "ENOENT" || e.code === "ENOTDIR"
      ? EXIT.NOT_FOUND
      : EXIT.NOT_EXECUTABLE;
    return { message: e.message, exitCode };
  }
  return undefined;
}

/**
 * The warning for a run whose Landlock rules were partly dropped, or the
 * note for one that is stricter than its policy (refer on ABI 1), if any.
 */
export function degradedWarning(plan: SandboxPlan): string | undefined {
  const { status, dropped, stricter } = plan.landlock;
  if (dropped.length === 0) {
    return stricter.length
      ? `note: stricter than the policy on Landlock ABI ${plan.landlock.abi}: ${
        stricter.map((s) => `${s.key} ${s.right} (ABI ${s.needs_abi})`).join(
          ", ",
        )
      }: ${stricter[0].effect}`
      : undefined;
  }
  const what = status === "not_enforced"
    ? "Landlock is NOT enforced"
    : "Landlock is partially enforced";
  const why = plan.support.reason ? ` (${plan.support.reason})` : "";
  return `warning: ${what}${why}; compat = "best_effort" dropped: ${
    dropped.map((d) => `${d.key} ${d.right} (ABI ${d.needs_abi})`).join(", ")
  }`;
}
