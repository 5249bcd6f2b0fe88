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

import {
  epollAdd,
  epollCreate,
  EPOLLIN,
  epollModify,
  epollNow,
  epollRemove,
  epollWait,
  eventfd,
  eventfdSignal,
} from "../../syscalls/epoll.ts";
import { close } from "../../syscalls/sys.ts";

export { EPOLLIN, EPOLLOUT } from "../../syscalls/epoll.ts";

/** Called with the ready events of its fd. */
export type Handler = (events: number) => void;

/** An epoll set and the handlers of its fds. */
export class Reactor {
  readonly #epfd = epollCreate();
  readonly #wake = eventfd();
  readonly #handlers = new Map<number, Handler>();
  readonly #out = new Uint32Array(128);
  #stopped = false;

  constructor() {
    this.add(this.#wake, EPOLLIN, () => {});
  }

  /** Watches `fd`; `handler` runs whenever it is ready. */
  add(fd: number, events: number, handler: Handler): void {
    epollAdd(this.#epfd, fd, events);
    this.#handlers.set(fd, handler);
  }

  /** Changes what `fd` is watched for (hang-ups and errors always are). */
  modify(fd: number, events: number): void {
    if (!this.#handlers.has(fd)) return;
    epollModify(this.#epfd, fd, events);
  }

  /** Stops watching `fd`; call before closing it. */
  remove(fd: number): void {
    if (!this.#handlers.delete(fd)) return;
    epollRemove(this.#epfd, fd);
  }

  /**
   * Dispatches events until {@link Reactor.stop}. After a batch, what is
   * already ready is taken without leaving the thread (a few times in a
   * row at most, so timers and Worker messages still get their turn).
   */
  async run(): Promise<void> {
    let inline = 0;
    while (!this.#stopped) {
      let n = inline < 8 ? epollNow(this.#epfd, this.#out, 64) : 0;
      if (n > 0) {
        inline++;
        // Let the promises the last batch settled run first.
        await Promise.resolve();
      } else {
        inline = 0;
        n = await epollWait(this.#epfd, this.#out, 64);
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
    eventfdSignal(this.#wake);
  }
}
