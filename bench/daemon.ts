/**
 * The daemon's part of `deno task bench`: a daemon to run against, and the
 * library API timed in-process (one persistent connection), sequentially
 * and with runs in flight at once.
 *
 * @module
 */

import { cpuUsage } from "node:process";
import { connect } from "../mod.ts";

/** This process's user + system CPU time, in ms. */
function cpuUsageMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

const ROOT = new URL("../", import.meta.url).pathname;

/** A daemon for the benchmark; `stop()` ends it. */
export interface BenchDaemon {
  socket: string;
  /** The daemon's process (for its RSS). */
  pid: number;
  stop(): Promise<void>;
}

/** Starts `landlockd serve` on a socket in a fresh 0700 directory. */
export async function startDaemon(): Promise<BenchDaemon> {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-bench-daemon-" });
  Deno.chmodSync(dir, 0o700);
  const socket = `${dir}/landlockd.sock`;
  const proc = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "-A",
      // For experiments: Deno options for the daemon only (e.g. --v8-flags=...).
      ...(Deno.env.get("LANDLOCKD_BENCH_DAEMON_DENO_FLAGS") ?? "").split(" ")
        .filter(Boolean),
      `${ROOT}main.ts`,
      "serve",
      "--socket",
      socket,
    ],
    stdout: "null",
    stderr: "inherit",
  }).spawn();
  for (let i = 0; i < 400; i++) {
    try {
      if (Deno.statSync(socket).isSocket) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  return {
    socket,
    pid: proc.pid,
    async stop() {
      proc.kill("SIGTERM");
      await proc.status;
      Deno.removeSync(dir, { recursive: true });
    },
  };
}

/** Latency and throughput of the library API. */
export interface ApiTiming {
  runs: number;
  mean_ms: number;
  median_ms: number;
  p95_ms: number;
  /** Sequential runs per second (one at a time). */
  runs_per_s: number;
  /** Runs per second with `in_flight` runs at once on the connection. */
  concurrent_runs_per_s: number;
  in_flight: number;
  /**
   * CPU time per sequential run (user + system, ms), which a loaded machine
   * disturbs less than wall-clock time: the daemon's own threads, the
   * sandboxed commands it reaped, and this client process. Set when the
   * daemon's pid is known.
   */
  cpu_ms_per_run?: { daemon: number; commands: number; client: number };
}

/** utime+stime and cutime+cstime of `pid`, in ms. */
function cpuOf(pid: number): [number, number] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  // Fields 14-17 of proc(5) (utime stime cutime cstime), in clock ticks.
  const tick = 1000 / 100;
  return [(f[11] + f[12]) * tick, (f[13] + f[14]) * tick];
}

/** Times `argv` under `policy` (TOML text) through the daemon's socket. */
export async function timeApi(
  socket: string,
  policy: string,
  argv: string[],
  runs: number,
  inFlight = 16,
  pid?: number,
): Promise<ApiTiming> {
  const client = await connect(socket);
  try {
    const once = async () => {
      const r = await client.run({ policy, argv });
      if (r.code !== 0) {
        throw new Error(`bench: ${argv.join(" ")} exited ${r.code}`);
      }
    };
    for (let i = 0; i < 20; i++) await once(); // warm-up
    const times: number[] = [];
    const d0 = pid ? cpuOf(pid) : undefined;
    const clientCpu0 = cpuUsageMs();
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) {
      const t = performance.now();
      await once();
      times.push(performance.now() - t);
    }
    const sequential = performance.now() - t0;
    let cpu: ApiTiming["cpu_ms_per_run"];
    if (pid && d0) {
      const d1 = cpuOf(pid);
      const c1 = cpuUsageMs();
      cpu = {
        daemon: (d1[0] - d0[0]) / runs,
        commands: (d1[1] - d0[1]) / runs,
        client: (c1 - clientCpu0) / runs,
      };
    }
    times.sort((a, b) => a - b);
    const total = inFlight > 1 ? runs * 4 : 0; // 1: latency only
    let next = 0;
    const c0 = performance.now();
    await Promise.all(Array.from({ length: inFlight }, async () => {
      while (next++ < total) await once();
    }));
    const concurrent = performance.now() - c0;
    return {
      runs,
      mean_ms: times.reduce((a, b) => a + b, 0) / runs,
      median_ms: times[Math.floor(runs / 2)],
      p95_ms: times[Math.min(runs - 1, Math.floor(runs * 0.95))],
      runs_per_s: runs / (sequential / 1000),
      concurrent_runs_per_s: total ? total / (concurrent / 1000) : 0,
      in_flight: inFlight,
      ...(cpu ? { cpu_ms_per_run: cpu } : {}),
    };
  } finally {
    client.close();
  }
}

/**
 * bubblewrap's mean for `cmd`, timed by hyperfine in `rounds` blocks, each
 * right after a block of library API runs, so slow phases of a noisy
 * machine hit both alike. Returns both means over all blocks.
 */
export async function interleaved(
  socket: string,
  policy: string,
  argv: string[],
  bwrap: string,
  rounds: number,
  perRound: number,
): Promise<{ api_mean_ms: number; bwrap_mean_ms: number; rounds: number }> {
  let api = 0;
  let bw = 0;
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-bench-pair-" });
  for (let i = 0; i < rounds; i++) {
    api += (await timeApi(socket, policy, argv, perRound, 1)).mean_ms;
    const out = `${dir}/bwrap-${i}.json`;
    const hf = await new Deno.Command("hyperfine", {
      args: [
        "-N",
        "--warmup",
        "5",
        "--runs",
        String(perRound),
        "--export-json",
        out,
        `${bwrap} ${argv.join(" ")}`,
      ],
      stdout: "null",
      stderr: "null",
    }).output();
    if (!hf.success) throw new Error("bench: hyperfine failed for bubblewrap");
    bw += JSON.parse(Deno.readTextFileSync(out)).results[0].mean * 1000;
  }
  Deno.removeSync(dir, { recursive: true });
  return {
    api_mean_ms: api / rounds,
    bwrap_mean_ms: bw / rounds,
    rounds,
  };
}

// `deno run -A bench/daemon.ts [--runs N] [--in-flight N]`: the library API
// rows alone, for quick iteration.
if (import.meta.main) {
  const flag = (name: string, fallback: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  };
  const policy = Deno.readTextFileSync(`${ROOT}policies/ci-default.toml`);
  const daemon = await startDaemon();
  try {
    const t = await timeApi(
      daemon.socket,
      policy,
      ["/bin/true"],
      flag("runs", 500),
      flag("in-flight", 16),
      daemon.pid,
    );
    console.log(JSON.stringify(t));
  } finally {
    await daemon.stop();
  }
}
