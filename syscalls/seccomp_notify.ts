/**
 * seccomp user notification: receive, answer, inject fds, and read the
 * notifying process's memory. Buffers are allocated once per listener, so
 * the broker's hot path makes only synchronous FFI calls.
 *
 * @module
 */

import {
  addressOf,
  brokerState,
  iovec,
  library,
  libraryBound,
  limits,
  mountAttr,
  NR,
  openHow,
  seccompIoctls,
  seccompNotif,
  seccompNotifAddfd,
  seccompNotifResp,
  struct,
} from "../ffi/mod.ts";
import { O_CLOEXEC } from "./constants.ts";
import { errno } from "./errno.ts";
import { rawSyscall, unwrap } from "./sys.ts";

// SECCOMP_IOCTL_NOTIF_RECV is called from C (ll_broker_next).
const {
  SECCOMP_IOCTL_NOTIF_SEND: NOTIF_SEND,
  SECCOMP_IOCTL_NOTIF_ID_VALID: NOTIF_ID_VALID,
  SECCOMP_IOCTL_NOTIF_ADDFD: NOTIF_ADDFD,
  SECCOMP_USER_NOTIF_FLAG_CONTINUE: USER_NOTIF_FLAG_CONTINUE,
} = seccompIoctls;
const { ENOENT, EINTR, EINPROGRESS, EFAULT, EINVAL } = errno;

/** One notification. */
export interface Notification {
  id: bigint;
  pid: number;
  nr: number;
  args: bigint[];
  /** The path argument, when the C fast path already read it. */
  path?: string;
}

/** The fast path: which calls it answers and which paths it must not. */
export interface FastPath {
  /** Declared paths: a call naming one, or anything beneath, goes to JS. */
  prefixes: readonly string[];
  /** Open-family syscall numbers and the index of their path argument. */
  calls: readonly [nr: number, pathArg: number][];
}

/** A listener fd and the buffers to talk to it. */
export class Listener {
  readonly #notif = struct(seccompNotif.size);
  readonly #resp = struct(seccompNotifResp.size);
  readonly #respAddr = addressOf(this.#resp[0]);
  readonly #addfd = struct(seccompNotifAddfd.size);
  readonly #addfdAddr = addressOf(this.#addfd[0]);
  readonly #id = new BigUint64Array(1);
  readonly #idAddr = addressOf(this.#id);
  readonly #state = struct(brokerState.size);
  readonly #path = new Uint8Array(limits.LL_BROKER_PATH_SIZE);
  /** Buffers the C state points into: held as long as the listener lives. */
  readonly #keep: Uint8Array[];

