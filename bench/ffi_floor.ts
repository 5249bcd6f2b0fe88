/**
 * The smallest Deno program that does what `landlockd run` must: load the
 * C library through FFI, start the command through the trampoline, wait.
 * No policy, no Landlock. bench.ts times it as the floor below which no
 * Deno-based runner can go.
 *
 * Usage: deno run -A bench/ffi_floor.ts COMMAND [ARG...]
 *
 * @module
 */

import { exitCodeOf, spawn, waitChildSync } from "../syscalls/process.ts";

const child = spawn({
  candidates: [Deno.args[0]],
  argv: Deno.args,
  noNewPrivs: true,
});
Deno.exit(exitCodeOf(waitChildSync(child.pidfd)));
