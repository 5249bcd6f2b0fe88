/**
 * A bounded record of accesses: distinct accesses up to a limit, repeats
 * counted, the rest counted as dropped. Pure; the observer
 * (broker/observer.ts) feeds it.
 *
 * @module
 */

import {
  type Access,
  accessKey,
  type AccessLog,
  DEFAULT_ACCESS_LIMIT,
} from "./access.ts";

/**
 * How many keys of dropped accesses are remembered, so a dropped access
 * seen again is not counted twice; past this, every further observation
 * that is not kept counts (an upper bound).
 */
const DROPPED_KEYS = 16384;

/** Collects accesses within a fixed memory bound. */
export class AccessRecorder {
  readonly #kept = new Map<string, Access>();
  readonly #droppedKeys = new Set<string>();
  #dropped = 0;
  #unreadable = 0;
  readonly limit: number;

  constructor(limit = DEFAULT_ACCESS_LIMIT) {
    if (!Number.isInteger(limit) || limit < 1) {
      throw new RangeError(
        `observe limit must be a positive integer, got ${limit}`,
      );
    }
    this.limit = limit;
  }

  /** Records one observation. */
  add(a: Omit<Access, "count">): void {
    const key = accessKey(a);
    const known = this.#kept.get(key);
    if (known) {
      known.count++;
      return;
    }
    if (this.#kept.size < this.limit) {
      this.#kept.set(key, { ...a, count: 1 });
      return;
    }
    if (this.#droppedKeys.has(key)) return;
    if (this.#droppedKeys.size < DROPPED_KEYS) this.#droppedKeys.add(key);
    this.#dropped++;
  }

  /** Counts a call whose arguments could not be read. */
  unreadable(): void {
    this.#unreadable++;
  }

  /** The record so far, in the order accesses were first seen. */
  log(cutShort = false): AccessLog {
    return {
      accesses: [...this.#kept.values()].map((a) => ({ ...a })),
      dropped: this.#dropped,
      cutShort,
      unreadable: this.#unreadable,
      limit: this.limit,
    };
  }
}
