/**
 * Unix stream sockets through landlockd's C library: what Deno's own Unix
 * sockets cannot do (pass fds, read peer credentials). The daemon reads
 * when its reactor says a socket is ready; the command-line client blocks
 * off the JS thread. Sends are tried without blocking first.
 *
 * @module
 */

import { coreLibrary, cstring, daemonLibrary, NR } from "../ffi/mod.ts";
import { SyscallError } from "../syscalls/errno.ts";
import { close, rawSyscall } from "../syscalls/sys.ts";
import { type Frame, FrameReader } from "./protocol.ts";

const MSG_DONTWAIT = 0x40;
const EAGAIN = 11;
const SHUT_RDWR = 2;
/** Matches LL_SOCK_MAX_FDS in ffi/landlockd.h. */
export const MAX_FDS = 8;

function check(r: number | bigint, what: string, subject?: string): number {
  const n = Number(r);
  if (n < 0) throw new SyscallError(what, -n, subject);
  return n;
}

/** Listens on a Unix socket at `path` (which must not exist). */
export function listenUnix(path: string, backlog = 1024): number {
  return check(
    daemonLibrary().ll_sock_listen(cstring(path), backlog),
    "listen on",
    path,
  );
}

/** Connects to the Unix socket at `path`. */
export function connectUnix(path: string): number {
  return check(
    coreLibrary().ll_sock_connect(cstring(path)),
    "connect to",
    path,
  );
}

const F_GETFL = 3;
const F_SETFL = 4;
const O_NONBLOCK = 0o4000;

/** Makes reads (and accepts) on `fd` return EAGAIN instead of blocking. */
export function setNonBlocking(fd: number): void {
  const flags = check(rawSyscall(NR.fcntl, fd, F_GETFL), "fcntl(F_GETFL)");
  check(
    rawSyscall(NR.fcntl, fd, F_SETFL, flags | O_NONBLOCK),
    "fcntl(F_SETFL)",
  );
}

/** Accepts one waiting connection from a non-blocking socket, or -1. */
export function acceptNow(fd: number): number {
  const r = daemonLibrary().ll_sock_accept(fd);
  if (r === -EAGAIN) return -1;
  return check(r, "accept");
}

/** Wakes anything blocked on `fd` (accept, recv) without closing it. */
export function shutdownSocket(fd: number): void {
  rawSyscall(NR.shutdown, fd, SHUT_RDWR);
}

/** Who is on the other end (SO_PEERCRED and SO_PEERGROUPS). */
export interface Peer {
  pid: number;
  uid: number;
  gid: number;
  groups: number[];
}

/** Reads the peer's credentials, as the kernel recorded them at connect. */
export function peerOf(fd: number): Peer {
  const cred = new Int32Array(3);
  const groups = new Uint32Array(256);
  const n = daemonLibrary().ll_sock_peer(fd, cred, groups, groups.length);
  if (n < 0 && cred[0] === 0) throw new SyscallError("SO_PEERCRED", -n);
  return {
    pid: cred[0],
    uid: cred[1] >>> 0,
    gid: cred[2] >>> 0,
    groups: n > 0 ? [...groups.subarray(0, n)] : [],
  };
}

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
    const r = Number(
      await coreLibrary().ll_sock_recv(
        this.fd,
        this.#buf,
        BigInt(this.#buf.length),
        this.#fdBuf,
        this.#nfds,
        0,
      ),
    );
    return this.#received(r);
  }

  /** Reads what is there without blocking; no frames and no eof if nothing. */
  readNow(): { frames: Frame[]; eof: boolean } {
    const r = Number(
      coreLibrary().ll_sock_recv_now(
        this.fd,
        this.#buf,
        BigInt(this.#buf.length),
        this.#fdBuf,
        this.#nfds,
        MSG_DONTWAIT,
      ),
    );
    if (r === -EAGAIN) return { frames: [], eof: false };
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
    const fdArr = Int32Array.from(fds.length ? fds : [0]);
    if (!this.#sending) {
      const n = Number(
        coreLibrary().ll_sock_send(
          this.fd,
          bytes,
          BigInt(bytes.length),
          fdArr,
          fds.length,
          MSG_DONTWAIT,
        ),
      );
      if (n === bytes.length) return Promise.resolve();
      if (n < 0 && -n !== EAGAIN) return Promise.resolve(); // peer gone
      const rest = n > 0 ? bytes.subarray(n) : bytes;
      return this.#queue(rest, n > 0 ? [] : fds);
    }
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
      const fdArr = Int32Array.from(withFds.length ? withFds : [0]);
      const n = Number(
        await coreLibrary().ll_sock_send_async(
          this.fd,
          chunk,
          BigInt(chunk.length),
          fdArr,
          withFds.length,
          0,
        ),
      );
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
    this.fds.splice(0).forEach(close);
    close(this.fd);
  }
}
