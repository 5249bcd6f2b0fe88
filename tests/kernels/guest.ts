/**
 * Runs inside the virtual machine (started by init.sh): collects every
 * check's observations and writes one line per check to the results
 * serial port, `@@llk {"name": …, "obs": …, "ms": …}`, then `@@llk-done`.
 * The kernel's own console is the other serial port, so the two never mix.
 *
 * Usage: deno run --allow-all tests/kernels/guest.ts /dev/ttyS1
 *
 * @module
 */

import { CHECKS } from "./checks.ts";

/** The prefix of every result line. */
export const MARKER = "@@llk";

if (import.meta.main) {
  const out = Deno.openSync(Deno.args[0] ?? "/dev/ttyS1", { write: true });
  const enc = new TextEncoder();
  const emit = (line: string) => {
    const bytes = enc.encode(`${line}\n`);
    let off = 0;
    while (off < bytes.length) off += out.writeSync(bytes.subarray(off));
  };
  emit(`${MARKER}-start ${JSON.stringify({ release: Deno.osRelease() })}`);
  for (const check of CHECKS) {
    const start = performance.now();
    let obs;
    try {
      obs = await check.collect();
    } catch (e) {
      obs = { error: e instanceof Error ? e.stack ?? e.message : String(e) };
    }
    const ms = Math.round(performance.now() - start);
    emit(`${MARKER} ${JSON.stringify({ name: check.name, obs, ms })}`);
  }
  emit(`${MARKER}-done`);
  out.close();
}
