/**
 * Unix stream sockets through landlockd's C library: what Deno's own Unix
 * sockets cannot do (pass fds, read peer credentials). Results are raw
 * (-errno) where a caller tells EAGAIN from failure; the rest throw a
 * {@link SyscallError}.
 *
 * @module
 */

import {
  addressOf,
  cstring,
  library,
  libraryBound,
  limits,
  NR,
} from "../ffi/mod.ts";
import { errno, SyscallError } from "./errno.ts";
import { rawSyscall, unwrap } from "./sys.ts";

/** recv/send flag: do not block. */
export const MSG_DONTWAIT = 0x40;
const SHUT_RDWR = 2;
/** How many fds one send or receive passes at most. */
export const MAX_FDS: number = limits.LL_SOCK_MAX_FDS;

/** Listens on a Unix socket at `path` (which must not exist). */
export function listenUnix(path: string, backlog = 1024): number {
  return unwrap(
    libraryBound().ll_sock_listen(cstring(path), backlog),
    "listen on",
    path,
  );
}

/** Connects to the Unix socket at `path`. */
export function connectUnix(path: string): number {
  return unwrap(
    library().ll_sock_connect(cstring(path)),
    "connect to",
    path,
  );
}

/** As {@link connectUnix}, off the JS thread. */
export async function connectUnixOffThread(path: string): Promise<number> {
  return unwrap(
    await library().ll_sock_connect_async(cstring(path)),
    "connect to",
    path,
  );
}

/** Closes `fd` off the JS thread, ignoring errors (the fd is gone either way). */
export async function closeOffThread(fd: number): Promise<void> {
  await library().ll_syscall_async(
    BigInt(NR.close),
    BigInt(fd),
    0n,
    0n,
    0n,
    0n,
    0n,
  );
}

/** Accepts one waiting connection from a non-blocking socket, or -1. */
export function acceptNow(fd: number): number {
  const r = libraryBound().ll_sock_accept(fd);
  if (r === -errno.EAGAIN) return -1;
  return unwrap(r, "accept");
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
  const n = libraryBound().ll_sock_peer(fd, cred, groups, groups.length);
  if (n < 0 && cred[0] === 0) throw new SyscallError("SO_PEERCRED", -n);
  return {
    pid: cred[0],
    uid: cred[1] >>> 0,
    gid: cred[2] >>> 0,
    groups: n > 0 ? [...groups.subarray(0, n)] : [],
  };
}

/**
 * Receives into `buf` and up to `fds.length` fds (their count lands in
 * `nfds[0]`) without blocking; the raw result: bytes, 0 at end, -errno.
 */
export function recvNow(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  fds: Int32Array<ArrayBuffer>,
  nfds: Int32Array<ArrayBuffer>,
): number {
  return Number(
    library().ll_sock_recv_now(
      fd,
      buf,
      BigInt(buf.length),
      fds,
      nfds,
      MSG_DONTWAIT,
    ),
  );
}

/** As {@link recvNow}, but waits for data off the JS thread. */
export async function recv(
  fd: number,
  buf: Uint8Array<ArrayBuffer>,
  fds: Int32Array<ArrayBuffer>,
  nfds: Int32Array<ArrayBuffer>,
): Promise<number> {
  return Number(
    await library().ll_sock_recv(fd, buf, BigInt(buf.length), fds, nfds, 0),
  );
}

const noFds = new Int32Array(1);

/**
 * Sends `bytes` with `fds` attached without blocking; the raw result:
 * bytes written or -errno (-EAGAIN when the socket is full).
 */
export function sendNow(
  fd: number,
  bytes: Uint8Array<ArrayBuffer>,
  fds: readonly number[] = [],
): number {
  return Number(
    library().ll_sock_send(
      fd,
      bytes,
      BigInt(bytes.length),
      fds.length ? Int32Array.from(fds) : noFds,
      fds.length,
      MSG_DONTWAIT,
    ),
  );
}

/** As {@link sendNow}, but waits for room off the JS thread. */
export async function send(
  fd: number,
  bytes: Uint8Array<ArrayBuffer>,
  fds: readonly number[] = [],
): Promise<number> {
  return Number(
    await library().ll_sock_send_async(
      fd,
      bytes,
      BigInt(bytes.length),
      fds.length ? Int32Array.from(fds) : noFds,
      fds.length,
      0,
    ),
  );
}

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_ACCEPTCONN = 30;
const SO_DOMAIN = 39;
const SOCK_STREAM = 1;
const AF_UNIX = 1;

function sockopt(fd: number, name: number): number {
  const value = new Int32Array(1);
  const len = new Uint32Array([4]);
  const r = rawSyscall(
    NR.getsockopt,
    fd,
    SOL_SOCKET,
    name,
    addressOf(value),
    addressOf(len),
  );
  return r < 0 ? -1 : value[0];
}

const SO_PROTOCOL = 38;

/**
 * A socket's domain, type and protocol (getsockopt SO_DOMAIN, SO_TYPE,
 * SO_PROTOCOL), or undefined when `fd` is not a socket.
 */
export function socketKind(
  fd: number,
): { domain: number; type: number; protocol: number } | undefined {
  const domain = sockopt(fd, SO_DOMAIN);
  if (domain < 0) return undefined;
  return {
    domain,
    type: sockopt(fd, SO_TYPE),
    protocol: sockopt(fd, SO_PROTOCOL),
  };
}

/** Whether `fd` is a listening Unix stream socket. */
export function isListeningUnixStream(fd: number): boolean {
  return sockopt(fd, SO_DOMAIN) === AF_UNIX &&
    sockopt(fd, SO_TYPE) === SOCK_STREAM &&
    sockopt(fd, SO_ACCEPTCONN) === 1;
}
