/**
 * The one seccomp program a sandbox gets: architecture check, the policy's
 * deny list, the built-in baseline, then the calls the broker answers.
 * The policy's deny list comes first, so its errno wins for a call that
 * both refuse.
 * Pure: built from names and numbers, tested in filter_test.ts.
 *
 * @module
 */

import {
  and,
  AUDIT_ARCH,
  DATA,
  type Insn,
  ja,
  jeq,
  jge,
  jset,
  load,
  ret,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_USER_NOTIF,
  X32_SYSCALL_BIT,
} from "./bpf.ts";
import { errno } from "../syscalls/errno.ts";

/** An architecture landlockd builds filters for. */
export type Arch = keyof typeof AUDIT_ARCH;

/** The architecture landlockd runs on. */
export function hostArch(): Arch {
  return Deno.build.arch === "aarch64" ? "aarch64" : "x86_64";
}

export const TIOCSTI = 0x5412;
export const TIOCLINUX = 0x541c;
/** `_IO(0xAA, 0x00)`: makes a userfaultfd from an fd of /dev/userfaultfd. */
export const USERFAULTFD_IOC_NEW = 0xaa00;
export const IPPROTO_MPTCP = 262;
export const AF_UNIX = 1;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const AF_NETLINK = 16;
export const AF_PACKET = 17;
/**
 * The netlink protocol any process may send on to another process's
 * socket (NL_CFG_F_NONROOT_SEND): a channel out of the sandbox to a
 * listener outside, refused where `[net]` restricts sockets.
 */
export const NETLINK_USERSOCK = 2;
/** The kernel's crypto API (AF_ALG): no network. */
export const AF_ALG = 38;
/** XDP sockets: whole frames sent on an interface, like AF_PACKET. */
export const AF_XDP = 44;
export const SOCK_STREAM = 1;
export const SOCK_DGRAM = 2;
export const SOCK_RAW = 3;
/** Obsolete; `socket(AF_INET, SOCK_PACKET)` still makes a packet socket. */
export const SOCK_PACKET = 10;
/** The kernel masks `type` with this; the rest are SOCK_CLOEXEC/NONBLOCK. */
export const SOCK_TYPE_MASK = 0xf;
export const IPPROTO_TCP = 6;
export const IPPROTO_UDP = 17;
/** memfd_create: seal the memfd non-executable (Linux 6.3+). */
export const MFD_NOEXEC_SEAL = 0x8;
export const { EPERM, ENOSYS, EPROTONOSUPPORT, EOPNOTSUPP } = errno;
/** sendto/sendmsg/sendmmsg: connect and send at once (TCP Fast Open). */
const MSG_FASTOPEN = 0x20000000;
/** setsockopt levels and options that route packets through another host. */
const IPPROTO_IP = 0;
const IP_OPTIONS = 4;
const IPPROTO_IPV6 = 41;
const IPV6_2292PKTOPTIONS = 6;
const IPV6_RTHDR = 57;

