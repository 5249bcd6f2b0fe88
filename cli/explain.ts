/**
 * `run --explain` on the command line: whether the kernel can observe, the
 * report after the command exits, and the one-line hint when a run
 * without it fails on a terminal.
 *
 * @module
 */

import type { AuditSink } from "../audit/audit.ts";
import type { AccessLog, ObserveOptions } from "../observe/access.ts";
import {
  type Denial,
  denialEvent,
  denialsOf,
  formatDenials,
} from "../observe/explain.ts";
import { resolvePlan } from "../observe/verdict.ts";
import type { Source } from "../policy/diagnostic.ts";
import { indexLines, lineOf } from "../policy/locate.ts";
import { ruleOrigins } from "../policy/origins.ts";
import type { LandlockPlan } from "../policy/plan.ts";
import type { Policy } from "../policy/schema.ts";
import { observeSupport } from "../sandbox/kernel.ts";
import { realPathOrUndefined } from "../sandbox/run.ts";
import { printError } from "./output.ts";

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

/** Where a section (`fs_layer[0]`, `net`) was written: `file:line`. */
export function sectionOrigin(
  policy: Policy,
  source: Pick<Source, "name" | "text">,
): (section: string) => string | undefined {
  const origins = ruleOrigins(policy);
  let lines: Map<string, number> | undefined;
  return (section) => {
    const known = origins?.[section];
    if (known) return known;
    const m = /^fs_layer\[(\d+)\]$/.exec(section);
    const path = m ? ["fs_layer", Number(m[1])] : [section];
    lines ??= indexLines(source.text);
    const line = lineOf(lines, path);
    return line === undefined ? undefined : `${source.name}:${line}`;
  };
}

/** The denials in an explained run's log. */
export function explainDenials(
  log: AccessLog,
  landlock: LandlockPlan,
  origin: (section: string) => string | undefined,
): Denial[] {
  return denialsOf(log, resolvePlan(landlock, realPathOrUndefined), origin);
}

/** Prints the report on stderr and emits one `denial` event per denial. */
export function reportDenials(
  denials: readonly Denial[],
  log: AccessLog,
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
