/**
 * The egress proxy's decisions, kept for `run --explain`: each distinct
 * refusal (host, port, reason) and each distinct admitted host:port, with
 * counts. Bounded: further distinct decisions are counted, not kept. Pure.
 *
 * @module
 */

/** One distinct decision of the proxy and how often it was made. */
export interface ProxyDecision {
  /** The host asked for (absent for a request refused before its head). */
  host?: string;
  port?: number;
  /** The HTTP method of the first such request: `CONNECT`, `GET`, … */
  method?: string;
  /** The answer's status: 403, 502, …; absent for an admitted one. */
  status?: number;
  /** Why it was refused. */
  reason?: string;
  /** A refusal's `allow_hosts` entry that would admit it. */
  suggest?: string;
  /** An admission's rule, as written. */
  rule?: string;
  count: number;
}

/** What a run's proxy decided. */
export interface ProxyDecisions {
  refused: ProxyDecision[];
  admitted: ProxyDecision[];
  /** Distinct decisions not kept because the record was full. */
  dropped: number;
  limit: number;
}

/** How many distinct decisions are kept. */
export const DECISION_LIMIT = 1024;

const str = (v: unknown) => typeof v === "string" ? v : undefined;
const num = (v: unknown) => typeof v === "number" ? v : undefined;

/** Records the proxy's `net.allow` / `net.deny` events. */
export class DecisionRecord {
  readonly #refused = new Map<string, ProxyDecision>();
  readonly #admitted = new Map<string, ProxyDecision>();
  #dropped = 0;

  constructor(readonly limit = DECISION_LIMIT) {}

  /** Takes one proxy event (its name and fields). */
  add(event: string, fields: Record<string, unknown>): void {
    const refused = event === "net.deny";
    if (!refused && event !== "net.allow") return;
    const d: ProxyDecision = {
      ...(str(fields.host) !== undefined ? { host: str(fields.host) } : {}),
      ...(num(fields.port) !== undefined ? { port: num(fields.port) } : {}),
      ...(str(fields.method) ? { method: str(fields.method) } : {}),
      ...(refused && num(fields.status) !== undefined
        ? { status: num(fields.status) }
        : {}),
      ...(refused && str(fields.reason) ? { reason: str(fields.reason) } : {}),
      ...(str(fields.suggest) ? { suggest: str(fields.suggest) } : {}),
      ...(!refused && str(fields.rule) ? { rule: str(fields.rule) } : {}),
      count: 1,
    };
    const map = refused ? this.#refused : this.#admitted;
    const key = [d.host ?? "", d.port ?? "", d.status ?? "", d.reason ?? ""]
      .join("\0");
    const seen = map.get(key);
    if (seen) seen.count++;
    else if (this.#refused.size + this.#admitted.size >= this.limit) {
      this.#dropped++;
    } else map.set(key, d);
  }

  /** Everything recorded, in the order first seen. */
  result(): ProxyDecisions {
    return {
      refused: [...this.#refused.values()],
      admitted: [...this.#admitted.values()],
      dropped: this.#dropped,
      limit: this.limit,
    };
  }
}
