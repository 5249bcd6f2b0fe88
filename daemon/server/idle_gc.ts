/**
 * Gives memory back once the daemon is quiet. V8 grows its heap under
 * load and keeps it: a daemon that served 3,000 runs held a 73 MiB heap
 * with 41 MiB in use, though nothing in it was live (a heap capped at
 * 24 MiB served the same runs; bench/memory.ts). A full collection once
 * no run is active and nothing has happened for a moment returns it.
 *
 * The collection is V8's own `gc()`, exposed through node:v8's flag
 * setter and read from a fresh context (the daemon's own global stays as
 * it was). It runs only when the daemon is idle, so no run waits for it.
 *
 * @module
 */

import { setFlagsFromString } from "node:v8";
import { runInNewContext } from "node:vm";

/** Quiet time before a collection, in ms. */
export const IDLE_GC_MS = 1000;

/** V8's full collection, or undefined where it cannot be reached. */
function fullGc(): (() => void) | undefined {
  try {
    setFlagsFromString("--expose-gc");
    const gc = runInNewContext("gc") as unknown;
    return typeof gc === "function" ? gc as () => void : undefined;
  } catch {
    return undefined;
  }
}

/** Collects once the daemon has been idle for {@link IDLE_GC_MS}. */
export class IdleCollector {
  readonly #gc = fullGc();
  readonly #busy: () => boolean;
  #timer: ReturnType<typeof setTimeout> | undefined;
  #collections = 0;
  #closed = false;
  #last = 0;

  /** `busy()` says whether runs are active (no collection then). */
  constructor(busy: () => boolean) {
    this.#busy = busy;
  }

  /** Something happened (a run ended, a connection closed): wait again. */
  touch(): void {
    if (!this.#gc || this.#closed) return;
    this.#last = performance.now();
    if (this.#timer === undefined) this.#wait(IDLE_GC_MS);
  }

  #wait(ms: number): void {
    this.#timer = setTimeout(() => {
      this.#timer = undefined;
      if (this.#closed) return;
      const quiet = performance.now() - this.#last;
      if (quiet < IDLE_GC_MS) return this.#wait(IDLE_GC_MS - quiet);
      if (this.#busy()) return; // the last run to end touches again
      this.#gc!();
      this.#collections++;
    }, ms);
  }

  /** Collections so far (for `status`). */
  get collections(): number {
    return this.#collections;
  }

  /** No more collections (the daemon is stopping). */
  close(): void {
    this.#closed = true;
    clearTimeout(this.#timer);
    this.#timer = undefined;
  }
}
