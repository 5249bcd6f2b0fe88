/**
 * The seccomp part of a plan: the policy's deny list, the baseline that
 * always applies, and the calls the broker answers.
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";
import { encode } from "../seccomp/bpf.ts";
import { type Arch, buildFilter, hostArch } from "../seccomp/filter.ts";

/** What the filter will do, as `--dry-run` shows it. */
export interface SeccompPlan {
  arch: Arch;
  deny: string[];
  errno: number;
  /** Always refused, whatever the policy says. */
  baseline: string[];
  refuse_mptcp: boolean;
  notify: string[];
}

const EPERM = 1;

/** Plans the filter for `policy`; `notify` comes from the broker plan. */
export function planSeccomp(
  policy: Policy,
  notify: readonly string[],
): SeccompPlan {
  const handlesTcp = (policy.net?.handled_access_net.length ?? 0) > 0;
  return {
    arch: hostArch(),
    deny: [...new Set(policy.seccomp?.deny ?? [])].sort(),
    errno: policy.seccomp?.errno ?? EPERM,
    baseline: [
      "ioctl(TIOCSTI): EPERM",
      "ioctl(TIOCLINUX): EPERM",
      ...(handlesTcp ? ["socket(IPPROTO_MPTCP): EPROTONOSUPPORT"] : []),
    ],
    refuse_mptcp: handlesTcp,
    notify: [...notify],
  };
}

/** The BPF program for the plan, ready for `seccomp(2)`. */
export function compileSeccomp(plan: SeccompPlan): Uint8Array<ArrayBuffer> {
  return encode(buildFilter({
    arch: plan.arch,
    deny: plan.deny,
    errno: plan.errno,
    refuseMptcp: plan.refuse_mptcp,
    notify: plan.notify,
  }));
}
