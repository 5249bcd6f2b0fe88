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
  AUDIT_ARCH,
  DATA,
  type Insn,
  ja,
  jeq,
  jge,
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
export const { EPERM, ENOSYS, EPROTONOSUPPORT } = errno;

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
  /** Syscall names the broker answers (user notification). */
  notify: readonly string[];
  /**
   * Addresses of the paths the sandbox's first process execs (in its
   * memory before the exec): an `execve` whose path argument is one of
   * them is allowed without a notification, even when `execve` is in
   * `notify`. The exec that starts the command cannot wait for an answer
   * (landlockd sleeps until it); after it, the address space is new.
   */
  quietExec?: readonly bigint[];
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
  const quiet = spec.quietExec ?? [];
  if (quiet.length && spec.notify.includes("execve")) {
    prog.push(...allowExecOf(numbers(spec, ["execve"])[0], quiet));
  }
  for (const nr of numbers(spec, spec.notify)) {
    prog.push(...match(nr, SECCOMP_RET_USER_NOTIF));
  }
  prog.push(ret(SECCOMP_RET_ALLOW));
  return prog;
}