/** What the filter does. */
export interface FilterSpec {
  arch: Arch;
  /** Syscall numbers by name: every name below, plus `ioctl` and `socket`. */
  table: Readonly<Record<string, number>>;
  /** Syscall names that fail with `errno`. */
  deny: readonly string[];
  errno: number;
  /**
   * Syscall names the built-in baseline refuses with ENOSYS, as a kernel
   * built without them would (io_uring, userfaultfd): programs fall back.
   */
  absent: readonly string[];
  /** Refuse `ioctl(USERFAULTFD_IOC_NEW)` with EPERM (the /dev/userfaultfd route). */
  refuseUffdIoctl: boolean;
  /** Refuse MPTCP sockets, so programs fall back to TCP, which Landlock controls. */
  refuseMptcp: boolean;
  /**
   * Which IPv4/IPv6 sockets `socket(2)` refuses with `errno`: datagram
   * sockets ("deny"), datagram sockets of a protocol other than UDP ("dns":
   * ICMP ping sockets, UDP-Lite), and raw and packet sockets (`raw: false`).
   */
  sockets?: {
    udp: "allow" | "deny" | "dns";
    raw: boolean;
    /**
     * Refuse every socket family but AF_UNIX, AF_INET, AF_INET6,
     * AF_NETLINK and AF_ALG (and AF_PACKET, AF_XDP where `raw`), and
     * IPv4/IPv6 sockets of another type than stream, datagram (and raw,
     * packet where `raw`), or a stream protocol other than TCP (MPTCP is
     * left to `refuseMptcp`): vsock, TIPC, RDS, CAN, Bluetooth, SCTP and
     * the rest reach hosts that no rule of `[net]` names.
     */
    families?: boolean;
  };
  /**
   * Refuse `sendto`, `sendmsg` and `sendmmsg` with MSG_FASTOPEN
   * (EOPNOTSUPP, as a kernel with client Fast Open disabled says): on an
   * unconnected TCP socket it connects without the LSM connect hook, so
   * Landlock's `connect_tcp` rules never see it.
   */
  refuseFastOpen?: boolean;
  /**
   * Refuse `setsockopt(IPPROTO_IP, IP_OPTIONS)` and
   * `setsockopt(IPPROTO_IPV6, IPV6_RTHDR or IPV6_2292PKTOPTIONS)` with
   * `errno`: a source route or routing header sends every packet of the
   * socket to its first hop, whatever address the broker checked.
   */
  refuseSourceRoute?: boolean;
  /** Refuse `memfd_create` without MFD_NOEXEC_SEAL with `errno`. */
  refuseMemfdExec?: boolean;
  /**
   * Syscall names the broker answers (user notification). `sendto` is
   * sent to the broker only with a destination address (`send` is not),
   * `sendmsg` unless its flags are `listenerSendFlags`.
   */
  notify: readonly string[];
  /**
   * Addresses of the paths the sandbox's first process execs (in its
   * memory before the exec): an `execve` whose path argument is one of
   * them is allowed without a notification, even when `execve` is in
   * `notify`. The exec that starts the command cannot wait for an answer
   * (landlockd sleeps until it); after it, the address space is new.
   */
  quietExec?: readonly bigint[];
  /**
   * The flags of landlockd's own sendmsg that hands the listener back,
   * before anyone listens (ffi/spawn.c refuses them right after).
   */
  listenerSendFlags?: number;
}

/** A name this architecture does not have. */
export class UnknownSyscallError extends Error {
  override name = "UnknownSyscallError";
}

function numbers(spec: FilterSpec, names: readonly string[]): number[] {
  const arch = spec.arch;
  return [...new Set(names)].map((name) => {
    const nr = Object.hasOwn(spec.table, name) ? spec.table[name] : undefined;
    if (nr === undefined) {
      throw new UnknownSyscallError(`no system call "${name}" on ${arch}`);
    }
    return nr;
  }).sort((a, b) => a - b);
}

/** `if (nr == n) return r;` as two instructions. */
function match(nr: number, r: number): Insn[] {
  return [jeq(nr, 0, 1), ret(r)];
}

/**
 * `if (nr == n && low32(arg) in values) return r;`, leaving A = nr when it
 * does not return. The kernel truncates an ioctl request and a socket
 * protocol to 32 bits, so only the low word is compared.
 *
 *     0      jeq nr        jt 0, jf past the block
 *     1      ld  arg (low word)
 *     2+i    jeq values[i] jt to the ret, jf 0
 *     2+n    ld  nr        a miss: restore A
 *     3+n    ja  +1        skip the ret
 *     4+n    ret r
 */
function matchArg(
  nr: number,
  arg: number,
  values: readonly number[],
  r: number,
): Insn[] {
  const n = values.length;
  return [
    jeq(nr, 0, 4 + n),
    load(DATA.argLow(arg)),
    ...values.map((v, i) => jeq(v, n + 1 - i, 0)),
    load(DATA.nr),
    ja(1),
    ret(r),
  ];
}

/**
 * `if (nr == execve && arg0 in addrs) return ALLOW;`, leaving A = nr when
 * it does not return. Each address is compared as two 32-bit words.
 *
 *     0        jeq nr        jt 0, jf past the blocks and the reload
 *     1+5i     ld  arg0 low
 *     2+5i     jeq low(addr) jt 0, jf to the next block
 *     3+5i     ld  arg0 high
 *     4+5i     jeq high(addr) jt 0, jf to the next block
 *     5+5i     ret ALLOW
 *     1+5n     ld  nr        a miss: restore A
 */
function allowExecOf(nr: number, addrs: readonly bigint[]): Insn[] {
  const n = addrs.length;
  return [
    jeq(nr, 0, 5 * n + 1),
    ...addrs.flatMap((addr) => [
      load(DATA.argLow(0)),
      jeq(Number(addr & 0xffffffffn), 0, 3),
      load(DATA.argHigh(0)),
      jeq(Number(addr >> 32n), 0, 1),
      ret(SECCOMP_RET_ALLOW),
    ]),
    load(DATA.nr),
  ];
}

