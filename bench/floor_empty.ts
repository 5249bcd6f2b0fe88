/**
 * An empty script inside the checkout: Deno's floor for a program that,
 * like landlockd's main.ts, starts under this repository's deno.json and
 * deno.lock (the bench's other empty script lives in a temporary folder).
 *
 * @module
 */
