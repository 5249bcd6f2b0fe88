/**
 * The library API (`mod.ts`) against another checkout of landlockd, and
 * against bubblewrap, in alternating blocks under one load: each side has
 * its own daemon (started from its own checkout) and its own client (that
 * checkout's `mod.ts`), and blocks of `--block` sequential runs of
 * ci-default `/bin/true` take turns, `--rounds` times. A machine that slows
 * down half-way slows every side alike, so the ratios hold where single
 * numbers do not.
 *
 * Per block it also records the daemon's CPU time per run (utime+stime of
 * the daemon, and of the commands it reaped; 10 ms clock ticks, so only the
 * averages over many runs mean anything).
 *
 * `deno run -A bench/libapi_ab.ts [--baseline DIR]... [--rounds N]
 * [--block N] [--in-flight N] [--concurrent N] [--bwrap] [--bare]
 * [--out FILE]` (a baseline
 * is a checkout with its C library built; --bwrap and --bare add hyperfine
 * blocks of bubblewrap and of bare `/bin/true` to every round). Prints a
 * table and, with --out, writes the JSON.
 *
 * @module
 */

import { parseArgs } from "node:util";

const ROOT = new URL("../", import.meta.url).pathname;

interface Side {
  name: string;
  root: string;
  socket: string;
  pid: number;
  proc: Deno.ChildProcess;
  dir: string;
  // deno-lint-ignore no-explicit-any
  client: any;
  policy: string;
  times: number[];
  cpuDaemon: number;
  cpuCommands: number;
  concurrent: number[];
}

/** utime+stime and cutime+cstime of `pid`, in ms. */
function cpuOf(pid: number): [number, number] {
  const stat = Deno.readTextFileSync(`/proc/${pid}/stat`);
  const f = stat.slice(stat.lastIndexOf(")") + 2).split(" ").map(Number);
  return [(f[11] + f[12]) * 10, (f[13] + f[14]) * 10];
}

async function start(
  name: string,
  root: string,
  policyFile?: string,
): Promise<Side> {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-ab-" });
  Deno.chmodSync(dir, 0o700);
  const socket = `${dir}/landlockd.sock`;
  const proc = new Deno.Command(Deno.execPath(), {
    args: ["run", "-A", `${root}/main.ts`, "serve", "--socket", socket],
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
  const mod = await import(`file://${root}/mod.ts`);
  const client = await mod.connect(socket);
  return {
    name,
    root,
    socket,
    pid: proc.pid,
    proc,
    dir,
    client,
    policy: Deno.readTextFileSync(
      policyFile ?? `${root}/policies/ci-default.toml`,
    ),
    times: [],
    cpuDaemon: 0,
    cpuCommands: 0,
    concurrent: [],
  };
}

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)];
};
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;

