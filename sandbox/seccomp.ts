/**
 * The seccomp part of a plan: the policy's deny list, the baseline that
 * always applies, and the calls the broker answers.
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";
import { NR } from "../ffi/syscall_numbers.ts";
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
  extraDeny: readonly string[] = [],
): SeccompPlan {
  const handlesTcp = (policy.net?.handled_access_net.length ?? 0) > 0;
  return {
    arch: hostArch(),
    deny: [...new Set([...policy.seccomp?.deny ?? [], ...extraDeny])].sort(),
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

/** Programs already compiled, by plan (a daemon compiles each once). */
const compiled = new Map<string, Uint8Array<ArrayBuffer>>();

/**
 * The BPF program for the plan, ready for `seccomp(2)`. The full syscall
 * table is loaded only when names need resolving (a deny list, a broker).
 */
export async function compileSeccomp(
  plan: SeccompPlan,
): Promise<Uint8Array<ArrayBuffer>> {
  const key = JSON.stringify(plan);
  const known = compiled.get(key);
  if (known) return known;
  const program = await compileNew(plan);
  if (compiled.size >= 64) compiled.delete(compiled.keys().next().value!);
  compiled.set(key, program);
  return program;
}

async function compileNew(
  plan: SeccompPlan,
): Promise<Uint8Array<ArrayBuffer>> {
  const table = plan.deny.length || plan.notify.length
    ? (await import(
      new URL("../seccomp/table.ts", import.meta.url).href
    ) as typeof import("../seccomp/table.ts")).syscallTable(plan.arch)
    : { ioctl: NR.ioctl, socket: NR.socket };
  return encode(buildFilter({
    arch: plan.arch,
    table,
    deny: plan.deny,
    errno: plan.errno,
    refuseMptcp: plan.refuse_mptcp,
    notify: plan.notify,
  }));
}
