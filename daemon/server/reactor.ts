/**
 * One epoll set for the whole daemon: connections, sandboxes' pidfds and
 * captured pipes. A single off-thread wait returns a batch of ready fds,
 * which are then handled with non-blocking calls on the JS thread, so many
 * runs cost one thread hop per batch instead of one blocked thread each.
 *
 * The off-thread wait costs two wake-ups per batch (the waiting thread's,
 * then the JS thread's). When the owner says the JS thread has nothing
 * else to do (`idle`: every promise it has is waiting on these fds), the
 * reactor first waits on the JS thread itself, for up to
 * {@link BRIEF_WAIT_MS}: a lone run's exit and its client's next request
 * then each wake the JS thread directly. At least every
 * {@link EVENT_LOOP_TURN_MS} the wait goes off the thread all the same.
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
  epollWaitHere,
  eventfd,
  eventfdSignal,
} from "../../syscalls/epoll.ts";
import { close } from "../../syscalls/sys.ts";

export { EPOLLIN, EPOLLOUT } from "../../syscalls/epoll.ts";

/** Called with the ready events of its fd. */
export type Handler = (events: number) => void;

/**
 * How long the JS thread waits on the epoll set itself before handing the
 * wait to another thread. Timers, signals and Worker messages wait this
 * long at most; the owner's `idle` is false whenever one of its runs
 * needs them (a broker, an egress proxy, a queued spawn).
 */
export const BRIEF_WAIT_MS = 2;

/** Microtask turns given to settled promises before a wait on the JS thread. */
const SETTLE_TURNS = 32;

/**
 * The longest the JS thread goes without one off-thread wait, which is
 * what gives timers, signal listeners and Worker messages their turn: a
 * client running commands back to back would otherwise keep every wait
 * on the JS thread.
 */
export const EVENT_LOOP_TURN_MS = 10;

/** An epoll set and the handlers of its fds. */
export class Reactor {
  readonly #epfd = epollCreate();
  readonly #wake = eventfd();
  readonly #handlers = new Map<number, Handler>();
  readonly #out = new Uint32Array(128);
  #stopped = false;
  /** When the last off-thread wait ended (performance.now()). */
  #turnAt = performance.now();

  /**
   * `idle`: whether everything the JS thread has left to do waits on this
   * set's fds (default: never, so every wait is off the thread).
   */
  constructor(readonly idle: () => boolean = () => false) {
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
        n = performance.now() - this.#turnAt < EVENT_LOOP_TURN_MS &&
            await this.#settled()
          ? epollWaitHere(this.#epfd, this.#out, 64, BRIEF_WAIT_MS)
          : 0;
        if (n === 0) {
          n = await epollWait(this.#epfd, this.#out, 64);
          this.#turnAt = performance.now();
        }
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

  /**
   * Lets the promises the last batch settled run (a run sending its exit
   * reply) until the owner is idle; false if it is not by then.
   */
  async #settled(): Promise<boolean> {
    for (let i = 0; i < SETTLE_TURNS; i++) {
      if (this.#stopped) return false;
      if (this.idle()) return true;
      await Promise.resolve();
    }
    return false;
  }

  /** Ends {@link Reactor.run} after the current batch. */
  stop(): void {
    this.#stopped = true;
    eventfdSignal(this.#wake);
  }
}