if (import.meta.main) {
  const { values } = parseArgs({
    args: Deno.args,
    options: {
      baseline: { type: "string", multiple: true },
      rounds: { type: "string", default: "10" },
      block: { type: "string", default: "50" },
      "in-flight": { type: "string", default: "0" },
      // Runs per block with --in-flight at once (default: 2 × --block).
      concurrent: { type: "string" },
      bwrap: { type: "boolean", default: false },
      bare: { type: "boolean", default: false },
      out: { type: "string" },
      // Default: each checkout's own policies/ci-default.toml.
      policy: { type: "string" },
    },
  });
  const rounds = Number(values.rounds);
  const block = Number(values.block);
  const inFlight = Number(values["in-flight"]);
  const argv = ["/bin/true"];
  const sides: Side[] = [
    await start("this checkout", ROOT.replace(/\/$/, ""), values.policy),
  ];
  for (const [i, dir] of (values.baseline ?? []).entries()) {
    sides.push(await start(`baseline ${i + 1}`, dir, values.policy));
  }
  const once = async (s: Side) => {
    const r = await s.client.run({ policy: s.policy, argv });
    if (r.code !== 0) throw new Error(`${s.name}: /bin/true exited ${r.code}`);
  };
  for (const s of sides) for (let i = 0; i < 20; i++) await once(s);
  // Blocks of hyperfine runs between the library API blocks.
  const tools: [boolean | undefined, string, string][] = [
    [
      values.bwrap,
      "bwrap",
      // As bench.ts runs it.
      "bwrap --ro-bind / / --dev /dev --bind /tmp /tmp /bin/true",
    ],
    [values.bare, "bare", "/bin/true"],
  ];
  const hyper: Record<string, { means: number[]; medians: number[] }> = {};
  const bwDir = Deno.makeTempDirSync({ prefix: "landlockd-ab-bwrap-" });
  for (let round = 0; round < rounds; round++) {
    // Alternate the order too, so neither side always follows the other.
    const order = round % 2 ? [...sides].reverse() : sides;
    for (const s of order) {
      const [d0, c0] = cpuOf(s.pid);
      for (let i = 0; i < block; i++) {
        const t = performance.now();
        await once(s);
        s.times.push(performance.now() - t);
      }
      const [d1, c1] = cpuOf(s.pid);
      s.cpuDaemon += d1 - d0;
      s.cpuCommands += c1 - c0;
      if (inFlight > 1) {
        const total = Number(values.concurrent ?? block * 2);
        let next = 0;
        const t0 = performance.now();
        await Promise.all(Array.from({ length: inFlight }, async () => {
          while (next++ < total) await once(s);
        }));
        s.concurrent.push(total / ((performance.now() - t0) / 1000));
      }
    }
    for (const [on, name, cmd] of tools) {
      if (!on) continue;
      const out = `${bwDir}/${name}-${round}.json`;
      const hf = await new Deno.Command("hyperfine", {
        args: [
          "-N",
          "--warmup",
          "3",
          "--runs",
          String(block),
          "--export-json",
          out,
          cmd,
        ],
        stdout: "null",
        stderr: "null",
      }).output();
      if (!hf.success) throw new Error(`hyperfine failed for ${cmd}`);
      const r = JSON.parse(Deno.readTextFileSync(out)).results[0];
      (hyper[name] ??= { means: [], medians: [] }).means.push(r.mean * 1000);
      hyper[name].medians.push(r.median * 1000);
    }
  }
  Deno.removeSync(bwDir, { recursive: true });
  const n = rounds * block;
  const rows = sides.map((s) => ({
    name: s.name,
    root: s.root,
    commit: new TextDecoder().decode(
      new Deno.Command("git", {
        args: ["-C", s.root, "rev-parse", "--short", "HEAD"],
      }).outputSync().stdout,
    ).trim(),
    runs: n,
    mean_ms: mean(s.times),
    median_ms: median(s.times),
    p95_ms: [...s.times].sort((a, b) => a - b)[Math.floor(n * 0.95)],
    cpu_ms_per_run: { daemon: s.cpuDaemon / n, commands: s.cpuCommands / n },
    ...(s.concurrent.length
      ? { in_flight: inFlight, concurrent_runs_per_s: median(s.concurrent) }
      : {}),
  }));
  for (const s of sides) {
    s.client.close();
    s.proc.kill("SIGTERM");
    await s.proc.status;
    Deno.removeSync(s.dir, { recursive: true });
  }
  const bw = hyper.bwrap ? mean(hyper.bwrap.means) : undefined;
  const bare = hyper.bare ? mean(hyper.bare.medians) : undefined;
  const load = Deno.readTextFileSync("/proc/loadavg").split(" ").slice(0, 3);
  const result = {
    date: new Date().toISOString(),
    load_average: load.map(Number),
    rounds,
    block,
    ...(inFlight > 1
      ? { in_flight_runs_per_block: Number(values.concurrent ?? block * 2) }
      : {}),
    rows,
    // hyperfine, `block` runs per round: mean of the rounds' means/medians.
    hyperfine: Object.fromEntries(
      Object.entries(hyper).map(([k, v]) => [k, {
        mean_ms: mean(v.means),
        median_ms: mean(v.medians),
      }]),
    ),
    // This checkout's median over each baseline's.
    median_ratios: rows.slice(1).map((r) => rows[0].median_ms / r.median_ms),
  };
  console.log(
    `| side | commit | runs | mean ms | median ms | p95 ms | daemon CPU ms/run | commands CPU ms/run |${
      inFlight > 1 ? ` runs/s at ${inFlight} in flight |` : ""
    }${bw ? " mean × bwrap mean |" : ""}${
      bare ? " median × bare median |" : ""
    }`,
  );
  for (const r of rows) {
    console.log(
      `| ${r.name} | ${r.commit} | ${r.runs} | ${r.mean_ms.toFixed(2)} | ${
        r.median_ms.toFixed(2)
      } | ${r.p95_ms.toFixed(2)} | ${r.cpu_ms_per_run.daemon.toFixed(2)} | ${
        r.cpu_ms_per_run.commands.toFixed(2)
      } |${
        r.concurrent_runs_per_s
          ? ` ${r.concurrent_runs_per_s.toFixed(0)} |`
          : ""
      }${bw ? ` ${(r.mean_ms / bw).toFixed(2)} |` : ""}${
        bare ? ` ${(r.median_ms / bare).toFixed(2)} |` : ""
      }`,
    );
  }
  for (const [k, v] of Object.entries(result.hyperfine)) {
    console.log(
      `${k} /bin/true (hyperfine): mean ${v.mean_ms.toFixed(2)} ms, median ${
        v.median_ms.toFixed(2)
      } ms`,
    );
  }
  result.median_ratios.forEach((x, i) =>
    console.log(`median ratio this / baseline ${i + 1}: ${x.toFixed(3)}`)
  );
  console.log(`load average ${load.join(" ")}`);
  if (values.out) {
    Deno.writeTextFileSync(values.out, JSON.stringify(result, null, 2) + "\n");
  }
}
