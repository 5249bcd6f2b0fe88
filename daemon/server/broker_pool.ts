/**
 * The daemon's broker threads. Every run that declares a broker gets a
 * broker of its own (its listener, state and decisions), served by one of
 * a few Worker threads; each thread serves many runs with one poll, so 64
 * runs need not pay for 64 threads (creating a Worker blocks the daemon's
 * JS thread for about 30 ms).
 *
 * @module
 */

import { BrokerError } from "../../broker/errors.ts";
import type { BrokerPlan } from "../../broker/plan.ts";
import type { BrokerFds, Observing } from "../../sandbox/run.ts";
import type { AccessLog } from "../../observe/access.ts";
import type { Arch } from "../../seccomp/filter.ts";
import { eventfdSignal } from "../../syscalls/epoll.ts";
import {
  BROKERS_PER_THREAD,
  watchBusyMs,
} from "../../syscalls/seccomp_notify.ts";

/** What a broker thread needs; every fd stays open until it answers. */
export interface BrokerJob {
  key: number;
  /** The run's broker; absent for a run that is only observed. */
  broker?: BrokerPlan;
  /** Observe the run (`run --explain`): the log comes back when it ends. */
  observe?: Observing;
  arch: Arch;
  fds: BrokerFds;
  /** Audit destinations (raw fds the daemon keeps open meanwhile). */
  auditFds: number[];
  jobId?: string;
  /**
   * The client's identity when the daemon is root and the client is not:
   * the broker opens and creates files with it (fsuid, fsgid and groups),
   * so a policy cannot grant what the client's own user could not open.
   */
  ids?: { uid: number; gid: number; groups: readonly number[] };
}

function brokerError(message: string): Error {
  return new BrokerError(message);
}

const WORKER_URL = new URL("./broker_worker.ts", import.meta.url).href;
const PER_THREAD = BROKERS_PER_THREAD;
/**
 * A thread whose read of a sandbox's memory has waited this long is
 * stuck (a userfaultfd page): new runs go elsewhere until the watchdog's
 * kill ends the read (REMOTE_READ_DEADLINE_MS).
 */
const STUCK_MS = 20;
/** Threads beyond maxThreads the pool adds while others are stuck. */
const SPARE_THREADS = 4;

interface Thread {
  worker: Worker;
  ready: Promise<number>;
  sessions: number;
  /** Its remote-read watchdog slot, once it is ready. */
  slot?: number;
}

/** A job waiting for its broker to stop, and the thread serving it. */
interface Done {
  resolve: (log: AccessLog | undefined) => void;
  reject: (e: Error) => void;
  thread: Thread;
}

/** Broker threads, created on demand (up to `maxThreads` unless all are full). */
export class BrokerPool {
  readonly #threads: Thread[] = [];
  readonly #jobs = new Map<number, Done>();
  #key = 0;

  constructor(
    readonly maxThreads = Math.min(4, navigator.hardwareConcurrency),
  ) {}

  /** Whether `t` is waiting on a read of a sandbox's memory. */
  #stuck(t: Thread): boolean {
    return t.slot !== undefined &&
      watchBusyMs(t.slot) > STUCK_MS;
  }

  #thread(): Thread {
    const usable = this.#threads.filter((t) => !this.#stuck(t));
    const idle = usable.find((t) => t.sessions === 0);
    if (idle) return idle;
    if (this.#threads.length < this.maxThreads) return this.#spawn();
    const least = (ts: Thread[]) =>
      ts.length
        ? ts.reduce((a, b) => a.sessions <= b.sessions ? a : b)
        : undefined;
    const open = least(usable);
    if (open && open.sessions < PER_THREAD) return open;
    // Every thread is full or stuck: one more, but only a few spare ones
    // for stuck threads (a stuck read ends within the watchdog's deadline).
    const spare = this.#threads.length < this.maxThreads + SPARE_THREADS;
    const any = least(this.#threads)!;
    if (!spare && any.sessions < PER_THREAD) return any;
    return this.#spawn();
  }

  #spawn(): Thread {
    const worker = new Worker(WORKER_URL, { type: "module" });
    let ready!: (fd: number) => void;
    const thread: Thread = {
      worker,
      ready: new Promise((r) => ready = r),
      sessions: 0,
    };
    worker.onmessage = (
      e: MessageEvent<
        {
          ready?: number;
          slot?: number;
          key?: number;
          ok?: boolean;
          message?: string;
          accesses?: AccessLog;
        }
      >,
    ) => {
      if (e.data.ready !== undefined) {
        thread.slot = e.data.slot;
        return ready(e.data.ready);
      }
      const done = this.#jobs.get(e.data.key!);
      if (!done) return;
      this.#jobs.delete(e.data.key!);
      thread.sessions--;
      if (e.data.ok) done.resolve(e.data.accesses);
      else done.reject(brokerError(e.data.message ?? "the broker failed"));
    };
    worker.onerror = (e) => {
      e.preventDefault();
      // The thread is gone: fail its runs (their sandboxes hang otherwise).
      this.#threads.splice(this.#threads.indexOf(thread), 1);
      for (const [key, done] of this.#jobs) {
        if (done.thread === thread) {
          this.#jobs.delete(key);
          done.reject(brokerError(`broker thread failed: ${e.message}`));
        }
      }
    };
    this.#threads.push(thread);
    return thread;
  }

  /**
   * Serves `job` on a broker thread; resolves when the broker has stopped
   * and closed the listener and helper fds, with what an observer saw.
   */
  async serve(job: Omit<BrokerJob, "key">): Promise<AccessLog | undefined> {
    const thread = this.#thread();
    thread.sessions++;
    const key = ++this.#key;
    const done = new Promise<AccessLog | undefined>((resolve, reject) => {
      this.#jobs.set(key, { resolve, reject, thread });
    });
    const wake = await thread.ready;
    thread.worker.postMessage({ ...job, key });
    eventfdSignal(wake);
    return await done;
  }

  /** Broker threads, the runs they serve, and those stuck on a read. */
  stats(): { threads: number; busy: number; stuck: number } {
    return {
      threads: this.#threads.length,
      busy: this.#threads.reduce((n, t) => n + t.sessions, 0),
      stuck: this.#threads.filter((t) => this.#stuck(t)).length,
    };
  }

  /** Ends the threads (when nothing runs any more). */
  close(): void {
    this.#threads.splice(0).forEach((t) => t.worker.terminate());
  }
}
