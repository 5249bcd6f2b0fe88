/**
 * One epoll set for the whole daemon: connections, sandboxes' pidfds and
 * captured pipes. A single off-thread wait returns a batch of ready fds,
 * which are then handled with non-blocking calls on the JS thread, so many
 * runs cost one thread hop per batch instead of one blocked thread each.
 *
 * Handlers must tolerate a spurious call (an fd number reused between the
 * wait and its handling): they only make calls that cannot block.
 *
 * @module
 */

import { daemonLibrary, NR } from "../ffi/mod.ts";
import { close, rawSyscall, unwrap } from "../syscalls/sys.ts";
import { O_CLOEXEC } from "../syscalls/constants.ts";

/** `EPOLLIN`: readable (or at end of file, or hung up). */
export const EPOLLIN = 0x1;
/** `EPOLLOUT`: writable. */
export const EPOLLOUT = 0x4;
const EPOLL_CTL_ADD = 1;
const EPOLL_CTL_DEL = 2;
const EPOLL_CTL_MOD = 3;
const EFD_CLOEXEC = O_CLOEXEC;
const NR_EVENTFD2 = NR.eventfd2;

/** Called with the ready events of its fd. */
export type Handler = (events: number) => void;

/** An epoll set and the handlers of its fds. */
export class Reactor {
  readonly #epfd = unwrap(
    rawSyscall(NR.epoll_create1, O_CLOEXEC),
    "epoll_create1",
  );
  readonly #wake = unwrap(rawSyscall(NR_EVENTFD2, 0, EFD_CLOEXEC), "eventfd");
  readonly #handlers = new Map<number, Handler>();
  readonly #out = new Uint32Array(128);
  #stopped = false;

  constructor() {
    this.add(this.#wake, EPOLLIN, () => {});
  }

  /** Watches `fd`; `handler` runs whenever it is ready. */
  add(fd: number, events: number, handler: Handler): void {
    const r = daemonLibrary().ll_poll_ctl(
      this.#epfd,
      EPOLL_CTL_ADD,
      fd,
      events,
    );
    unwrap(r, "epoll_ctl(ADD)", String(fd));
    this.#handlers.set(fd, handler);
  }

  /** Changes what `fd` is watched for (hang-ups and errors always are). */
  modify(fd: number, events: number): void {
    if (!this.#handlers.has(fd)) return;
    const r = daemonLibrary().ll_poll_ctl(
      this.#epfd,
      EPOLL_CTL_MOD,
      fd,
      events,
    );
    unwrap(r, "epoll_ctl(MOD)", String(fd));
  }

  /** Stops watching `fd`; call before closing it. */
  remove(fd: number): void {
    if (!this.#handlers.delete(fd)) return;
    daemonLibrary().ll_poll_ctl(this.#epfd, EPOLL_CTL_DEL, fd, 0);
  }

  /**
   * Dispatches events until {@link Reactor.stop}. After a batch, what is
   * already ready is taken without leaving the thread (a few times in a
   * row at most, so timers and Worker messages still get their turn).
   */
  async run(): Promise<void> {
    let inline = 0;
    while (!this.#stopped) {
      let n = inline < 8
        ? daemonLibrary().ll_poll_now(this.#epfd, this.#out, 64, 0)
        : 0;
      if (n > 0) {
        inline++;
        // Let the promises the last batch settled run first.
        await Promise.resolve();
      } else {
        inline = 0;
        n = await daemonLibrary().ll_poll_wait(this.#epfd, this.#out, 64, -1);
      }
      if (n < 0) throw new Error(`epoll_wait failed: errno ${-n}`);
      for (let i = 0; i < n; i++) {
        const fd = this.#out[2 * i];
        if (fd === this.#wake) continue;
        this.#handlers.get(fd)?.(this.#out[2 * i + 1]);
      }
    }
    close(this.#wake);
    close(this.#epfd);
  }

  /** Ends {@link Reactor.run} after the current batch. */
  stop(): void {
    this.#stopped = true;
    const one = new BigUint64Array([1n]);
    rawSyscall(
      NR.write,
      this.#wake,
      BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(one))),
      8,
    );
  }
}
