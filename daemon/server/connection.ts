/**
 * The daemon's side of one client connection. Everything is driven by the
 * reactor and never blocks: reads take what is there; replies that do not
 * fit in the socket wait in a bounded output buffer and are written when
 * the socket is writable again (EPOLLOUT), so a client that never reads
 * costs its own connection, not the reactor or the runtime's thread pool.
 * fds that arrive for a frame wait in a queue capped at
 * {@link LIMITS.queuedFds}. The clocks the daemon's deadlines read are
 * kept here (see daemon/deadlines.ts).
 *
 * @module
 */

import { errno, SyscallError } from "../../syscalls/errno.ts";
import { close } from "../../syscalls/sys.ts";
import { type Frame, FrameReader, LIMITS, ProtocolError } from "../protocol.ts";
import { EPOLLIN, EPOLLOUT, type Reactor } from "./reactor.ts";
import {
  MAX_FDS,
  recvNow,
  sendNow,
  shutdownSocket,
} from "../../syscalls/unix_socket.ts";

/**
 * Replies queued past this many bytes pause reading the connection's
 * requests until the peer has read them: a client that sends requests
 * and never reads cannot make the daemon build replies without end.
 */
export const PAUSE_READING_BYTES = 64 << 10;

// Reads happen one at a time on the JS thread, and FrameReader copies
// what it keeps: one receive buffer serves every connection.
const recvBuf = new Uint8Array(64 << 10);
const recvFds = new Int32Array(MAX_FDS);
const recvCount = new Int32Array(1);

/** One reply, or what is left of it, waiting to be written. */
interface Pending {
  bytes: Uint8Array<ArrayBuffer>;
  fds: readonly number[];
  written: () => void;
}

/** What the connection tells its owner. */
export interface ConnEvents {
  /** Requests may be read (or the peer has hung up). */
  readable(): void;
  /** The output buffer emptied. */
  drained(): void;
  /** A reply did not fit in {@link LIMITS.outbox}; nothing more is sent. */
  overflow(): void;
}

/** A client connection of the daemon. */
export class ClientConn {
  readonly #reader = new FrameReader();
  readonly #out: Pending[] = [];
  #queued = 0;
  #reading = true;
  #ending = false;
  #closed = false;
  #events = -1;
  #flushed: (() => void)[] = [];
  /** Received fds not yet taken, oldest first. */
  readonly fds: number[] = [];
  /** When the frame now arriving began (ms, performance.now()), or 0. */
  partialSince = 0;
  /** When a byte last arrived or a run of this connection ended. */
  lastActive = performance.now();
  /** When the output buffer last made progress (or began to wait). */
  lastWrite = performance.now();

