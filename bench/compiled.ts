/**
 * The compiled binary's row of `deno task bench`: builds `dist/landlockd`
 * with `deno task compile` (which downloads Deno's `denort` runtime unless
 * DENORT_BIN names a local copy) and times its start-up; or says why it is
 * skipped.
 *
 * @module
 */

/** The row: timings, or why there are none. */
export interface CompiledRow {
  command?: string;
  median_ms?: number;
  mean_ms?: number;
  cpu_ms?: number;
  skipped?: string;
}

/** Builds the binary (at most 5 minutes) and times `run ci-default /bin/true`. */
export function compiledRow(
  root: string,
  runs: number,
  warmup: number,
): CompiledRow {
  const build = new Deno.Command("timeout", {
    args: ["300", Deno.execPath(), "task", "compile"],
    cwd: root,
    env: { NO_COLOR: "1" },
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!build.success) {
    const err = new TextDecoder().decode(build.stderr).trim().split("\n")
      .filter((l) => /error|fail/i.test(l)).at(-1) ?? `exit ${build.code}`;
    return {
      skipped: `deno compile failed (${err.trim()}); its denort runtime ` +
        "download is unreachable here: set DENORT_BIN to a local copy",
    };
  }
  const command = `${root}dist/landlockd run --policy ci-default -- /bin/true`;
  const json = `${Deno.makeTempDirSync()}/compiled.json`;
  const hf = new Deno.Command("hyperfine", {
    args: [
      "-N",
      "--runs",
      String(runs),
      "--warmup",
      String(warmup),
      "--style",
      "none",
      "--export-json",
      json,
      command,
    ],
    stdout: "null",
    stderr: "inherit",
  }).outputSync();
  if (!hf.success) return { command, skipped: "the binary's run failed" };
  const r = JSON.parse(Deno.readTextFileSync(json)).results[0];
  return {
    command,
    median_ms: r.median * 1000,
    mean_ms: r.mean * 1000,
    cpu_ms: (r.user + r.system) * 1000,
  };
}
