/**
 * `[net] udp = "dns"`: the broker's answers to `connect`, `sendto` (with
 * an address), `sendmsg` and `sendmmsg`.
 *
 * For an IPv4/IPv6 datagram socket, the broker copies the call's
 * arguments (the address, and for sends the data) out of the task, checks
 * the destination against the nameservers (broker/udp_rules.ts), then
 * performs the call itself, with its copies, on a duplicate of the task's
 * socket (pidfd_getfd), and answers with the result. The kernel never
 * re-reads the task's memory, so a thread that rewrites the address after
 * the check changes nothing. A datagram send without an address on a
 * connected socket is performed the same way (its peer was checked when it
 * connected); `send(2)` (sendto without an address) is not notified at all.
 *
 * Any other socket (TCP, unix, netlink) is continued: the kernel performs
 * the call, Landlock decides TCP. See docs/egress.md for what that leaves.
 *
 * @module
 */

import { UDP_CALLS } from "./udp_calls.ts";
import type { Listener, Notification } from "../syscalls/seccomp_notify.ts";
import { readRemote } from "../syscalls/seccomp_notify.ts";
import {
  connectRaw,
  type Datagram,
  decodeIovecs,
  decodeMsghdr,
  fetchTaskFd,
  IOVEC_SIZE,
  MMSGHDR_MSG_LEN,
  MMSGHDR_SIZE,
  MSGHDR_SIZE,
  sendmmsgRaw,
  socketKind,
  writeRemote,
} from "../syscalls/socket.ts";
import { close } from "../syscalls/sys.ts";
import { errno as E } from "../syscalls/errno.ts";
import {
  AF_INET,
  AF_INET6,
  decodeSockaddr,
  type Destination,
  dnsAllows,
  hasRoutingControl,
  hasSocketLevelControl,
  tcpDecision,
  type TcpPlan,
  type UdpPlan,
} from "./udp_rules.ts";

export { UDP_CALLS };

const SOCK_STREAM = 1;
const SOCK_DGRAM = 2;
/** The most a UDP datagram carries. */
const MAX_DATAGRAM = 65535;
const MAX_SOCKADDR = 128;
const MSG_ZEROCOPY = 0x4000000;
const MAX_CONTROL = 4096;
const MAX_IOVS = 1024;
/** sendmmsg's own limit (UIO_MAXIOV). */
const MAX_MESSAGES = 1024;

/** A copy of a task's memory, or -errno. */
function copyIn(
  pid: number,
  addr: bigint,
  len: number,
): Uint8Array<ArrayBuffer> | number {
  if (len === 0) return new Uint8Array(0);
  if (addr === 0n) return -E.EFAULT;
  const out = new Uint8Array(len);
  for (let got = 0; got < len;) {
    const r = readRemote(pid, addr + BigInt(got), Math.min(len - got, 4096));
    if (typeof r === "number") return r;
    if (r.length === 0) return -E.EFAULT;
    out.set(r, got);
    got += r.length;
  }
  return out;
}

/** Why a call is answered without sending: an errno. */
class Refusal {
  constructor(readonly errno: number) {}
}

/** A destination the broker refused (`run --explain`), with a count. */
export interface UdpRefusal {
  ip: string;
  port: number;
  syscall: string;
  count: number;
}

/**
 * A TCP connect the broker refused under `allow_hosts` (`run --explain`):
 * not the proxy on 127.0.0.1, nor a `[[net.rule]]` port.
 */
export interface TcpRefusal {
  ip: string;
  port: number;
  /** The errno the command got: EACCES, as Landlock would say. */
  errno: number;
  count: number;
}

/** How many distinct refused destinations are kept (each of UDP, TCP). */
const REFUSALS_KEPT = 256;

/**
 * Answers the UDP calls of one sandbox (`udp = "dns"`), and its TCP
 * connects under `allow_hosts` (only the proxy on 127.0.0.1, see TcpPlan).
 */
export class UdpBroker {
  /** Refused destinations, kept only when `recordRefusals` was called. */
  #refusals?: Map<string, UdpRefusal>;
  /** Refused TCP connects (`allow_hosts`), kept likewise. */
  #tcpRefusals?: Map<string, TcpRefusal>;
  /** The call being answered, for `#refusals`. */
  #call = "";

  constructor(
    readonly plan: UdpPlan | undefined,
    readonly listener: Listener,
    readonly tcp?: TcpPlan,
  ) {}

  /**
   * Keeps the destinations refused from now on, UDP and TCP (bounded;
   * `refusals`, `tcpRefusals`).
   */
  recordRefusals(): void {
    this.#refusals ??= new Map();
    this.#tcpRefusals ??= new Map();
  }

