/**
 * The broker's failure type, in a module of its own: callers match it with
 * `instanceof` without loading the broker.
 *
 * @module
 */

/** The broker failed; the sandbox has been killed. */
export class BrokerError extends Error {
  override name = "BrokerError";
}
