/**
 * What this kernel offers landlockd, with `LANDLOCKD_ABI_MAX` applied.
 *
 * @module
 */

import { probeAbi } from "../syscalls/landlock.ts";
import { clampAbi } from "../policy/rights.ts";
import { envWholeNumber } from "../env.ts";

/** The Landlock ABI landlockd will use, and why it may be lower. */
export interface LandlockSupport {
  /** Usable ABI after clamping and capping; 0 when none. */
  abi: number;
  /** What the kernel reported, before clamping and capping. */
  kernel_abi: number;
  /** Why Landlock is unavailable, or why the ABI was capped. */
  reason?: string;
}

/** Parses `LANDLOCKD_ABI_MAX`; throws EnvError on anything but an integer ≥ 0. */
export function abiCap(): number | undefined {
  return envWholeNumber("LANDLOCKD_ABI_MAX");
}

/** Probes the kernel and applies the cap. */
export function landlockSupport(): LandlockSupport {
  const probe = probeAbi();
  const cap = abiCap();
  if (!probe.available) {
    return { abi: 0, kernel_abi: 0, reason: probe.reason };
  }
  const abi = clampAbi(probe.abi);
  if (cap !== undefined && cap < abi) {
    return {
      abi: cap,
      kernel_abi: probe.abi,
      reason: cap === 0
        ? "Landlock is disabled by LANDLOCKD_ABI_MAX=0"
        : `ABI capped at ${cap} by LANDLOCKD_ABI_MAX`,
    };
  }
  return { abi, kernel_abi: probe.abi };
}

/** seccomp user notification answered with CONTINUE: Linux 5.5. */
const OBSERVE_KERNEL = [5, 5] as const;

/**
 * Why this kernel cannot observe a command's accesses (run --explain,
 * learn), or undefined when it can. The observer needs seccomp user
 * notification with `SECCOMP_USER_NOTIF_FLAG_CONTINUE` (Linux 5.5).
 * `LANDLOCKD_OBSERVE=off` makes landlockd behave as on a kernel without
 * it.
 */
export function observeSupport(
  release = Deno.osRelease(),
  env = Deno.env.get("LANDLOCKD_OBSERVE"),
): string | undefined {
  if (env === "off") return "observing is off (LANDLOCKD_OBSERVE=off)";
  const m = /^(\d+)\.(\d+)/.exec(release);
  const [major, minor] = m ? [Number(m[1]), Number(m[2])] : [0, 0];
  const [wantMajor, wantMinor] = OBSERVE_KERNEL;
  if (major > wantMajor || (major === wantMajor && minor >= wantMinor)) {
    return undefined;
  }
  return `Linux ${release} has no seccomp user notification with CONTINUE (Linux ${wantMajor}.${wantMinor})`;
}
