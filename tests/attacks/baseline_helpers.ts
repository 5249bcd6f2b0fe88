/**
 * Shared by the baseline_* attack tests: compile an attack program from
 * tests/attacks/ into a directory `nobody` can read, and keep a host TCP
 * listener that a sandbox should not reach.
 *
 * @module
 */

import { tempDir } from "../helpers.ts";

const HERE = new URL(".", import.meta.url).pathname;

/** Compiles `tests/attacks/NAME.c` with gcc; the executable's path. */
export async function compileAttack(name: string): Promise<string> {
  const out = `${tempDir("attack-")}/${name}`;
  const r = await new Deno.Command("gcc", {
    args: ["-O1", "-Wall", "-o", out, `${HERE}${name}.c`],
    stderr: "piped",
  }).output();
  if (!r.success) {
    throw new Error(
      `Cannot compile ${name}.c: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  Deno.chmodSync(out, 0o755);
  return out;
}

/** A TCP listener on 127.0.0.1 that accepts and drops connections. */
export function hostListener(): { port: number; close(): void } {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    try {
      for await (const conn of listener) conn.close();
    } catch {
      // closed
    }
  })();
  return {
    port: (listener.addr as Deno.NetAddr).port,
    close: () => listener.close(),
  };
}
