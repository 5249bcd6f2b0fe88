/**
 * A connected Unix socket carrying protocol frames, for the command-line
 * client. Every socket call runs off the JS thread (reads and sends block
 * there): the client binds no C function called on the JS thread, whose
 * first one costs about half a millisecond more to bind than the others.
 * The socket calls themselves are in syscalls/unix_socket.ts.
 *
 * @module
 */

import { SyscallError } from "../syscalls/errno.ts";
import {
  closeOffThread,
  MAX_FDS,
  recv,
  send,
  shutdownSocket,
} from "../syscalls/unix_socket.ts";
import { type Frame, FrameReader } from "../daemon/protocol.ts";

/**
 * One connected socket carrying frames. Frames are read in order; fds that
 * arrive with them queue in {@link Conn.fds} for the caller to take.
 * Sends keep their order even when one has to wait for a slow peer.
 */
export class Conn {
  readonly #reader = new FrameReader();
  readonly #buf = new Uint8Array(64 << 10);
  readonly #fdBuf = new Int32Array(MAX_FDS);
  readonly #nfds = new Int32Array(1);
  /** Received fds not yet taken, oldest first. */
  readonly fds: number[] = [];
  #sending: Promise<void> | undefined;
  #closed = false;

  constructor(readonly fd: number) {}

  /** Waits for the next bytes (off the JS thread); `eof` at end of stream. */
  async read(): Promise<{ frames: Frame[]; eof: boolean }> {
    const r = await recv(this.fd, this.#buf, this.#fdBuf, this.#nfds);
    return this.#received(r);
  }

  #received(r: number): { frames: Frame[]; eof: boolean } {
    if (r < 0) {
      if (this.#closed) return { frames: [], eof: true };
      throw new SyscallError("recvmsg", -r);
    }
    for (let i = 0; i < this.#nfds[0]; i++) this.fds.push(this.#fdBuf[i]);
    if (r === 0) return { frames: [], eof: true };
    return { frames: this.#reader.push(this.#buf.subarray(0, r)), eof: false };
  }

  /** Takes `n` queued fds, or none (closing nothing) when fewer arrived. */
  takeFds(n: number): number[] | undefined {
    if (this.fds.length < n) return undefined;
    return this.fds.splice(0, n);
  }

  /** Sends one encoded frame with `fds` attached. Never throws. */
  send(
    bytes: Uint8Array<ArrayBuffer>,
    fds: readonly number[] = [],
  ): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return this.#queue(bytes, fds);
  }

  #queue(
    bytes: Uint8Array<ArrayBuffer>,
    fds: readonly number[],
  ): Promise<void> {
    const previous = this.#sending ?? Promise.resolve();
    const next = previous.then(() => this.#sendBlocking(bytes, fds));
    this.#sending = next;
    next.then(() => {
      if (this.#sending === next) this.#sending = undefined;
    });
    return next;
  }

  async #sendBlocking(bytes: Uint8Array<ArrayBuffer>, fds: readonly number[]) {
    let at = 0;
    let withFds = fds;
    while (at < bytes.length && !this.#closed) {
      const chunk = bytes.subarray(at);
      const n = await send(this.fd, chunk, withFds);
      if (n <= 0) return; // the peer is gone; the reader will see it
      at += n;
      withFds = [];
    }
  }

  /** True once {@link Conn.shutdown} or {@link Conn.release} ran. */
  get closed(): boolean {
    return this.#closed;
  }

  /** Waits until every queued send has been written. */
  async flush(): Promise<void> {
    while (this.#sending) await this.#sending;
  }

  /** Ends the connection: wakes a blocked read; the fd closes with `release`. */
  shutdown(): void {
    if (this.#closed) return;
    this.#closed = true;
    shutdownSocket(this.fd);
  }

  /** Closes the fd and any fds received but never taken. */
  release(): void {
    this.#closed = true;
    this.fds.splice(0).forEach((fd) => void closeOffThread(fd));
    void closeOffThread(this.fd);
  }
}
