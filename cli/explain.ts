/**
 * `run --explain` on the command line: whether the kernel can observe, the
 * report after the command exits, and the one-line hint when a run
 * without it fails on a terminal.
 *
 * @module
 */

import type { AuditSink } from "../audit/audit.ts";
import type { AccessLog, ObserveOptions } from "../observe/access.ts";
import { type Denial, denialEvent, formatDenials } from "../observe/explain.ts";
import type { LandlockPlan } from "../policy/plan.ts";
import { observeSupport } from "../sandbox/kernel.ts";
import { printError } from "./output.ts";
export { explainDenials, sectionOrigin } from "../sandbox/explain.ts";

/**
 * The observer options for `--explain`, or undefined (with a note on
 * stderr) where this kernel cannot observe: the run goes ahead unexplained.
 */
export function explainObserve(): ObserveOptions | undefined {
  const why = observeSupport();
  if (why === undefined) return { mode: "denials" };
  printError(`--explain cannot explain here: ${why}; running without it`);
  return undefined;
}

/** Prints the report on stderr and emits one `denial` event per denial. */
export function reportDenials(
  denials: readonly Denial[],
  log: Pick<AccessLog, "dropped" | "limit">,
  audit: AuditSink,
): void {
  for (const d of denials) audit.emit("runner", "denial", denialEvent(d));
  Deno.stderr.writeSync(new TextEncoder().encode(formatDenials(denials, log)));
}

/**
 * After a run without --explain: one line suggesting it, when the command
 * failed under Landlock rules and stderr is a terminal (never otherwise).
 */
export function explainHint(
  landlock: LandlockPlan,
  exitCode: number,
  isTerminal = Deno.stderr.isTerminal(),
): void {
  if (!isTerminal || exitCode === 0 || !landlock.layers.length) return;
  printError(
    `the command exited with status ${exitCode}; to see what Landlock denied it, run again with --explain`,
  );
}
