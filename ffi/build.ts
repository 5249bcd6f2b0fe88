/**
 * `deno task build`: compiles the C in ffi/ (and the tests' probe) into
 * ffi/build/:
 * - liblandlockd.so, the trampoline library landlockd loads;
 * - probe, a static test helper (tests/ and bench/ only), from
 *   tests/probe/probe.c;
 * - layout_check, which prints struct layouts for tests/layout_test.ts.
 * A target newer than its sources is left alone.
 *
 * @module
 */

const here = new URL(".", import.meta.url);
const path = (f: string) => new URL(f, here).pathname;
const COMMON = ["-O2", "-std=gnu11", "-Wall", "-Wextra", "-Werror"];

const TARGETS = [
  {
    output: "build/liblandlockd.so",
    sources: [
      "spawn.c",
      "init.c",
      "process.c",
      "signals.c",
      "broker_fast.c",
      "unix_socket.c",
      "watchdog.c",
      "stamps.c",
      "short_run.c",
      "landlockd.h",
      "internal.h",
    ],
    // nodelete: the broker watchdog's thread runs in this library until the
    // process ends, so closing it (Deno does at runtime teardown) must not
    // unmap the code under that thread.
    flags: ["-fPIC", "-shared", "-pthread", "-Wl,-z,nodelete"],
  },
  {
    output: "build/probe",
    sources: ["../tests/probe/probe.c"],
    flags: ["-static", "-pthread"],
  },
  {
    output: "build/layout_check",
    sources: ["layout_check.c", "landlockd.h"],
    flags: [],
  },
];

function mtime(file: string): number {
  try {
    return Deno.statSync(file).mtime?.getTime() ?? 0;
  } catch {
    return 0;
  }
}

const cc = Deno.env.get("CC") ?? "cc";
Deno.mkdirSync(path("build/"), { recursive: true });
for (const t of TARGETS) {
  const out = path(t.output);
  // This file too: a changed flag rebuilds.
  const newest = Math.max(
    mtime(new URL(import.meta.url).pathname),
    ...t.sources.map((s) => mtime(path(s))),
  );
  if (newest <= mtime(out)) continue;
  const cfiles = t.sources.filter((s) => s.endsWith(".c")).map(path);
  let result;
  try {
    result = new Deno.Command(cc, {
      args: [...COMMON, ...t.flags, "-o", out, ...cfiles],
    }).outputSync();
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    console.error(
      `build: no C compiler "${cc}": install one (Debian: apt-get install gcc)`,
    );
    Deno.exit(1);
  }
  Deno.stderr.writeSync(result.stderr);
  if (!result.success) {
    console.error(`build: ${t.output} failed`);
    Deno.exit(result.code || 1);
  }
}