/** An instruction, a label, or a forward jump to a label. */
type Step =
  | Insn
  | { label: string }
  | { jeq: number; to: string }
  | { jne: number; to: string }
  | { goto: string };

/**
 * The end of a rule that refuses with `r`: "out" reloads the syscall
 * number and leaves, "refuse" returns `r`.
 */
function outOrRefuse(r: number): Step[] {
  return [
    { label: "out" },
    load(DATA.nr),
    { goto: "end" },
    { label: "refuse" },
    ret(r),
    { label: "end" },
  ];
}

/** Lays out a block whose jumps go forward to its labels. */
function assemble(steps: readonly Step[]): Insn[] {
  const at = new Map<string, number>();
  let pc = 0;
  for (const s of steps) {
    if ("label" in s) at.set(s.label, pc);
    else pc++;
  }
  const out: Insn[] = [];
  const offset = (label: string) => {
    const target = at.get(label);
    if (target === undefined) throw new Error(`no label ${label}`);
    return target - out.length - 1;
  };
  for (const s of steps) {
    if ("label" in s) continue;
    if ("jeq" in s) out.push(jeq(s.jeq, offset(s.to), 0));
    else if ("jne" in s) out.push(jeq(s.jne, 0, offset(s.to)));
    else if ("goto" in s) out.push(ja(offset(s.goto)));
    else out.push(s);
  }
  return out;
}

/**
 * The socket rules, entered with A = nr and left with A = nr when they do
 * not return:
 *
 *     if (nr == socket) {
 *       if (domain == AF_INET || domain == AF_INET6) {
 *         t = type & SOCK_TYPE_MASK;
 *         if (!raw && (t == SOCK_RAW || t == SOCK_PACKET)) return r;
 *         if (udp == deny && t == SOCK_DGRAM) return r;
 *         if (udp == dns && t == SOCK_DGRAM && proto != 0 && proto != UDP)
 *           return r;
 *         if (families) {
 *           if (t == SOCK_STREAM && proto != 0 && proto != TCP &&
 *               proto != MPTCP) return r;          // SCTP
 *           if (t != SOCK_STREAM && t != SOCK_DGRAM &&
 *               !(raw && (t == SOCK_RAW || t == SOCK_PACKET))) return r;
 *         }
 *       } else if (families) {
 *         if (domain == NETLINK && proto == NETLINK_USERSOCK) return r;
 *         if (domain not in UNIX, NETLINK, ALG,
 *             and with raw PACKET, XDP) return r;
 *       } else if (!raw && (domain == AF_PACKET || domain == AF_XDP)) {
 *         return r;
 *       }
 *     }
 *
 * MPTCP passes here: where TCP is restricted a later rule refuses it with
 * EPROTONOSUPPORT, so programs fall back to TCP.
 */
