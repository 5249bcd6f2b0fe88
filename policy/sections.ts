/**
 * Policy sections that are validated but not enforced yet. Kept apart from
 * schema.ts so that code on the `run` path does not load zod.
 *
 * @module
 */

/** Sections that `run` refuses until landlockd enforces them. */
export const LATER_SECTIONS = ["mount", "runtime"] as const;
