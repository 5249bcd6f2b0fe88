/**
 * Socket calls the broker makes on its copy of a sandboxed task's socket
 * (fetched with pidfd_getfd): what kind of socket it is, `connect`, and
 * `sendmmsg` from buffers the broker copied. Also writing a task's memory
 * back (`msg_len` of a brokered `sendmmsg`).
 *
 * @module
 */

import { addressOf, iovec, mmsghdr, msghdr, NR, struct } from "../ffi/mod.ts";
import { rawSyscall } from "./sys.ts";

const SOL_SOCKET = 1;
const SO_TYPE = 3;
const SO_PROTOCOL = 38;
const SO_DOMAIN = 39;

/** A socket's family, type and protocol, as `getsockopt` reports them. */
export interface SocketKind {
  domain: number;
  type: number;
  protocol: number;
}

const optval = new Int32Array(1);
const optlen = new Uint32Array(1);

function intOption(fd: number, name: number): number | undefined {
  optlen[0] = 4;
  const r = rawSyscall(
    NR.getsockopt,
    fd,
    SOL_SOCKET,
    name,
    addressOf(optval),
    addressOf(optlen),
  );
  return r < 0 ? undefined : optval[0];
}

/** The kind of socket `fd` is, or undefined when it is not a socket. */
export function socketKind(fd: number): SocketKind | undefined {
  const domain = intOption(fd, SO_DOMAIN);
  const type = intOption(fd, SO_TYPE);
  const protocol = intOption(fd, SO_PROTOCOL);
  if (domain === undefined || type === undefined || protocol === undefined) {
    return undefined;
  }
  return { domain, type, protocol };
}

/** `connect(fd, addr)`: 0 or -errno. */
export function connectRaw(fd: number, addr: Uint8Array<ArrayBuffer>): number {
  return rawSyscall(NR.connect, fd, addressOf(addr), addr.length);
}

/** One datagram for {@link sendmmsgRaw}: all of it already in our memory. */
export interface Datagram {
  /** The destination, or undefined for a connected socket's peer. */
  name?: Uint8Array<ArrayBuffer>;
  data: Uint8Array<ArrayBuffer>;
  control?: Uint8Array<ArrayBuffer>;
}

/**
 * `sendmmsg(fd, ...)` of `datagrams` with `flags`: the count sent and the
 * bytes of each, or -errno.
 */
export function sendmmsgRaw(
  fd: number,
  datagrams: readonly Datagram[],
  flags: number,
): { sent: number; lengths: number[] } | number {
  const [vec, view] = struct(mmsghdr.size * datagrams.length);
  const [iovs, iovView] = struct(iovec.size * datagrams.length);
  datagrams.forEach((d, i) => {
    const h = i * mmsghdr.size + mmsghdr.msg_hdr;
    const io = i * iovec.size;
    iovView.setBigUint64(io + iovec.iov_base, addressOf(d.data), true);
    iovView.setBigUint64(io + iovec.iov_len, BigInt(d.data.length), true);
    if (d.name) {
      view.setBigUint64(h + msghdr.msg_name, addressOf(d.name), true);
      view.setUint32(h + msghdr.msg_namelen, d.name.length, true);
    }
    view.setBigUint64(
      h + msghdr.msg_iov,
      addressOf(iovs) + BigInt(io),
      true,
    );
    view.setBigUint64(h + msghdr.msg_iovlen, 1n, true);
    if (d.control?.length) {
      view.setBigUint64(h + msghdr.msg_control, addressOf(d.control), true);
      view.setBigUint64(
        h + msghdr.msg_controllen,
        BigInt(d.control.length),
        true,
      );
    }
  });
  const r = rawSyscall(
    NR.sendmmsg,
    fd,
    addressOf(vec),
    datagrams.length,
    flags,
  );
  if (r < 0) return r;
  const lengths = datagrams.slice(0, r).map((_, i) =>
    view.getUint32(i * mmsghdr.size + mmsghdr.msg_len, true)
  );
  return { sent: r, lengths };
}

/** Writes `bytes` at `addr` in `pid` (process_vm_writev): bytes or -errno. */
export function writeRemote(
  pid: number,
  addr: bigint,
  bytes: Uint8Array<ArrayBuffer>,
): number {
  const [iovs, view] = struct(2 * iovec.size);
  view.setBigUint64(iovec.iov_base, addressOf(bytes), true);
  view.setBigUint64(iovec.iov_len, BigInt(bytes.length), true);
  view.setBigUint64(iovec.size + iovec.iov_base, addr, true);
  view.setBigUint64(iovec.size + iovec.iov_len, BigInt(bytes.length), true);
  const base = addressOf(iovs);
  return rawSyscall(
    NR.process_vm_writev,
    pid,
    base,
    1,
    base + BigInt(iovec.size),
    1,
    0,
  );
}

/** pidfd_open: a pidfd for any thread, not only a leader (Linux 6.9+). */
const PIDFD_THREAD = 0o200;

/**
 * A copy of fd `fd` of the task `tid` (a thread id, as a notification
 * carries), or -errno. The caller closes it.
 */
export function fetchTaskFd(tid: number, fd: number): number {
  let pidfd = rawSyscall(NR.pidfd_open, tid, PIDFD_THREAD);
  if (pidfd < 0) pidfd = rawSyscall(NR.pidfd_open, tid, 0);
  if (pidfd < 0) return pidfd;
  const theirs = rawSyscall(NR.pidfd_getfd, pidfd, fd, 0);
  rawSyscall(NR.close, pidfd);
  return theirs;
}

/** A `struct msghdr` read from a task: its pointers and lengths. */
export interface RemoteMsghdr {
  name: bigint;
  namelen: number;
  iov: bigint;
  iovlen: number;
  control: bigint;
  controllen: number;
}

/** Sizes the broker needs to walk a task's messages. */
export const MSGHDR_SIZE = msghdr.size;
export const MMSGHDR_SIZE = mmsghdr.size;
/** Offset of `msg_len` in a `struct mmsghdr`. */
export const MMSGHDR_MSG_LEN = mmsghdr.msg_len;
export const IOVEC_SIZE = iovec.size;

const view = (b: Uint8Array) => new DataView(b.buffer, b.byteOffset, b.length);

/** Decodes the {@link MSGHDR_SIZE} bytes of a `struct msghdr`. */
export function decodeMsghdr(bytes: Uint8Array): RemoteMsghdr {
  const v = view(bytes);
  return {
    name: v.getBigUint64(msghdr.msg_name, true),
    namelen: v.getUint32(msghdr.msg_namelen, true),
    iov: v.getBigUint64(msghdr.msg_iov, true),
    iovlen: Number(v.getBigUint64(msghdr.msg_iovlen, true)),
    control: v.getBigUint64(msghdr.msg_control, true),
    controllen: Number(v.getBigUint64(msghdr.msg_controllen, true)),
  };
}

/** Decodes `count` `struct iovec`s: (base, length) pairs. */
export function decodeIovecs(
  bytes: Uint8Array,
  count: number,
): [base: bigint, len: bigint][] {
  const v = view(bytes);
  return Array.from({ length: count }, (_, i) => [
    v.getBigUint64(i * iovec.size + iovec.iov_base, true),
    v.getBigUint64(i * iovec.size + iovec.iov_len, true),
  ]);
}
