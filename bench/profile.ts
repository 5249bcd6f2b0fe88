/**
 * Where the time of a direct `landlockd run` and of `run --socket` goes,
 * step by step: runs bench/profile_run.ts `--runs` times for each (one
 * process per run, alternating, so a noisy machine hits both alike) and
 * writes the median of every step to `bench/results/profile-*.json`.
 *
 * Both from the sources and (main.ts's way when dist/run/ is fresh) from
 * the bundle, which `deno task bundle` builds first.
 *
 * Usage: deno run -A bench/profile.ts [--runs N] [POLICY]
 *
 * @module
 */

import { startDaemon } from "./daemon.ts";
import { PolicyCache } from "../daemon/server/policies.ts";
import { encodeFrame, FrameReader, parseRequest } from "../daemon/protocol.ts";
import { compileSeccomp } from "../sandbox/seccomp.ts";
import { buildRulesets } from "../sandbox/landlock.ts";
import { startPlanned } from "../sandbox/run.ts";
import { commandEnvironment } from "../policy/env.ts";
import { NO_AUDIT } from "../audit/audit.ts";
import { close } from "../syscalls/sys.ts";
import { spawn, waitChildSync } from "../syscalls/process.ts";
import { readNamedPolicy } from "../policy/source.ts";

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

/**
 * The daemon's per-run steps for `policy` and /bin/true, each repeated in
 * this process (warm, as in a daemon that has served a few runs): median
 * microseconds per call, over blocks of 100 calls.
 */
async function hotPath(): Promise<Record<string, number>> {
  const source = readNamedPolicy(policy);
  const env = Deno.env.toObject();
  const cache = new PolicyCache();
  const plan = await cache.plan(source, env);
  const frame = encodeFrame({
    type: "run",
    id: 1,
    policy: { name: source.name, text: source.text },
    argv: ["/bin/true"],
    env,
    cwd: "/",
    stdio: "capture",
  });
  const exit = { type: "exit", id: 1, code: 0, duration_ms: 1.234 };
  const steps: [string, () => unknown][] = [
    ["client: encode the run frame (env included)", () =>
      encodeFrame({
        type: "run",
        id: 1,
        policy: { name: source.name, text: source.text },
        argv: ["/bin/true"],
        env: Deno.env.toObject(),
        cwd: "/",
        stdio: "capture",
      })],
    [
      "daemon: split and check the frame",
      () => parseRequest(new FrameReader().push(frame)[0]),
    ],
    [
      "daemon: plan (cache hit by text and variables)",
      () => cache.plan(source, env),
    ],
    ["daemon: seccomp program (cached)", () => compileSeccomp(plan.seccomp)],
    [
      "daemon: rulesets (open each rule path, add rules)",
      () => buildRulesets(plan.landlock, plan.mounts).fds.forEach(close),
    ],
    [
      "daemon: the command's environment ([env] patterns)",
      () => commandEnvironment(plan.env, env),
    ],
    [
      "spawn /bin/true without a policy, wait (Deno FFI floor)",
      () =>
        waitChildSync(
          spawn({
            candidates: ["/bin/true"],
            argv: ["/bin/true"],
            noNewPrivs: true,
          }).pidfd,
        ),
    ],
    [
      "spawn /bin/true under the plan, wait (all of the above but parsing)",
      async () => {
        const run = await startPlanned(
          plan,
          { argv: ["/bin/true"], path: "/usr/bin:/bin" },
          NO_AUDIT,
          source.name,
          { env },
        );
        waitChildSync(run.child.pidfd);
        close(run.child.pidfd);
      },
    ],
    ["daemon: encode the exit reply", () => encodeFrame(exit)],
  ];
  const out: Record<string, number> = {};
  for (const [name, fn] of steps) {
    const blocks: number[] = [];
    for (let b = 0; b < 11; b++) {
      const t = performance.now();
      for (let i = 0; i < 100; i++) await fn();
      blocks.push((performance.now() - t) * 10); // µs per call
    }
    out[name] = median(blocks);
  }
  return out;
}

const built = new Deno.Command(Deno.execPath(), {
  args: ["run", "-A", `${ROOT}cli/bundle.ts`],
  stdout: "null",
}).outputSync();
if (!built.success) throw new Error("bench: cli/bundle.ts failed");
const loadavgStart = Deno.loadavg();
const hot = await hotPath();
const daemon = await startDaemon();
const direct: Step[][] = [];
const remote: Step[][] = [];
const directBundled: Step[][] = [];
const remoteBundled: Step[][] = [];
try {
  once([]); // warm the caches
  once(["--socket", daemon.socket]);
  once(["--bundle"]);
  once(["--bundle", "--socket", daemon.socket]);
  for (let i = 0; i < RUNS; i++) {
    direct.push(once([]));
    remote.push(once(["--socket", daemon.socket]));
    directBundled.push(once(["--bundle"]));
    remoteBundled.push(once(["--bundle", "--socket", daemon.socket]));
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
  direct_run_bundled: summary(directBundled),
  run_socket_bundled: summary(remoteBundled),
  daemon_hot_path_us: hot,
};
const file = `${ROOT}bench/results/profile-${
  result.date.replaceAll(":", "-").replace(".", "-")
}.json`;
Deno.writeTextFileSync(file, JSON.stringify(result, null, 2) + "\n");
for (
  const [title, rows] of [
    ["direct run", result.direct_run],
    ["run --socket", result.run_socket],
    ["direct run, from the bundle", result.direct_run_bundled],
    ["run --socket, from the bundle", result.run_socket_bundled],
  ] as const
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
console.log("\n| one run through the daemon, in process: step | µs (median) |");
console.log("| --- | ---: |");
for (const [name, us] of Object.entries(hot)) {
  console.log(`| ${name} | ${us.toFixed(1)} |`);
}
console.log(`\nwrote ${file}`);
