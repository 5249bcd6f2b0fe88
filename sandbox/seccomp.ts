/**
 * The seccomp part of a plan: the policy's deny list, the baseline that
 * always applies, and the calls the broker answers.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import type { BaselineRelaxation, Policy } from "../policy/schema.ts";
import { encode } from "../seccomp/bpf.ts";
import { errno } from "../syscalls/errno.ts";
import { LISTENER_SEND_FLAGS } from "../syscalls/seccomp.ts";
import {
  handledNet,
  ioUringConflict,
  netRestricts,
  type SocketRules,
  socketRules,
} from "../policy/net_sockets.ts";
import { PathError } from "../policy/diagnostic.ts";
import { allowHostsSet } from "../policy/hosts.ts";
import {
  type Arch,
  buildFilter,
  type FilterSpec,
  hostArch,
} from "../seccomp/filter.ts";

/** What the filter will do, as `--dry-run` shows it. */
export interface SeccompPlan {
  arch: Arch;
  deny: string[];
  errno: number;
  /** Always refused, unless `[seccomp] allow` lifts it. */
  baseline: string[];
  /** Calls the baseline refuses with ENOSYS. */
  absent: string[];
  refuse_uffd_ioctl: boolean;
  refuse_mptcp: boolean;
  /** `[net] udp` and `raw`, as the filter enforces them in `socket(2)`. */
  sockets: SocketRules;
  /**
   * Where `[net]` restricts anything: `socket(2)` refuses, with `errno`,
   * every family but AF_UNIX, AF_INET, AF_INET6, AF_NETLINK and AF_ALG
   * (AF_PACKET and AF_XDP too with `raw`), and IPv4/IPv6 sockets other
   * than TCP streams, datagrams (and raw with `raw`): vsock, TIPC, RDS,
   * CAN, Bluetooth and SCTP go where no `[net]` rule looks.
   */
  refuse_other_sockets: boolean;
  /**
   * setsockopt(IP_OPTIONS, IPV6_RTHDR, IPV6_2292PKTOPTIONS) fails with
   * `errno`: where the broker decides destinations (`udp = "dns"`,
   * `allow_hosts`), a source route would send packets elsewhere.
   */
  refuse_source_route: boolean;
  /** memfd_create without MFD_NOEXEC_SEAL fails with `errno`. */
  refuse_memfd_exec: boolean;
  notify: string[];
}

const { EPERM } = errno;

/**
 * What each `[seccomp] allow` entry lifts. io_uring performs socket, open,
 * connect and the rest without the system calls seccomp sees; a
 * userfaultfd can stall any read of the sandbox's memory, the broker's
 * included.
 */
const ABSENT = {
  io_uring: ["io_uring_setup", "io_uring_enter", "io_uring_register"],
  userfaultfd: ["userfaultfd"],
} as const satisfies Record<BaselineRelaxation, readonly string[]>;

/**
 * The numbers the baseline needs, so that a run without a deny list or a
 * broker does not load the full table (filter_test.ts checks them against
 * it).
 */
export const BASELINE_NR: Readonly<Record<Arch, Record<string, number>>> = {
  x86_64: {
    ioctl: 16,
    sendto: 44,
    sendmsg: 46,
    sendmmsg: 307,
    setsockopt: 54,
    socket: 41,
    memfd_create: 319,
    userfaultfd: 323,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
  },
  aarch64: {
    ioctl: 29,
    sendto: 206,
    sendmsg: 211,
    sendmmsg: 269,
    setsockopt: 208,
    socket: 198,
    memfd_create: 279,
    userfaultfd: 282,
    io_uring_setup: 425,
    io_uring_enter: 426,
    io_uring_register: 427,
  },
};

