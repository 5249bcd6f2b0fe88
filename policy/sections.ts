/**
 * Policy keys that are validated but not enforced yet. Kept apart from
 * schema.ts so that code on the `run` path does not load zod.
 *
 * @module
 */

/** `[section, key]` pairs that `run` refuses until landlockd enforces them. */
export const LATER_KEYS = [
  ["broker", "mount_object"],
] as const;