  /** The destinations refused since `recordRefusals`, first seen first. */
  refusals(): UdpRefusal[] {
    return [...this.#refusals?.values() ?? []].map((r) => ({ ...r }));
  }

  /** The TCP connects refused since `recordRefusals`, first seen first. */
  tcpRefusals(): TcpRefusal[] {
    return [...this.#tcpRefusals?.values() ?? []].map((r) => ({ ...r }));
  }

  #refusedTcp(to: Destination, errno: number): Refusal {
    const m = this.#tcpRefusals;
    if (m && to.family === "inet") {
      const key = `${to.ip}\0${to.port}\0${errno}`;
      const seen = m.get(key);
      if (seen) seen.count++;
      else if (m.size < REFUSALS_KEPT) {
        m.set(key, { ip: to.ip, port: to.port, errno, count: 1 });
      }
    }
    return new Refusal(errno);
  }

  #refused(to: Destination, syscall: string, errno: number): Refusal {
    const m = this.#refusals;
    if (m && to.family === "inet") {
      const key = `${to.ip}\0${to.port}\0${syscall}`;
      const seen = m.get(key);
      if (seen) seen.count++;
      else if (m.size < REFUSALS_KEPT) {
        m.set(key, { ip: to.ip, port: to.port, syscall, count: 1 });
      }
    }
    return new Refusal(errno);
  }

  /** Answers one notification of a {@link UDP_CALLS} call. */
  handle(n: Notification, name: string): boolean {
    const fd = Number(BigInt.asIntN(32, n.args[0]));
    const dup = fd < 0 ? -E.EBADF : fetchTaskFd(n.pid, fd);
    // No such fd: EBADF, as the kernel would say. A socket the broker
    // cannot look at (a task that made itself non-dumpable, as another
    // user) is refused: it could be a UDP socket.
    if (dup < 0) {
      this.listener.fail(
        n.id,
        dup === -E.EBADF ? E.EBADF : this.plan?.errno ?? E.EACCES,
      );
      return false;
    }
    try {
      const kind = socketKind(dup);
      const inet = kind !== undefined &&
        (kind.domain === AF_INET || kind.domain === AF_INET6);
      if (inet && kind.type === SOCK_STREAM && name === "connect" && this.tcp) {
        const r = this.#connectTcp(n, dup, this.tcp);
        if (r === "continue") {
          this.listener.continue(n.id);
          return true;
        }
        if (r instanceof Refusal) this.listener.fail(n.id, r.errno);
        else this.listener.succeed(n.id, 0n);
        return false;
      }
      if (!inet || kind.type !== SOCK_DGRAM || !this.plan) {
        this.listener.continue(n.id);
        return true;
      }
      const r = this.#perform(n, name, dup, this.plan);
      if (r instanceof Refusal) this.listener.fail(n.id, r.errno);
      else this.listener.succeed(n.id, BigInt(r));
      return false;
    } finally {
      close(dup);
    }
  }

