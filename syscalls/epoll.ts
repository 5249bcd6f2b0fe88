/**
 * epoll sets and eventfd counters, the daemon's readiness primitives.
 *
 * @module
 */

import { libraryBound, NR } from "../ffi/mod.ts";
import { O_CLOEXEC, O_NONBLOCK } from "./constants.ts";
import { rawSyscall, unwrap } from "./sys.ts";

/** `EPOLLIN`: readable (or at end of file, or hung up). */
export const EPOLLIN = 0x1;
/** `EPOLLOUT`: writable. */
export const EPOLLOUT = 0x4;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;

/** eventfd flags. */
export const EFD_CLOEXEC = O_CLOEXEC;
export const EFD_NONBLOCK = O_NONBLOCK;
export const EFD_SEMAPHORE = 1;

/** A new close-on-exec epoll set. */
export function epollCreate(): number {
  return unwrap(rawSyscall(NR.epoll_create1, O_CLOEXEC), "epoll_create1");
}

/** Watches `fd` in `epfd` for `events`. */
export function epollAdd(epfd: number, fd: number, events: number): void {
  const r = libraryBound().ll_poll_ctl(epfd, EPOLL_CTL_ADD, fd, events);
  unwrap(r, "epoll_ctl(ADD)", String(fd));
}

/** Changes what `fd` is watched for in `epfd`. */
export function epollModify(epfd: number, fd: number, events: number): void {
  const r = libraryBound().ll_poll_ctl(epfd, EPOLL_CTL_MOD, fd, events);
  unwrap(r, "epoll_ctl(MOD)", String(fd));
}

/** Stops watching `fd` in `epfd`, ignoring errors. */
export function epollRemove(epfd: number, fd: number): void {
  libraryBound().ll_poll_ctl(epfd, EPOLL_CTL_DEL, fd, 0);
}

/**
 * Takes up to `max` ready events without blocking into `out` as (fd,
 * events) pairs; the count, or -errno.
 */
export function epollNow(
  epfd: number,
  out: Uint32Array<ArrayBuffer>,
  max: number,
): number {
  return libraryBound().ll_poll_now(epfd, out, max, 0);
}

/**
 * As {@link epollNow}, but waits on this thread up to `timeoutMs` for one
 * to be ready (everything else on the thread waits too).
 */
export function epollWaitHere(
  epfd: number,
  out: Uint32Array<ArrayBuffer>,
  max: number,
  timeoutMs: number,
): number {
  return libraryBound().ll_poll_now(epfd, out, max, timeoutMs);
}

/** As {@link epollNow}, but waits off the JS thread until one is ready. */
export function epollWait(
  epfd: number,
  out: Uint32Array<ArrayBuffer>,
  max: number,
): Promise<number> {
  return libraryBound().ll_poll_wait(epfd, out, max, -1);
}

/** A new eventfd with `flags`; throws on failure. */
export function eventfd(flags: number = EFD_CLOEXEC): number {
  return unwrap(eventfdRaw(flags), "eventfd");
}

/** A new eventfd with `flags`, or -errno. */
export function eventfdRaw(flags: number = EFD_CLOEXEC): number {
  return rawSyscall(NR.eventfd2, 0, flags);
}

const one = new BigUint64Array([1n]);

/** Adds 1 to the eventfd `fd` (waking a waiter); errors are ignored. */
export function eventfdSignal(fd: number): void {
  rawSyscall(
    NR.write,
    fd,
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(one))),
    8,
  );
}
