/**
 * Where the time of a direct `landlockd run` and of `run --socket` goes,
 * step by step: runs bench/profile_run.ts `--runs` times for each (one
 * process per run, alternating, so a noisy machine hits both alike) and
 * writes the median of every step to `bench/results/profile-*.json`.
 *
 * Usage: deno run -A bench/profile.ts [--runs N] [POLICY]
 *
 * @module
 */

import { startDaemon } from "./daemon.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const args = [...Deno.args];
const at = args.indexOf("--runs");
const RUNS = at >= 0 ? Number(args.splice(at, 2)[1]) : 21;
const policy = args[0] ?? "ci-default";

interface Step {
  name: string;
  wall_ms: number;
  cpu_ms: number;
}

function once(extra: string[]): Step[] {
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      `${ROOT}bench/profile_run.ts`,
      "--json",
      ...extra,
      policy,
      "/bin/true",
    ],
    stdout: "piped",
    stderr: "inherit",
  }).outputSync();
  if (!out.success) throw new Error("bench: profile_run.ts failed");
  return JSON.parse(new TextDecoder().decode(out.stdout)).steps;
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};

function summary(runs: Step[][]) {
  return runs[0].map((step, i) => {
    const wall = runs.map((r) => r[i].wall_ms);
    const cpu = runs.map((r) => r[i].cpu_ms);
    return {
      name: step.name,
      wall_ms_median: median(wall),
      cpu_ms_median: median(cpu),
      cpu_ms_min: Math.min(...cpu),
      cpu_ms_max: Math.max(...cpu),
    };
  });
}

const loadavgStart = Deno.loadavg();
const daemon = await startDaemon();
const direct: Step[][] = [];
const remote: Step[][] = [];
try {
  once([]); // warm the caches
  once(["--socket", daemon.socket]);
  for (let i = 0; i < RUNS; i++) {
    direct.push(once([]));
    remote.push(once(["--socket", daemon.socket]));
  }
} finally {
  await daemon.stop();
}
const result = {
  date: new Date().toISOString(),
  command: ["deno", "run", "-A", "bench/profile.ts", ...Deno.args].join(" "),
  runs: RUNS,
  policy,
  machine: {
    kernel: Deno.osRelease(),
    cpus: navigator.hardwareConcurrency,
    deno: Deno.version.deno,
    loadavg_start: loadavgStart,
    loadavg_end: Deno.loadavg(),
  },
  note:
    "CPU is user + system time of all the process's threads (process.cpuUsage), per step; the first step is Deno's own start until the profiler's first line",
  direct_run: summary(direct),
  run_socket: summary(remote),
};
const file = `${ROOT}bench/results/profile-${
  result.date.replaceAll(":", "-").replace(".", "-")
}.json`;
Deno.writeTextFileSync(file, JSON.stringify(result, null, 2) + "\n");
for (
  const [title, rows] of [["direct run", result.direct_run], [
    "run --socket",
    result.run_socket,
  ]] as const
) {
  console.log(
    `\n| ${title}: step | wall ms (median) | CPU ms (median, min-max) |`,
  );
  console.log("| --- | ---: | ---: |");
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.wall_ms_median.toFixed(1)} | ${
        r.cpu_ms_median.toFixed(1)
      } (${r.cpu_ms_min.toFixed(1)}-${r.cpu_ms_max.toFixed(1)}) |`,
    );
  }
}
console.log(`\nwrote ${file}`);