  /**
   * A TCP connect under `allow_hosts`: to the proxy on 127.0.0.1 it is
   * performed here, with the broker's copy of the address (a thread that
   * rewrites it afterwards changes nothing); to a `[[net.rule]]` port it
   * is continued; anything else is EACCES, as Landlock would say.
   */
  #connectTcp(
    n: Notification,
    dup: number,
    tcp: TcpPlan,
  ): 0 | "continue" | Refusal {
    const len = Number(BigInt.asUintN(32, n.args[2]));
    if (len > MAX_SOCKADDR) return new Refusal(E.EINVAL);
    const addr = copyIn(n.pid, n.args[1], len);
    if (typeof addr === "number") return new Refusal(-addr);
    const to = decodeSockaddr(addr);
    if (to.family === "invalid") return new Refusal(E.EINVAL);
    const decision = tcpDecision(to, tcp);
    if (decision === "continue") return "continue";
    if (decision === "refuse") return this.#refusedTcp(to, E.EACCES);
    if (decision === "bad family") return new Refusal(E.EAFNOSUPPORT);
    if (!this.listener.stillValid(n.id)) return new Refusal(E.EINTR);
    const r = connectRaw(dup, addr);
    return r < 0 ? new Refusal(-r) : 0;
  }

  /** The call's result, or why it is refused. */
  #perform(
    n: Notification,
    name: string,
    dup: number,
    plan: UdpPlan,
  ): number | Refusal {
    const a = n.args;
    this.#call = name;
    if (name === "connect") {
      const len = Number(BigInt.asUintN(32, a[2]));
      if (len > MAX_SOCKADDR) return new Refusal(E.EINVAL);
      const addr = copyIn(n.pid, a[1], len);
      if (typeof addr === "number") return new Refusal(-addr);
      const to = decodeSockaddr(addr);
      if (to.family === "invalid") return new Refusal(E.EINVAL);
      if (!dnsAllows(to, plan, "connect")) {
        return this.#refused(to, this.#call, plan.errno);
      }
      if (!this.listener.stillValid(n.id)) return new Refusal(E.EINTR);
      const r = connectRaw(dup, addr);
      return r < 0 ? new Refusal(-r) : 0;
    }
    // MSG_ZEROCOPY would pin the broker's copy and report on the socket's
    // error queue; the copy is sent like any other.
    const flags = Number(BigInt.asUintN(32, name === "sendto" ? a[3] : a[2])) &
      ~MSG_ZEROCOPY;
    let datagrams: Datagram[];
    let vec = 0n;
    if (name === "sendto") {
      const len64 = BigInt.asUintN(64, a[2]);
      if (len64 > BigInt(MAX_DATAGRAM)) return new Refusal(E.EMSGSIZE);
      const len = Number(len64);
      const d = this.#datagram(
        n.pid,
        a[4],
        Number(BigInt.asUintN(32, a[5])),
        [[a[1], len]],
        0n,
        0,
      );
      if (d instanceof Refusal) return d;
      datagrams = [d];
    } else if (name === "sendmsg") {
      const d = this.#message(n.pid, a[1]);
      if (d instanceof Refusal) return d;
      datagrams = [d];
    } else {
      vec = a[1];
      const count = Math.min(Number(BigInt.asUintN(32, a[2])), MAX_MESSAGES);
      datagrams = [];
      for (let i = 0; i < count; i++) {
        const d = this.#message(n.pid, vec + BigInt(i * MMSGHDR_SIZE));
        // Like the kernel: an error after the first message ends the batch.
        if (d instanceof Refusal) {
          if (i === 0) return d;
          break;
        }
        datagrams.push(d);
      }
      if (count === 0) return 0;
    }
    if (!this.listener.stillValid(n.id)) return new Refusal(E.EINTR);
    const r = sendmmsgRaw(dup, datagrams, flags);
    if (typeof r === "number") return new Refusal(-r);
    if (name !== "sendmmsg") return r.lengths[0];
    r.lengths.forEach((len, i) => {
      const at = vec + BigInt(i * MMSGHDR_SIZE + MMSGHDR_MSG_LEN);
      writeRemote(n.pid, at, new Uint8Array(new Uint32Array([len]).buffer));
    });
    return r.sent;
  }

  /** A `struct msghdr` at `addr` in the task, copied and checked. */
  #message(pid: number, addr: bigint): Datagram | Refusal {
    const bytes = copyIn(pid, addr, MSGHDR_SIZE);
    if (typeof bytes === "number") return new Refusal(-bytes);
    const h = decodeMsghdr(bytes);
    if (h.iovlen > MAX_IOVS) return new Refusal(E.EMSGSIZE);
    const iovs = copyIn(pid, h.iov, h.iovlen * IOVEC_SIZE);
    if (typeof iovs === "number") return new Refusal(-iovs);
    const pieces: [bigint, number][] = [];
    let total = 0n;
    for (const [base, len] of decodeIovecs(iovs, h.iovlen)) {
      total += len;
      if (total > BigInt(MAX_DATAGRAM)) return new Refusal(E.EMSGSIZE);
      pieces.push([base, Number(len)]);
    }
    if (h.controllen > MAX_CONTROL) return new Refusal(E.EINVAL);
    return this.#datagram(
      pid,
      // Like the kernel: no length means no address, a longer one is cut.
      h.namelen ? h.name : 0n,
      Math.min(h.namelen, MAX_SOCKADDR),
      pieces,
      h.control,
      h.controllen,
    );
  }

  /** Copies one datagram's destination, data and control messages. */
  #datagram(
    pid: number,
    nameAddr: bigint,
    nameLen: number,
    pieces: [bigint, number][],
    controlAddr: bigint,
    controlLen: number,
  ): Datagram | Refusal {
    let name: Uint8Array<ArrayBuffer> | undefined;
    if (nameAddr !== 0n) {
      if (nameLen > MAX_SOCKADDR) return new Refusal(E.EINVAL);
      const copy = copyIn(pid, nameAddr, nameLen);
      if (typeof copy === "number") return new Refusal(-copy);
      const to = decodeSockaddr(copy);
      if (to.family === "invalid") return new Refusal(E.EINVAL);
      if (!dnsAllows(to, this.plan!, "send")) {
        return this.#refused(to, this.#call, this.plan!.errno);
      }
      name = copy;
    }
    const data = new Uint8Array(pieces.reduce((s, [, len]) => s + len, 0));
    let at = 0;
    for (const [base, len] of pieces) {
      const piece = copyIn(pid, base, len);
      if (typeof piece === "number") return new Refusal(-piece);
      data.set(piece, at);
      at += len;
    }
    const control = controlLen
      ? copyIn(pid, controlAddr, controlLen)
      : undefined;
    if (typeof control === "number") return new Refusal(-control);
    // Performed by the broker, a socket-level control message would be
    // checked against the broker's capabilities (a root daemon's, for a
    // nobody client: SO_MARK).
    // A source route or routing header sends the datagram to its first
    // hop, not to the address checked above.
    if (
      control &&
      (hasSocketLevelControl(control) || hasRoutingControl(control))
    ) {
      return new Refusal(this.plan!.errno);
    }
    return { name, data, control };
  }
}
