/**
 * The daemon's policy cache: validated policies by their exact text, in
 * memory, least recently used first out. `${NAME}` is expanded per run from
 * the client's environment, so the cache never holds a client's values.
 *
 * @module
 */

import { PolicyError, type Source } from "../policy/diagnostic.ts";
import { expandPolicy } from "../policy/expand.ts";
import type { Policy } from "../policy/schema.ts";
import { validatePolicy } from "../policy/validate.ts";

/** What `status` reports about the cache. */
export interface CacheStats {
  entries: number;
  capacity: number;
  hits: number;
  misses: number;
}

export class PolicyCache {
  readonly #entries = new Map<string, Policy>();
  #hits = 0;
  #misses = 0;

  constructor(readonly capacity = 128) {}

  /** Validates (or finds) and expands `source`; throws PolicyError. */
  load(source: Source, env: Readonly<Record<string, string>>): Policy {
    let policy = this.#entries.get(source.text);
    if (policy) {
      this.#hits++;
      this.#entries.delete(source.text); // re-inserted as most recent
    } else {
      this.#misses++;
      const result = validatePolicy(source);
      if (!result.policy) throw new PolicyError(source, result.diagnostics);
      policy = result.policy;
      if (this.#entries.size >= this.capacity) {
        this.#entries.delete(this.#entries.keys().next().value!);
      }
    }
    this.#entries.set(source.text, policy);
    const expanded = expandPolicy(policy, (name) => env[name]);
    if (expanded.diagnostics.length) {
      throw new PolicyError(source, expanded.diagnostics);
    }
    return expanded.policy;
  }

  stats(): CacheStats {
    return {
      entries: this.#entries.size,
      capacity: this.capacity,
      hits: this.#hits,
      misses: this.#misses,
    };
  }
}
