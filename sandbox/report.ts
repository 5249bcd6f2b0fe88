/**
 * What a run tells its user, for a direct run and the daemon alike (the
 * daemon sends it to its client): a failure's message and kind, and
 * the warning for a run that is not fully enforced.
 *
 * @module
 */

import { AuditError } from "../audit/audit.ts";
import { BrokerError } from "../broker/errors.ts";
import { PathError, PolicyError, type Source } from "../policy/diagnostic.ts";
import { CompatError } from "../policy/plan.ts";
import { SpawnError } from "../syscalls/process.ts";
import { type SandboxPlan, SetupError } from "./run.ts";

/** How a run failed before its command's own status existed. */
export type FailureKind = "setup" | "not_found" | "not_executable";

/**
 * A failure's message and its kind; the command line and the daemon turn
 * the kind into an exit status (exit_status.ts).
 */
export interface RunFailure {
  message: string;
  kind: FailureKind;
}

/**
 * Maps an error thrown while planning or starting a run; `undefined` for
 * an error that is a bug rather than a failure of this run.
 */
export function runFailure(e: unknown, source: Source): RunFailure | undefined {
  if (e instanceof PolicyError) {
    return { message: e.message, kind: "setup" };
  }
  if (e instanceof PathError) {
    return {
      message: new PolicyError(source, [e.diagnostic]).message,
      kind: "setup",
    };
  }
  if (
    e instanceof BrokerError || e instanceof AuditError ||
    e instanceof SetupError
  ) {
    return { message: e.message, kind: "setup" };
  }
  if (e instanceof CompatError) {
    return { message: `${source.name}: ${e.message}`, kind: "setup" };
  }
  if (e instanceof SpawnError) {
    const kind: FailureKind = e.step !== "exec"
      ? "setup"
      : e.code === "ENOENT" || e.code === "ENOTDIR"
      ? "not_found"
      : "not_executable";
    return { message: e.message, kind };
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
