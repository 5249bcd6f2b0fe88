/**
 * Memory rows of `deno task bench`: the daemon's resident set idle, while
 * 64 brokered runs are in flight, after many runs, and after many clients
 * that send half a frame and hang up; and the peak RSS of one direct run
 * beside bubblewrap's and firejail's.
 *
 * RSS is read from /proc/PID/status (VmRSS, VmHWM). After each load the
 * daemon is left alone for `settle_ms` before its RSS is read again.
 *
 * @module
 */

import { connect } from "../mod.ts";

/** Resident set now and at its peak, in MiB. */
export interface Rss {
  rss_mib: number;
  peak_mib: number;
}

/** VmRSS and VmHWM of `pid`. */
export function rssOf(pid: number): Rss {
  const status = Deno.readTextFileSync(`/proc/${pid}/status`);
  const kib = (key: string) =>
    Number(new RegExp(`^${key}:\\s+(\\d+) kB`, "m").exec(status)?.[1] ?? NaN);
  return { rss_mib: kib("VmRSS") / 1024, peak_mib: kib("VmHWM") / 1024 };
}

/** One memory row: what was done, RSS after it, and its ratio to idle. */
export interface MemoryRow {
  name: string;
  rss_mib: number;
  ratio_to_idle?: number;
  /** The daemon's own account (`status`): V8's heap, total and used. */
  heap_total_mib?: number;
  heap_used_mib?: number;
  note?: string;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** A brokered policy (each run gets its own broker thread). */
function brokered(secret: string): string {
  return `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
[broker]
allow_read = ["${secret}"]
`;
}

/** Options of {@link daemonMemory}. */
export interface DaemonMemoryOptions {
  /** Runs for the "after N runs" row (the issue asks for 10,000). */
  runs: number;
  /** Clients that send half a frame and close (the issue asks for 1,000). */
  halfFrames: number;
  /** Quiet time before each reading. */
  settleMs: number;
}

/**
 * Loads the daemon on `socket` (process `pid`) step by step and reads its
 * RSS after each step.
 */
export async function daemonMemory(
  socket: string,
  pid: number,
  ciDefault: string,
  opts: DaemonMemoryOptions,
): Promise<MemoryRow[]> {
  const rows: MemoryRow[] = [];
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-bench-mem-" });
  const secret = `${dir}/secret`;
  Deno.writeTextFileSync(secret, "x\n");
  const client = await connect(socket);
  const runBatch = async (n: number, policy: string, argv: string[]) => {
    let next = 0;
    await Promise.all(Array.from({ length: 16 }, async () => {
      while (next++ < n) {
        const r = await client.run({ policy, argv });
        if (r.code !== 0) throw new Error(`bench: ${argv[0]} exited ${r.code}`);
      }
    }));
  };
  try {
    // Idle: after a warm-up that starts the broker threads once.
    await runBatch(32, ciDefault, ["/bin/true"]);
    await runBatch(8, brokered(secret), ["/bin/cat", secret]);
    await sleep(opts.settleMs);
    const heap = async () => {
      const m = (await client.status()).memory as
        | Record<string, number>
        | undefined;
      return { heap_total_mib: m?.heap_total, heap_used_mib: m?.heap_used };
    };
    const idle = rssOf(pid).rss_mib;
    rows.push({
      name: "daemon idle (after 40 warm-up runs)",
      rss_mib: idle,
      ...await heap(),
    });
    const row = async (name: string, note?: string) => {
      const rss = rssOf(pid).rss_mib;
      rows.push({
        name,
        rss_mib: rss,
        ratio_to_idle: rss / idle,
        ...await heap(),
        note,
      });
    };

    // 64 brokered runs at once, each waiting until all have started.
    const go = `${dir}/go`;
    const watcher = await connect(socket);
    const held = Array.from({ length: 64 }, () =>
      client.run({
        policy: brokered(secret),
        argv: [
          "/bin/sh",
          "-c",
          `cat ${secret} >/dev/null; while [ ! -e ${go} ]; do sleep 0.05; done`,
        ],
      }));
    let active = 0;
    for (let i = 0; i < 1200 && active < 64; i++) {
      active = ((await watcher.status()).active as unknown[]).length;
      if (active < 64) await sleep(50);
    }
    await row("daemon with 64 brokered runs in flight", `${active} active`);
    Deno.writeTextFileSync(go, "");
    await Promise.all(held);
    watcher.close();
    await sleep(opts.settleMs);
    await row("daemon after those 64 runs ended");

    await runBatch(opts.runs, ciDefault, ["/bin/true"]);
    await sleep(opts.settleMs);
    await row(
      `daemon after ${opts.runs} more runs (ci-default /bin/true, 16 in flight)`,
    );

    // Half a frame: a header that announces 64 header bytes and an empty
    // body, then 32 of those bytes, then close.
    const frame = new Uint8Array(8 + 32);
    new DataView(frame.buffer).setUint32(0, 64, true);
    frame.fill(0x20, 8);
    let sent = 0;
    await Promise.all(Array.from({ length: 32 }, async () => {
      while (sent++ < opts.halfFrames) {
        const conn = await Deno.connect({ transport: "unix", path: socket });
        try {
          await conn.write(frame);
        } catch {
          // the daemon may close first
        }
        conn.close();
      }
    }));
    await sleep(opts.settleMs);
    await row(
      `daemon after ${opts.halfFrames} clients sent half a frame and closed`,
    );
  } finally {
    client.close();
    Deno.removeSync(dir, { recursive: true });
  }
  return rows;
}

/**
 * Median peak RSS (MiB) of `argv` over `runs` runs: the largest process of
 * its tree, as GNU time's %M reports it.
 */
export function peakRss(argv: string[], runs: number): number | string {
  const peaks: number[] = [];
  for (let i = 0; i < runs; i++) {
    let out;
    try {
      out = new Deno.Command("/usr/bin/time", {
        args: ["-f", "%M", ...argv],
        stdout: "null",
        stderr: "piped",
      }).outputSync();
    } catch {
      return "skipped: /usr/bin/time is missing (apt-get install time)";
    }
    const last = new TextDecoder().decode(out.stderr).trim().split("\n").at(-1);
    if (!out.success) return `skipped: ${argv[0]} failed: ${last}`;
    peaks.push(Number(last) / 1024);
  }
  peaks.sort((a, b) => a - b);
  return peaks[Math.floor(peaks.length / 2)];
}

// `deno run -A bench/memory.ts [--runs N] [--half-frames N] [--settle-ms N]`:
// the daemon rows alone, for quick iteration (the 10,000-run row is slow).
if (import.meta.main) {
  const { startDaemon } = await import("./daemon.ts");
  const flag = (name: string, fallback: number) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
  };
  const root = new URL("../", import.meta.url).pathname;
  const ciDefault = Deno.readTextFileSync(`${root}policies/ci-default.toml`);
  const settleMs = flag("settle-ms", 3000);
  const daemon = await startDaemon();
  try {
    await sleep(settleMs);
    console.log(
      `daemon just started: ${rssOf(daemon.pid).rss_mib.toFixed(2)} MiB`,
    );
    const rows = await daemonMemory(daemon.socket, daemon.pid, ciDefault, {
      runs: flag("runs", 10000),
      halfFrames: flag("half-frames", 1000),
      settleMs,
    });
    for (const r of rows) {
      console.log(
        `${r.name}: ${r.rss_mib.toFixed(2)} MiB${
          r.ratio_to_idle ? ` (${r.ratio_to_idle.toFixed(2)}x idle)` : ""
        }; V8 heap ${r.heap_used_mib} used of ${r.heap_total_mib}${
          r.note ? `, ${r.note}` : ""
        }`,
      );
    }
  } finally {
    await daemon.stop();
  }
}
