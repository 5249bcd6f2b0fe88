/**
 * Signal dispositions of landlockd itself, and the one it must not keep:
 * Deno's SIGUSR1 handler, which opens a V8 inspector.
 *
 * @module
 */

import { addressOf, NR } from "../ffi/mod.ts";
import { rawSyscall, unwrap } from "./sys.ts";

/** SIGUSR1, with which Deno (2.9.2+) starts a V8 inspector on 127.0.0.1:9229. */
export const SIGUSR1 = 10;

/** The bits of one line of /proc/self/status (`SigCgt`, `SigIgn`). */
export function signalMask(field: "SigCgt" | "SigIgn"): bigint {
  const status = Deno.readTextFileSync("/proc/self/status");
  // Found without a RegExp: compiling and first running one cost a
  // direct run ~0.2 ms of its start (docs/performance.md). The line is
  // never the first (that is `Name:`).
  const line = status.indexOf(`\n${field}:`);
  if (line < 0) return 0n;
  const at = line + 1;
  const eol = status.indexOf("\n", at);
  const hex = status.slice(at + field.length + 1, eol < 0 ? undefined : eol)
    .trim();
  for (let i = 0; i < hex.length; i++) {
    const c = hex.charCodeAt(i);
    // 0-9, a-f only, as the kernel prints it.
    if (!((c >= 0x30 && c <= 0x39) || (c >= 0x61 && c <= 0x66))) return 0n;
  }
  return hex ? BigInt(`0x${hex}`) : 0n;
}

/** The kernel's struct sigaction, read back by {@link handled}. */
const current = new BigUint64Array(4);

/**
 * Whether this process has a handler for `sig`: rt_sigaction with no new
 * action reads the current one (its first word is the handler on x86_64
 * and aarch64 alike; SIG_DFL is 0, SIG_IGN 1). One system call, where
 * reading /proc/self/status cost the daemon ~80 µs on every run.
 */
export function handled(sig: number): boolean {
  current.fill(0n);
  unwrap(
    rawSyscall(NR.rt_sigaction, sig, 0, addressOf(current), 8),
    "rt_sigaction",
    String(sig),
  );
  return current[0] > 1n;
}

/**
 * Sets `sig` to SIG_IGN for the whole process. The kernel's struct
 * sigaction starts with the handler on x86_64 and aarch64 alike; for
 * SIG_IGN the flags, restorer and mask stay zero.
 */
export function ignore(sig: number): void {
  const act = new BigUint64Array(4);
  act[0] = 1n; // SIG_IGN
  unwrap(
    rawSyscall(NR.rt_sigaction, sig, addressOf(act), 0, 8),
    "rt_sigaction",
    String(sig),
  );
}

let disarmed = false;

/**
 * Replaces Deno's SIGUSR1 handler, if it is installed, with SIG_IGN: a
 * sandboxed command that could signal landlockd and reach the inspector's
 * port would run code in landlockd, outside the sandbox. Returns whether
 * landlockd now ignores SIGUSR1 because of this (children must not
 * inherit that: see {@link inspectorSignalDisarmed}).
 */
export function disarmInspectorSignal(): boolean {
  if (!handled(SIGUSR1)) return disarmed;
  ignore(SIGUSR1);
  disarmed = true;
  return true;
}

/** Whether {@link disarmInspectorSignal} set SIGUSR1 to SIG_IGN. */
export function inspectorSignalDisarmed(): boolean {
  return disarmed;
}