  constructor(readonly fd: number, readonly pidfd: number, fast: FastPath) {
    const prefixes = new TextEncoder().encode(
      fast.prefixes.map((p) => `${p}\0`).join("") + "\0",
    );
    const nrs = Int32Array.from(fast.calls.map(([nr]) => nr));
    const args = Int32Array.from(fast.calls.map(([, arg]) => arg));
    this.#keep = [
      prefixes,
      new Uint8Array(nrs.buffer),
      new Uint8Array(args.buffer),
    ];
    const [, view] = this.#state;
    const B = brokerState;
    view.setInt32(B.listener, fd, true);
    view.setInt32(B.pidfd, pidfd, true);
    view.setBigUint64(B.prefixes, addressOf(prefixes), true);
    view.setBigUint64(B.open_nrs, addressOf(nrs), true);
    view.setBigUint64(B.path_args, addressOf(args), true);
    view.setUint32(B.n_open, fast.calls.length, true);
    view.setUint32(B.listening, 1, true);
    view.setBigUint64(B.path_out, addressOf(this.#path), true);
  }

  /**
   * Blocks until a notification needs a decision (undeclared opens are
   * answered in C meanwhile); undefined once the child has exited.
   */
  next(): Notification | undefined {
    const r = library().ll_broker_next(this.#state[0], this.#notif[0]);
    if (r === 0) return undefined;
    unwrap(r, "receive a seccomp notification");
    return this.received();
  }

  /**
   * The addresses of this listener's `struct ll_broker` and notification
   * buffer, for a thread that serves several listeners with one poll.
   */
  get addresses(): { state: bigint; notif: bigint } {
    return {
      state: addressOf(this.#state[0]),
      notif: addressOf(this.#notif[0]),
    };
  }

  /** The notification C just wrote to this listener's buffer. */
  received(): Notification {
    const [, view] = this.#notif;
    const args: bigint[] = [];
    for (let i = 0; i < 6; i++) {
      args.push(view.getBigUint64(seccompNotif.data_args + 8 * i, true));
    }
    const pathLen = this.#state[1].getInt32(brokerState.path_len, true);
    return {
      id: view.getBigUint64(seccompNotif.id, true),
      pid: view.getUint32(seccompNotif.pid, true),
      nr: view.getInt32(seccompNotif.data_nr, true),
      args,
      path: pathLen >= 0
        ? decoder.decode(this.#path.subarray(0, pathLen))
        : undefined,
    };
  }

  /** How many calls the C fast path continued. */
  get continued(): number {
    return Number(this.#state[1].getBigUint64(brokerState.continued, true));
  }

  /** Whether the task is still blocked in the notified call. */
  stillValid(id: bigint): boolean {
    this.#id[0] = id;
    return rawSyscall(NR.ioctl, this.fd, NOTIF_ID_VALID, this.#idAddr) === 0;
  }

  #send(id: bigint, val: bigint, error: number, flags: number): void {
    const [, view] = this.#resp;
    view.setBigUint64(seccompNotifResp.id, id, true);
    view.setBigInt64(seccompNotifResp.val, val, true);
    view.setInt32(seccompNotifResp.error, error, true);
    view.setUint32(seccompNotifResp.flags, flags, true);
    const send = () =>
      rawSyscall(NR.ioctl, this.fd, NOTIF_SEND, this.#respAddr);
    let r = send();
    while (r === -EINTR) r = send();
    // ENOENT: the task was killed or its call interrupted meanwhile.
    // EINPROGRESS: the kernel no longer waits for this answer (it was given,
    // or the call went back to be notified again, and will be answered then).
    if (r !== -ENOENT && r !== -EINPROGRESS) {
      unwrap(r, "answer a seccomp notification");
    }
  }

  /** Lets the kernel perform the call as the task made it. */
  continue(id: bigint): void {
    this.#send(id, 0n, 0, USER_NOTIF_FLAG_CONTINUE);
  }

  /** Makes the call fail with `errno`. */
  fail(id: bigint, errno: number): void {
    this.#send(id, 0n, -errno, 0);
  }

  /** Makes the call return `value`. */
  succeed(id: bigint, value = 0n): void {
    this.#send(id, value, 0, 0);
  }

  /**
   * Installs `fd` in the task, then answers the call with the task's fd
   * number. Returns that number, or -errno (the call is then unanswered).
   *
   * Not SECCOMP_ADDFD_FLAG_SEND, which would do both at once: the kernel
   * marks the notification answered before it waits for the task to take
   * the fd, so a signal that interrupts that wait leaves the call marked
   * answered and never answered (the task hangs, and the retry fails with
   * EINPROGRESS). Seen with brokers serving many sandboxes in the daemon.
   */
  sendFd(id: bigint, fd: number, cloexec: boolean): number {
    const [, view] = this.#addfd;
    view.setBigUint64(seccompNotifAddfd.id, id, true);
    view.setUint32(seccompNotifAddfd.flags, 0, true);
    view.setUint32(seccompNotifAddfd.srcfd, fd, true);
    view.setUint32(seccompNotifAddfd.newfd, 0, true);
    view.setUint32(
      seccompNotifAddfd.newfd_flags,
      cloexec ? O_CLOEXEC : 0,
      true,
    );
    const add = () =>
      rawSyscall(NR.ioctl, this.fd, NOTIF_ADDFD, this.#addfdAddr);
    let r = add();
    while (r === -EINTR) r = add();
    if (r >= 0) this.succeed(id, BigInt(r));
    return r;
  }

  /**
   * Runs `read` (a read of the task's memory) under the remote-read
   * watchdog: if it waits longer than {@link REMOTE_READ_DEADLINE_MS}
   * (a userfaultfd page), the sandbox is killed, which ends the read.
   */
  watched<T>(n: Notification, read: () => T): T {
    const lib = library();
    lib.ll_watch_begin(this.fd, n.id, this.pidfd, n.pid);
    try {
      return read();
    } finally {
      lib.ll_watch_end();
    }
  }
}

/**
 * How long a broker waits for one read of a sandbox's memory before the
 * watchdog kills that sandbox (ffi/watchdog.c). A read takes microseconds;
 * only a page the sandbox holds back with userfaultfd (or a swap-in slower
 * than this) waits longer.
 */
export const REMOTE_READ_DEADLINE_MS = 1000;

/**
 * Starts the remote-read watchdog (once per process) and gives the calling
 * thread a slot in it; returns the slot. Every thread that serves brokers
 * calls this first.
 */
export function watchRemoteReads(): number {
  const lib = library();
  unwrap(lib.ll_watchdog_start(REMOTE_READ_DEADLINE_MS), "start the watchdog");
  return unwrap(lib.ll_watch_thread(), "take a watchdog slot");
}

/** How many times the watchdog killed for reads of `slot`'s thread. */
export function watchdogKills(slot: number): number {
  return library().ll_watch_kills(slot);
}

/** How many listeners one {@link nextNotificationOfAny} call serves. */
export const BROKERS_PER_THREAD: number = limits.LL_BROKER_MAX;

/** How long (ms) `slot`'s thread has been in a remote read, or 0. */
export function watchBusyMs(slot: number): number {
  return Number(libraryBound().ll_watch_busy_ms(slot));
}

/**
 * Binds the library's symbols now, so the first run's broker does not pay
 * for it on its hot path.
 */
export function preloadBrokerSymbols(): void {
  libraryBound();
}

/**
 * Waits (blocking this thread) until one of several listeners has a
 * notification the C fast path did not answer, or `wake` is readable.
 * `states` and `notifs` hold each listener's broker-state and notification
 * buffer addresses; the ready listener's index lands in `which[0]`.
 * Returns 1 (a notification), 0 (that listener's sandbox is gone),
 * 2 (`wake` is readable) or -errno.
 */
export function nextNotificationOfAny(
  states: BigUint64Array<ArrayBuffer>,
  wake: number,
  notifs: BigUint64Array<ArrayBuffer>,
  which: Int32Array<ArrayBuffer>,
): number {
  return libraryBound().ll_broker_next_any(
    states,
    states.length,
    wake,
    notifs,
    which,
  );
}

/**
 * The largest struct read from a sandbox: open_how, mount_attr, or the
 * observer's sockaddr (at most a sockaddr_in6, 28 bytes).
 */
const remoteBuffer = new Uint8Array(Math.max(openHow.size, mountAttr.size, 28));
const remoteAddr = addressOf(remoteBuffer);
const iovs = struct(2 * iovec.size);
const iovsAddr = addressOf(iovs[0]);
const decoder = new TextDecoder();

/**
 * Reads `len` bytes (clamped to the largest struct read) at `addr` in `pid`
 * with process_vm_readv; returns a view of a shared buffer (valid until the
 * next read), or -errno.
 */
export function readRemote(
  pid: number,
  addr: bigint,
  length: number,
): Uint8Array | number {
  const len = Math.min(length, remoteBuffer.length);
  const [, view] = iovs;
  view.setBigUint64(iovec.iov_base, remoteAddr, true);
  view.setBigUint64(iovec.iov_len, BigInt(len), true);
  view.setBigUint64(iovec.size + iovec.iov_base, addr, true);
  view.setBigUint64(iovec.size + iovec.iov_len, BigInt(len), true);
  const r = rawSyscall(
    NR.process_vm_readv,
    pid,
    iovsAddr,
    1,
    iovsAddr + BigInt(iovec.size),
    1,
    0,
  );
  if (r < 0) return r;
  return remoteBuffer.subarray(0, r);
}

/** The broker thread's buffer for {@link readRemotePath}. */
const remotePath = new Uint8Array(limits.LL_BROKER_PATH_SIZE);

/**
 * Reads a NUL-terminated path at `addr` in `pid` (C's ll_read_remote_path,
 * the fast path's own reader); -errno on failure, -ENAMETOOLONG when it is
 * longer than PATH_MAX.
 */
export function readRemotePath(pid: number, addr: bigint): string | number {
  const n = library().ll_read_remote_path(
    pid,
    addr,
    remotePath,
    remotePath.length,
  );
  return n < 0 ? n : decoder.decode(remotePath.subarray(0, n));
}

/** Reads `count` u64 fields at `offsets` of a `size`-byte struct, or -errno. */
function readRemoteU64s(
  pid: number,
  addr: bigint,
  size: number,
  offsets: readonly number[],
): number[] | number {
  const r = readRemote(pid, addr, size);
  if (typeof r === "number") return r;
  if (r.length < size) return -EFAULT;
  const v = new DataView(r.buffer, r.byteOffset, size);
  return offsets.map((o) => Number(v.getBigUint64(o, true)));
}

/**
 * Reads a `struct open_how` of `size` bytes (as the caller of openat2 gave
 * it) from `pid`: [flags, mode, resolve], or -errno.
 */
export function readRemoteOpenHow(
  pid: number,
  addr: bigint,
  size: bigint,
): [number, number, number] | number {
  if (size < BigInt(openHow.size)) return -EINVAL;
  return readRemoteU64s(pid, addr, openHow.size, [
    openHow.flags,
    openHow.mode,
    openHow.resolve,
  ]) as [number, number, number] | number;
}

/**
 * Reads a `struct mount_attr` of `size` bytes from `pid`: [attr_set,
 * attr_clr, propagation, userns_fd], or -errno.
 */
export function readRemoteMountAttr(
  pid: number,
  addr: bigint,
  size: bigint,
): [number, number, number, number] | number {
  if (size < BigInt(mountAttr.size)) return -EINVAL;
  return readRemoteU64s(pid, addr, mountAttr.size, [
    mountAttr.attr_set,
    mountAttr.attr_clr,
    mountAttr.propagation,
    mountAttr.userns_fd,
  ]) as [number, number, number, number] | number;
}
