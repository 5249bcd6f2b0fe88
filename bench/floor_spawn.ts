/**
 * The kernel's floor for a sandboxed run: builds bench/floor_spawn.c with
 * `cc` and runs its loop (vfork + no_new_privs + landlock_restrict_self +
 * seccomp + execve + wait, rulesets made per run; or the same loop bare),
 * one run at a time or with runs in flight on threads.
 *
 * @module
 */

/** One loop's result (floor_spawn.c's JSON line). */
export interface CFloor {
  mode: "sandbox" | "bare";
  runs: number;
  in_flight: number;
  mean_ms: number;
  median_ms: number;
  p95_ms: number;
  runs_per_s: number;
}

/** Compiles floor_spawn.c into `dir`: the executable, or why not. */
export function buildFloorSpawn(
  root: string,
  dir: string,
): { exe: string } | { skipped: string } {
  const exe = `${dir}/floor_spawn`;
  const cc = Deno.env.get("CC") ?? "cc";
  try {
    const built = new Deno.Command(cc, {
      args: [
        "-O2",
        "-Wall",
        "-Wextra",
        "-pthread",
        "-o",
        exe,
        `${root}bench/floor_spawn.c`,
      ],
      stdout: "piped",
      stderr: "piped",
    }).outputSync();
    if (!built.success) {
      const err = new TextDecoder().decode(built.stderr).trim().split("\n")
        .find((l) => l.includes("error")) ?? `exit ${built.code}`;
      return { skipped: `cc could not build bench/floor_spawn.c: ${err}` };
    }
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) throw e;
    return {
      skipped: `no C compiler "${cc}": apt-get install gcc (or set CC)`,
    };
  }
  return { exe };
}

/** Runs the loop; throws with its stderr when it fails. */
export function runFloorSpawn(
  exe: string,
  spec: string,
  mode: CFloor["mode"],
  runs: number,
  inFlight: number,
  command = "/bin/true",
): CFloor {
  const out = new Deno.Command(exe, {
    args: [spec, mode, String(runs), String(inFlight), command],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const dec = new TextDecoder();
  if (!out.success) {
    throw new Error(
      `bench/floor_spawn.c ${mode}: ${dec.decode(out.stderr).trim()}`,
    );
  }
  return JSON.parse(dec.decode(out.stdout));
}