  constructor(
    readonly fd: number,
    readonly reactor: Reactor,
    readonly on: ConnEvents,
  ) {
    reactor.add(fd, EPOLLIN, (events) => this.#ready(events));
    this.#events = EPOLLIN;
  }

  /** Bytes of replies waiting for the peer. */
  get queued(): number {
    return this.#queued;
  }

  /** True once {@link ClientConn.end} or {@link ClientConn.shutdown} ran. */
  get closed(): boolean {
    return this.#ending || this.#closed;
  }

  /** Bytes of a frame that has begun to arrive and is not complete. */
  get partial(): number {
    return this.#reader.pending;
  }

  #ready(events: number): void {
    if (this.#closed) return;
    if (events & EPOLLOUT) this.#drain();
    if (this.#closed || this.#ending) return;
    if (this.#reading || (events & ~(EPOLLIN | EPOLLOUT))) this.on.readable();
  }

  /** Watches for what is wanted now: requests, room to write, or neither. */
  #watch(): void {
    if (this.#closed) return;
    const want = (this.#reading && !this.#ending ? EPOLLIN : 0) |
      (this.#out.length ? EPOLLOUT : 0);
    if (want === this.#events) return;
    this.reactor.modify(this.fd, want);
    this.#events = want;
  }

  /** Stops or resumes reading requests (replies are still written). */
  reading(on: boolean): void {
    this.#reading = on;
    this.#watch();
  }

  /** Whether requests are being read. */
  get isReading(): boolean {
    return this.#reading;
  }

  /**
   * Reads what is there without blocking: the frames now complete, and
   * `eof` at end of stream. Throws ProtocolError when more fds wait than
   * {@link LIMITS.queuedFds}, and SyscallError when the read fails.
   */
  readNow(): { frames: Frame[]; eof: boolean } {
    const r = recvNow(this.fd, recvBuf, recvFds, recvCount);
    if (r === -errno.EAGAIN) return { frames: [], eof: false };
    for (let i = 0; i < recvCount[0]; i++) this.fds.push(recvFds[i]);
    if (r < 0) {
      if (this.closed) return { frames: [], eof: true };
      throw new SyscallError("recvmsg", -r);
    }
    if (this.fds.length > LIMITS.queuedFds) {
      this.dropFds();
      throw new ProtocolError(
        `more than ${LIMITS.queuedFds} file descriptors arrived for one frame`,
        "limit",
      );
    }
    if (r === 0) return { frames: [], eof: true };
    const now = performance.now();
    this.lastActive = now;
    const frames = this.#reader.push(recvBuf.subarray(0, r));
    if (this.#reader.pending === 0) this.partialSince = 0;
    else if (frames.length || this.partialSince === 0) this.partialSince = now;
    return { frames, eof: false };
  }

  /** Takes `n` queued fds, or none (closing nothing) when fewer arrived. */
  takeFds(n: number): number[] | undefined {
    if (this.fds.length < n) return undefined;
    return this.fds.splice(0, n);
  }

  /** Closes every fd received and not taken. */
  dropFds(): void {
    this.fds.splice(0).forEach(close);
  }

  /**
   * Sends one encoded frame with `fds` attached; resolves once it is
   * written, or dropped because the connection ended. Never throws and
   * never blocks: what does not fit waits for EPOLLOUT.
   */
  send(
    bytes: Uint8Array<ArrayBuffer>,
    fds: readonly number[] = [],
  ): Promise<void> {
    if (this.#closed) return Promise.resolve();
    let rest = bytes;
    let restFds = fds;
    if (!this.#out.length) {
      const n = this.#write(bytes, fds);
      if (n < 0) return Promise.resolve(); // the peer is gone
      if (n === bytes.length) return Promise.resolve();
      rest = bytes.subarray(n);
      if (n > 0) restFds = [];
      this.lastWrite = performance.now();
    }
    if (this.#queued + rest.length > LIMITS.outbox) {
      this.#fail();
      this.on.overflow();
      return Promise.resolve();
    }
    return new Promise((written) => {
      this.#out.push({ bytes: rest, fds: restFds, written });
      this.#queued += rest.length;
      this.#watch();
    });
  }

  /** Writes without blocking: bytes written, 0 when full, -1 when gone. */
  #write(bytes: Uint8Array<ArrayBuffer>, fds: readonly number[]): number {
    const n = sendNow(this.fd, bytes, fds);
    if (n === -errno.EAGAIN) return 0;
    return n < 0 ? -1 : n;
  }

  /** Writes what the socket takes now. */
  #drain(): void {
    while (this.#out.length) {
      const head = this.#out[0];
      const n = this.#write(head.bytes, head.fds);
      if (n < 0) return this.#fail();
      if (n === 0) break;
      this.lastWrite = performance.now();
      this.#queued -= n;
      if (n < head.bytes.length) {
        head.bytes = head.bytes.subarray(n);
        head.fds = [];
        break;
      }
      this.#out.shift();
      head.written();
    }
    this.#watch();
    if (!this.#out.length) this.#emptied();
  }

  /** Drops every queued reply (the peer is gone or over its limit). */
  #fail(): void {
    const dropped = this.#out.splice(0);
    this.#queued = 0;
    dropped.forEach((p) => p.written());
    this.#watch();
    this.#emptied();
  }

  #emptied(): void {
    this.#flushed.splice(0).forEach((f) => f());
    if (!this.#ending) this.on.drained();
  }

  /** Resolves when every queued reply has been written or dropped. */
  flush(): Promise<void> {
    if (!this.#out.length || this.#closed) return Promise.resolve();
    return new Promise((r) => this.#flushed.push(r));
  }

  /** Reads no more requests; queued replies are still written. */
  end(): void {
    this.#ending = true;
    this.#watch();
  }

  /** Ends the connection at once, dropping queued replies. */
  shutdown(): void {
    if (this.#closed) return;
    this.#fail();
    this.#closed = true;
    this.reactor.remove(this.fd);
    shutdownSocket(this.fd);
  }

  /** Closes the fd and any fds received but never taken. */
  release(): void {
    this.shutdown();
    this.dropFds();
    close(this.fd);
  }
}

/**
 * Sends one frame to a connection that is refused, without waiting (the
 * socket is new, so a short frame fits), and closes it.
 */
export function refuseConnection(fd: number, bytes: Uint8Array): void {
  sendNow(fd, bytes as Uint8Array<ArrayBuffer>);
  shutdownSocket(fd);
  close(fd);
}
