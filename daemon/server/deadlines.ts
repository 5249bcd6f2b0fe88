/**
 * The daemon's connection deadlines (docs/protocol.md, "Limits"): a frame
 * must be complete within `frameTimeout` seconds of its first byte; a
 * connection with no run in flight and nothing half-sent is closed after
 * `idleTimeout` seconds; a peer that leaves replies unread for
 * `writeTimeout` seconds is disconnected. Pure: the daemon reads the
 * clocks, decides here, and acts.
 *
 * @module
 */

/** What a connection's clocks say (times from performance.now(), in ms). */
export interface ConnClocks {
  /** When the frame now arriving began, or 0. */
  partialSince: number;
  /** When a byte last arrived or a run ended. */
  lastActive: number;
  /** When queued replies last made progress. */
  lastWrite: number;
  /** Bytes of replies waiting. */
  queued: number;
  /** Runs in flight, plus requests read and not yet handled. */
  busy: number;
}

/** Deadlines in seconds. */
export interface Deadlines {
  frameTimeout: number;
  idleTimeout: number;
  writeTimeout: number;
}

/** Which deadline a connection has passed, if any. */
export type Expired = "write" | "frame" | "idle";

/** The deadline `c` has passed at `now`, or undefined. */
export function expired(
  c: ConnClocks,
  d: Deadlines,
  now: number,
): Expired | undefined {
  if (c.queued > 0 && now - c.lastWrite > d.writeTimeout * 1000) {
    return "write";
  }
  if (c.partialSince > 0) {
    return now - c.partialSince > d.frameTimeout * 1000 ? "frame" : undefined;
  }
  if (
    c.busy === 0 && c.queued === 0 &&
    now - c.lastActive > d.idleTimeout * 1000
  ) {
    return "idle";
  }
  return undefined;
}

/** The error frame's message for a deadline. */
export function expiredMessage(why: Expired, d: Deadlines): string {
  switch (why) {
    case "frame":
      return `a frame was not completed within ${d.frameTimeout} s of its first byte; closing the connection`;
    case "idle":
      return `the connection was idle for ${d.idleTimeout} s; closing it`;
    case "write":
      return `replies were left unread for ${d.writeTimeout} s; closing the connection`;
  }
}

/** How often to check: a quarter of the shortest deadline, 50 ms to 1 s. */
export function checkInterval(d: Deadlines): number {
  const shortest = Math.min(d.frameTimeout, d.idleTimeout, d.writeTimeout);
  return Math.max(50, Math.min(1000, (shortest * 1000) / 4));
}