function socketRules(
  socket: number,
  rules: NonNullable<FilterSpec["sockets"]>,
  r: number,
): Insn[] {
  const families = rules.families ?? false;
  const steps: Step[] = [
    { jne: socket, to: "end" },
    load(DATA.argLow(0)),
    { jeq: AF_INET, to: "inet" },
    { jeq: AF_INET6, to: "inet" },
  ];
  if (families) {
    steps.push(
      { jeq: AF_UNIX, to: "out" },
      { jeq: AF_NETLINK, to: "netlink" },
      { jeq: AF_ALG, to: "out" },
    );
    if (rules.raw) {
      steps.push({ jeq: AF_PACKET, to: "out" }, { jeq: AF_XDP, to: "out" });
    }
    steps.push({ goto: "refuse" });
  } else {
    if (!rules.raw) {
      // AF_XDP transmits frames the program writes, with CAP_NET_RAW alone
      // (no XDP program needed): a packet socket by another name.
      steps.push(
        { jeq: AF_PACKET, to: "refuse" },
        { jeq: AF_XDP, to: "refuse" },
      );
    }
    steps.push({ goto: "out" });
  }
  steps.push(
    { label: "inet" },
    load(DATA.argLow(1)),
    and(SOCK_TYPE_MASK),
  );
  if (!rules.raw) {
    steps.push(
      { jeq: SOCK_RAW, to: "refuse" },
      { jeq: SOCK_PACKET, to: "refuse" },
    );
  }
  if (rules.udp === "deny") steps.push({ jeq: SOCK_DGRAM, to: "refuse" });
  if (rules.udp === "dns") steps.push({ jeq: SOCK_DGRAM, to: "dgram" });
  if (families) {
    steps.push(
      { jeq: SOCK_DGRAM, to: "out" },
      { jeq: SOCK_STREAM, to: "stream" },
    );
    if (rules.raw) {
      steps.push({ jeq: SOCK_RAW, to: "out" }, { jeq: SOCK_PACKET, to: "out" });
    }
    steps.push(
      { goto: "refuse" },
      { label: "stream" },
      load(DATA.argLow(2)),
      { jeq: 0, to: "out" },
      { jeq: IPPROTO_TCP, to: "out" },
      { jeq: IPPROTO_MPTCP, to: "out" },
      { goto: "refuse" },
    );
  } else steps.push({ goto: "out" });
  if (families) {
    steps.push(
      { label: "netlink" },
      load(DATA.argLow(2)),
      { jeq: NETLINK_USERSOCK, to: "refuse" },
      { goto: "out" },
    );
  }
  if (rules.udp === "dns") {
    steps.push(
      { label: "dgram" },
      load(DATA.argLow(2)),
      { jeq: 0, to: "out" },
      { jeq: IPPROTO_UDP, to: "out" },
      { goto: "refuse" },
    );
  }
  steps.push(...outOrRefuse(r));
  return assemble(steps);
}

/**
 * `memfd_create` without MFD_NOEXEC_SEAL fails with `r`; A = nr after.
 *
 *     0  jeq memfd_create  jt 0, jf 4
 *     1  ld  flags
 *     2  jset MFD_NOEXEC_SEAL  jt 1 (to 4), jf 0
 *     3  ret r
 *     4  ld  nr
 */
function memfdRule(memfd: number, r: number): Insn[] {
  return [
    jeq(memfd, 0, 4),
    load(DATA.argLow(1)),
    jset(MFD_NOEXEC_SEAL, 1, 0),
    ret(r),
    load(DATA.nr),
  ];
}

/**
 * A send with MSG_FASTOPEN fails with `r`; A = nr after.
 *
 *     0  jeq nr  jt 0, jf 4
 *     1  ld  flags
 *     2  jset MSG_FASTOPEN  jt 0, jf 1 (to 4)
 *     3  ret r
 *     4  ld  nr
 */
function fastOpenRule(nr: number, flagsArg: number, r: number): Insn[] {
  return [
    jeq(nr, 0, 4),
    load(DATA.argLow(flagsArg)),
    jset(MSG_FASTOPEN, 0, 1),
    ret(r),
    load(DATA.nr),
  ];
}

/**
 * The socket options that source-route a socket fail with `r`; A = nr
 * after.
 *
 *     if (nr == setsockopt) {
 *       if (level == IPPROTO_IP && opt == IP_OPTIONS) return r;
 *       if (level == IPPROTO_IPV6 &&
 *           (opt == IPV6_RTHDR || opt == IPV6_2292PKTOPTIONS)) return r;
 *     }
 */
function sourceRouteRule(setsockopt: number, r: number): Insn[] {
  return assemble([
    { jne: setsockopt, to: "end" },
    load(DATA.argLow(1)),
    { jeq: IPPROTO_IP, to: "ip" },
    { jeq: IPPROTO_IPV6, to: "ipv6" },
    { goto: "out" },
    { label: "ip" },
    load(DATA.argLow(2)),
    { jeq: IP_OPTIONS, to: "refuse" },
    { goto: "out" },
    { label: "ipv6" },
    load(DATA.argLow(2)),
    { jeq: IPV6_RTHDR, to: "refuse" },
    { jeq: IPV6_2292PKTOPTIONS, to: "refuse" },
    ...outOrRefuse(r),
  ]);
}

/**
 * `sendto` goes to the broker only with a destination: `send(2)` (a NULL
 * address) is allowed at once.
 *
 *     0  jeq sendto  jt 0, jf 6
 *     1  ld  dest (low)
 *     2  jeq 0  jt 0, jf 3 (to 6)
 *     3  ld  dest (high)
 *     4  jeq 0  jt 0, jf 1 (to 6)
 *     5  ret ALLOW
 *     6  ret USER_NOTIF
 */
