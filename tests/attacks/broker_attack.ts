/**
 * Shared by the broker attack tests: builds tests/attacks/broker_swap.c, and
 * lays out a tree with declared files inside a directory the sandbox may
 * write, next to secrets it may not read.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type As,
  chownTree,
  landlockdCommand,
  policyFile,
  type Result,
  type RunOptions,
  tempDir,
} from "../helpers.ts";

const SOURCE = new URL("./broker_swap.c", import.meta.url).pathname;
let built: string | undefined;

/** The attack program, compiled once per test process (static). */
export function attackProgram(): string {
  if (built) return built;
  const out = `${tempDir("attack-")}/broker_swap`;
  const r = new Deno.Command(Deno.env.get("CC") ?? "cc", {
    args: ["-O2", "-static", "-pthread", "-Wall", "-o", out, SOURCE],
  }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  Deno.chmodSync(out, 0o755);
  return built = out;
}

/** The content of every file the sandbox must never read or change. */
export const SECRET = "SECRET\n";

/**
 * DIR/bin/broker_swap; DIR/rw (Landlock: every right) holding the declared
 * files rw/w/a/resolv (allow_read) and rw/w/a/artifact.log (allow_write);
 * DIR/outside (no right) with a secret at each place a swapped path could
 * lead: outside/{,a/,w/a/}{resolv,artifact.log}; DIR/rw/scratch and
 * DIR/rw/export for scratch and export roots.
 */
export function attackTree(): string {
  const d = tempDir("attack-");
  for (
    const dir of [
      "bin",
      "rw/w/a",
      "outside/a",
      "outside/w/a",
      "rw/scratch",
      "rw/export",
    ]
  ) {
    Deno.mkdirSync(`${d}/${dir}`, { recursive: true });
  }
  Deno.writeTextFileSync(`${d}/rw/w/a/resolv`, "ALLOWED-R\n");
  Deno.writeTextFileSync(`${d}/rw/w/a/artifact.log`, "ALLOWED-W\n");
  for (const sub of ["", "a/", "w/a/"]) {
    for (const f of ["resolv", "artifact.log"]) {
      Deno.writeTextFileSync(`${d}/outside/${sub}${f}`, SECRET);
    }
  }
  Deno.copyFileSync(attackProgram(), `${d}/bin/broker_swap`);
  Deno.chmodSync(`${d}/bin/broker_swap`, 0o755);
  chownTree(d);
  return d;
}

/** Every secret in `d`, still unchanged. */
export function assertSecretsIntact(d: string): void {
  for (const sub of ["", "a/", "w/a/"]) {
    for (const f of ["resolv", "artifact.log"]) {
      assert.equal(
        Deno.readTextFileSync(`${d}/outside/${sub}${f}`),
        SECRET,
        `${d}/outside/${sub}${f} was changed`,
      );
    }
  }
}

/**
 * Landlock: run the program, read and write DIR/rw; nothing else. `reads`
 * are declared in allow_read besides DIR/rw/w/a/resolv.
 */
export function attackPolicy(
  d: string,
  broker = "",
  reads: string[] = [],
  /** More `[[fs_layer.rule]]` tables for the layer. */
  rules = "",
): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = [
  "execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
  "make_dir", "make_reg", "make_sym", "make_fifo", "refer", "truncate",
]
  [[fs_layer.rule]]
  path = "${d}/bin"
  allowed_access = ["execute", "read_file"]

  [[fs_layer.rule]]
  path = "${d}/rw"
  allowed_access = [
    "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
    "make_dir", "make_reg", "make_sym", "make_fifo", "refer", "truncate",
  ]
${rules}
[broker]
allow_read = ${JSON.stringify([`${d}/rw/w/a/resolv`, ...reads])}
allow_write = ["${d}/rw/w/a/artifact.log"]
${broker}`);
}

/**
 * Runs landlockd with `args`; kills it after `limitMs` (a broker stuck in
 * a blocking open would otherwise hang the test) and says so.
 */
export async function runBounded(
  args: string[],
  opts: RunOptions & { as: As },
  limitMs = 60_000,
): Promise<Result & { killed: boolean }> {
  const child = landlockdCommand(args, opts).spawn();
  let killed = false;
  const timer = setTimeout(() => {
    killed = true;
    child.kill("SIGKILL");
  }, limitMs);
  const out = await child.output();
  clearTimeout(timer);
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    killed,
  };
}

/** "OP PATH: RESULT" lines, and "data PATH: TEXT" lines keyed "data PATH". */
export function attackResults(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^(\S+ \S+): (.*)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** The counts a race prints. */
export function raceCounts(stdout: string): Record<string, number> {
  const m = /ok=(\d+) refused=(\d+) leaked=(\d+) other=(\d+) swaps=(\d+)/
    .exec(stdout);
  assert.ok(m, `no race counts in: ${stdout}`);
  const [ok, refused, leaked, other, swaps] = m.slice(1).map(Number);
  return { ok, refused, leaked, other, swaps };
}