/** Plans the filter for `policy`; `notify` comes from the broker plan. */
export function planSeccomp(
  policy: Policy,
  notify: readonly string[],
  extraDeny: readonly string[] = [],
): SeccompPlan {
  const handlesTcp = handledNet(policy.net).length > 0;
  const allow = policy.seccomp?.allow ?? [];
  const absent = (Object.keys(ABSENT) as BaselineRelaxation[])
    .filter((k) => !allow.includes(k)).flatMap((k) => ABSENT[k]);
  const refuseUffdIoctl = !allow.includes("userfaultfd");
  const sockets = socketRules(policy.net);
  const errnoValue = policy.seccomp?.errno ?? EPERM;
  const conflict = ioUringConflict(policy);
  if (conflict) {
    throw new PathError({
      severity: "error",
      path: ["seccomp", "allow"],
      message: conflict,
    });
  }
  const refuseSourceRoute = sockets.udp === "dns" || allowHostsSet(policy);
  const refuseMemfdExec = policy.seccomp?.memfd_exec === false;
  return {
    arch: hostArch(),
    deny: [...new Set([...policy.seccomp?.deny ?? [], ...extraDeny])].sort(),
    errno: errnoValue,
    baseline: [
      "ioctl(TIOCSTI): EPERM",
      "ioctl(TIOCLINUX): EPERM",
      ...absent.map((name) => `${name}: ENOSYS`),
      ...(refuseUffdIoctl ? ["ioctl(USERFAULTFD_IOC_NEW): EPERM"] : []),
      ...(handlesTcp
        ? [
          "socket(IPPROTO_MPTCP): EPROTONOSUPPORT",
          "sendto/sendmsg/sendmmsg(MSG_FASTOPEN): EOPNOTSUPP",
        ]
        : []),
    ],
    absent,
    refuse_uffd_ioctl: refuseUffdIoctl,
    refuse_mptcp: handlesTcp,
    sockets,
    refuse_other_sockets: policy.net !== undefined && netRestricts(policy.net),
    refuse_source_route: refuseSourceRoute,
    refuse_memfd_exec: refuseMemfdExec,
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
  // A cached plan (the daemon's) passes the same object every run: its
  // program is found without making the key. Plans are never changed.
  const same = byPlan.get(plan);
  if (same) return same;
  const key = JSON.stringify(plan);
  let program = compiled.get(key);
  if (!program) {
    program = await compileNew(plan);
    if (compiled.size >= 64) compiled.delete(compiled.keys().next().value!);
    compiled.set(key, program);
  }
  byPlan.set(plan, program);
  return program;
}

/** {@link compiled}'s programs by plan object. */
const byPlan = new WeakMap<SeccompPlan, Uint8Array<ArrayBuffer>>();

/**
 * The program for `plan` as a function of the addresses of the paths the
 * child execs (see FilterSpec.quietExec): for a plan that notifies
 * execve (an observed run). Not cached: the addresses change per spawn.
 */
export async function compileSeccompFor(
  plan: SeccompPlan,
): Promise<(execPaths: readonly bigint[]) => Uint8Array<ArrayBuffer>> {
  const table = (await lazyImport<typeof import("../seccomp/table.ts")>(
    "../seccomp/table.ts",
    import.meta.url,
  )).syscallTable(plan.arch);
  // The same filter as compileSeccomp's, plus the quiet exec: an observed
  // run must be refused everything an unobserved one is.
  return (quietExec) => encode(buildFilter(filterSpec(plan, table, quietExec)));
}

/** What buildFilter makes of a plan: one place for both compilers. */
export function filterSpec(
  plan: SeccompPlan,
  table: FilterSpec["table"],
  quietExec?: readonly bigint[],
): FilterSpec {
  return {
    arch: plan.arch,
    table,
    deny: plan.deny,
    errno: plan.errno,
    absent: plan.absent,
    refuseUffdIoctl: plan.refuse_uffd_ioctl,
    refuseMptcp: plan.refuse_mptcp,
    // Fast Open connects past Landlock: refused wherever TCP is restricted,
    // as MPTCP is.
    refuseFastOpen: plan.refuse_mptcp,
    sockets: { ...plan.sockets, families: plan.refuse_other_sockets },
    refuseSourceRoute: plan.refuse_source_route,
    refuseMemfdExec: plan.refuse_memfd_exec,
    notify: plan.notify,
    listenerSendFlags: LISTENER_SEND_FLAGS,
    ...(quietExec ? { quietExec } : {}),
  };
}

async function compileNew(
  plan: SeccompPlan,
): Promise<Uint8Array<ArrayBuffer>> {
  const table = plan.deny.length || plan.notify.length
    ? (await lazyImport<typeof import("../seccomp/table.ts")>(
      "../seccomp/table.ts",
      import.meta.url,
    )).syscallTable(plan.arch)
    : BASELINE_NR[plan.arch];
  return encode(buildFilter(filterSpec(plan, table)));
}