function notifySendto(sendto: number): Insn[] {
  return [
    jeq(sendto, 0, 6),
    load(DATA.argLow(4)),
    jeq(0, 0, 3),
    load(DATA.argHigh(4)),
    jeq(0, 0, 1),
    ret(SECCOMP_RET_ALLOW),
    ret(SECCOMP_RET_USER_NOTIF),
  ];
}

/**
 * `sendmsg` goes to the broker unless its flags are landlockd's own
 * listener hand-off.
 *
 *     0  jeq sendmsg  jt 0, jf 4
 *     1  ld  flags
 *     2  jeq handoff  jt 0, jf 1 (to 4)
 *     3  ret ALLOW
 *     4  ret USER_NOTIF
 */
function notifySendmsg(sendmsg: number, handoff: number): Insn[] {
  return [
    jeq(sendmsg, 0, 4),
    load(DATA.argLow(2)),
    jeq(handoff, 0, 1),
    ret(SECCOMP_RET_ALLOW),
    ret(SECCOMP_RET_USER_NOTIF),
  ];
}

/** Builds the program. Throws UnknownSyscallError for a foreign name. */
export function buildFilter(spec: FilterSpec): Insn[] {
  const errno = SECCOMP_RET_ERRNO | (spec.errno & 0xffff);
  const prog: Insn[] = [
    load(DATA.arch),
    jeq(AUDIT_ARCH[spec.arch], 1, 0),
    ret(SECCOMP_RET_KILL_PROCESS),
    load(DATA.nr),
  ];
  if (spec.arch === "x86_64") {
    prog.push(jge(X32_SYSCALL_BIT, 0, 1), ret(errno));
  }
  for (const nr of numbers(spec, spec.deny)) {
    prog.push(...match(nr, errno));
  }
  for (const nr of numbers(spec, spec.absent)) {
    prog.push(...match(nr, SECCOMP_RET_ERRNO | ENOSYS));
  }

  const [ioctl] = numbers(spec, ["ioctl"]);
  const [socket] = numbers(spec, ["socket"]);
  prog.push(
    ...matchArg(
      ioctl,
      1,
      [
        TIOCSTI,
        TIOCLINUX,
        ...(spec.refuseUffdIoctl ? [USERFAULTFD_IOC_NEW] : []),
      ],
      SECCOMP_RET_ERRNO | EPERM,
    ),
  );
  if (
    spec.sockets &&
    (spec.sockets.udp !== "allow" || !spec.sockets.raw ||
      spec.sockets.families)
  ) {
    prog.push(...socketRules(socket, spec.sockets, errno));
  }
  if (spec.refuseMemfdExec) {
    prog.push(...memfdRule(numbers(spec, ["memfd_create"])[0], errno));
  }
  if (spec.refuseMptcp) {
    prog.push(
      ...matchArg(
        socket,
        2,
        [IPPROTO_MPTCP],
        SECCOMP_RET_ERRNO | EPROTONOSUPPORT,
      ),
    );
  }
  if (spec.refuseFastOpen) {
    const [sendto, sendmsg, sendmmsg] = numbers(spec, ["sendto"]).concat(
      numbers(spec, ["sendmsg"]),
      numbers(spec, ["sendmmsg"]),
    );
    const r = SECCOMP_RET_ERRNO | EOPNOTSUPP;
    prog.push(
      ...fastOpenRule(sendto, 3, r),
      ...fastOpenRule(sendmsg, 2, r),
      ...fastOpenRule(sendmmsg, 3, r),
    );
  }
  if (spec.refuseSourceRoute) {
    prog.push(...sourceRouteRule(numbers(spec, ["setsockopt"])[0], errno));
  }
  const quiet = spec.quietExec ?? [];
  if (quiet.length && spec.notify.includes("execve")) {
    prog.push(...allowExecOf(numbers(spec, ["execve"])[0], quiet));
  }
  for (const nr of numbers(spec, spec.notify)) {
    if (nr === spec.table.sendto) prog.push(...notifySendto(nr));
    else if (nr === spec.table.sendmsg) {
      if (spec.listenerSendFlags === undefined) {
        throw new Error("sendmsg is sent to the broker: listenerSendFlags?");
      }
      prog.push(...notifySendmsg(nr, spec.listenerSendFlags));
    } else prog.push(...match(nr, SECCOMP_RET_USER_NOTIF));
  }
  prog.push(ret(SECCOMP_RET_ALLOW));
  return prog;
}
