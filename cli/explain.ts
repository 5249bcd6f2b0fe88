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
import { explainDenials } from "../sandbox/explain.ts";
import { realPathOrUndefined } from "../sandbox/run.ts";
import { SpawnError } from "../syscalls/process.ts";
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
 * Under --explain, run as root: which capabilities a restricting `[net]`
 * took from the command (nothing for a user who had none), so that an
 * `EPERM` from `nft`, `ip route` or `bpf` is not a mystery.
 */
export function reportDroppedCapabilities(
  dropped: readonly string[],
  root = Deno.uid() === 0,
): void {
  if (!root || !dropped.length) return;
  printError(
    `--explain: the command ran without ${
      dropped.join(", ")
    } (capabilities dropped: [net] restricts the network, and with them root could redirect traffic past it)`,
  );
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

/**
 * Under --explain, a command the child could not execute (EACCES, before
 * anything was observed): the plan's verdict on executing it and, for a
 * `#!` script, its interpreter, reported as the observer would have;
 * returns the denials reported.
 */
export function explainExecFailure(
  e: unknown,
  landlock: LandlockPlan,
  candidates: readonly string[],
  origin: (section: string) => string | undefined,
  audit: AuditSink,
): Denial[] {
  if (!(e instanceof SpawnError) || e.step !== "exec" || e.code !== "EACCES") {
    return [];
  }
  const accesses: AccessLog["accesses"] = [];
  const exec = (path: string) =>
    accesses.push({
      op: "exec",
      path,
      syscall: "execve",
      rights: ["execute", "read_file"],
      count: 1,
    });
  for (const c of candidates) {
    const path = realPathOrUndefined(c);
    if (!path || !isFile(path)) continue;
    exec(path);
    const interpreter = shebang(path);
    const real = interpreter && realPathOrUndefined(interpreter);
    if (real) exec(real);
    break;
  }
  const log: AccessLog = { accesses, dropped: 0, cutShort: false };
  const denials = explainDenials(log, landlock, origin);
  reportDenials(denials, log, audit);
  return denials;
}

function isFile(path: string): boolean {
  try {
    return Deno.statSync(path).isFile;
  } catch {
    return false;
  }
}

/** The interpreter a `#!` line names, if the file starts with one. */
function shebang(path: string): string | undefined {
  let head: Uint8Array;
  try {
    using f = Deno.openSync(path);
    head = new Uint8Array(256);
    head = head.subarray(0, f.readSync(head) ?? 0);
  } catch {
    return undefined;
  }
  const line = new TextDecoder().decode(head).split("\n")[0];
  const m = /^#!\s*(\S+)/.exec(line);
  return m?.[1];
}
