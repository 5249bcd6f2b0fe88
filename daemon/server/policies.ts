/**
 * The daemon's policy cache: validated policies by their exact text, in
 * memory, least recently used first out, and the plans made from them for
 * this kernel. `${NAME}` is expanded per run from the client's environment:
 * a plan is reused only for the same text and the same values of the
 * variables the text names.
 *
 * @module
 */

import { PolicyError, type Source } from "../../policy/diagnostic.ts";
import { expandPolicy } from "../../policy/expand.ts";
import type { Policy } from "../../policy/schema.ts";
import { validatePolicy } from "../../policy/validate.ts";
import { planSandbox, type SandboxPlan } from "../../sandbox/run.ts";
import type { Identity } from "../../syscalls/process.ts";
import { checkClientPaths, reachAs } from "./client_paths.ts";
import { errno } from "../../syscalls/errno.ts";
import { refuseSelfWrite, type Trusted } from "../../sandbox/self_write.ts";

const VARIABLE = /\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g;

/** What `status` reports about the cache. */
export interface CacheStats {
  entries: number;
  capacity: number;
  hits: number;
  misses: number;
}

/** A plan, its policy, and the client trust lists already checked against it. */
interface CachedPlan {
  plan: SandboxPlan;
  policy: Policy;
  trusted: Set<string>;
}

/**
 * A trust list's key, made once per list object: a connection that reuses
 * its list (daemon/protocol.ts) passes the same object every run.
 */
const trustKeys = new WeakMap<readonly Trusted[], string>();

function trustKey(trust: readonly Trusted[]): string {
  let key = trustKeys.get(trust);
  if (key === undefined) {
    key = JSON.stringify(trust);
    trustKeys.set(trust, key);
  }
  return key;
}

/**
 * Nor may the plan change what the client trusts on its next start (its
 * policy file, its landlockd and DENO_DIR), which only the client knows:
 * checked once per plan and list, as the daemon's own files are.
 */
function refuseClientWrite(entry: CachedPlan, trust: readonly Trusted[]) {
  if (trust.length === 0) return;
  const key = trustKey(trust);
  if (entry.trusted.has(key)) return;
  refuseSelfWrite(entry.policy, entry.plan, undefined, [], [...trust]);
  // A few lists per plan (its clients'), not one for every request made.
  if (entry.trusted.size >= 16) entry.trusted.clear();
  entry.trusted.add(key);
}

/** Validated policies and their plans, by exact text (LRU, `capacity` each). */
export class PolicyCache {
  readonly #entries = new Map<string, Policy>();
  readonly #plans = new Map<string, CachedPlan>();
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

  /**
   * The plan for `source` under `env`, made once per text and variable
   * values (a failed plan is not kept: its error is reported every time).
   * With `owner` (a root daemon serving another user), every path the
   * plan would resolve must be reachable by that user, on every call
   * (daemon/client_paths.ts): checked before anything is looked at.
   */
  async plan(
    source: Source,
    env: Readonly<Record<string, string>>,
    owner?: Identity,
    trust: readonly Trusted[] = [],
  ): Promise<SandboxPlan> {
    const names = [
      ...new Set([...source.text.matchAll(VARIABLE)].map((m) => m[1])),
    ];
    const key = `${source.text}\0${
      JSON.stringify([names.map((n) => env[n]), owner?.uid, owner?.gid])
    }`;
    // A root daemon's other user names only what it can reach itself
    // (its own files are that): the check resolves paths as root, and its
    // message must not tell whether a hidden path exists.
    if (owner && trust.length) {
      const errs = reachAs(owner, trust.map((t) => t.path));
      trust = trust.filter((_, i) =>
        errs[i] !== errno.EACCES && errs[i] !== errno.EPERM
      );
    }
    const cached = this.#plans.get(key);
    if (cached) {
      this.#hits++;
      if (owner) checkClientPaths(cached.policy, owner);
      refuseClientWrite(cached, trust);
      return cached.plan;
    }
    const policy = this.load(source, env);
    if (owner) checkClientPaths(policy, owner);
    // Signal scope always (where the kernel has it): a sandbox must not be
    // able to signal the daemon that serves everyone else.
    const plan = await planSandbox(policy, owner, true);
    // Nor may it change the daemon's own code (the client sent the text,
    // so there is no policy file here).
    refuseSelfWrite(policy, plan, undefined);
    const entry: CachedPlan = { plan, policy, trusted: new Set() };
    refuseClientWrite(entry, trust);
    if (this.#plans.size >= this.capacity) {
      this.#plans.delete(this.#plans.keys().next().value!);
    }
    this.#plans.set(key, entry);
    return plan;
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
