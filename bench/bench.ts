/**
 * `deno task bench`: start-up cost of landlockd against the bare command,
 * bubblewrap and firejail, all timed by hyperfine in one run (a direct run,
 * and `run --socket` through a daemon); the daemon's library API over one
 * connection; then the broker's cost on a dynamic program, and its round
 * trip per call (opens, mounts, and a UDP connect and sendto under
 * `[net] udp = "dns"`).
 *
 * Prints a Markdown table (mean, median, p95, ratio to the bare command)
 * and writes the raw numbers to bench/results/. A missing tool is reported
 * as skipped with the command that installs it.
 *
 * Start-up rows also report CPU time (user + system, from hyperfine), which
 * a loaded machine disturbs less than wall-clock time. Memory rows: the
 * daemon's RSS under load (bench/memory.ts), the peak RSS of one direct run
 * beside bubblewrap's and firejail's, and the compiled binary's start-up
 * where `deno compile` can build it.
 *
 * The egress proxy (`[net] allow_hosts`, bench/egress.ts): a 100 MB
 * download through it against a direct one, and the latency it adds to a
 * small CONNECT round trip.
 *
 * The floors (bench/floors.ts): for each start-up target of issue 17, the
 * least this design can do, in the same run: a Deno program that only
 * makes ci-default's rulesets and spawns through the C library, a minimal
 * `run --socket` client, and the library API's floors (the same spawn in a
 * loop in one Deno process, and in C with and without the restriction).
 *
 * Options: --runs N (default 100), --warmup N (default 10),
 * --daemon-runs N (default 10000), --half-frames N (default 1000),
 * --egress-runs N (default 10), --only floors (the floors and the rows
 * they bound: /bin/true start-up rows, the library API; no broker, memory,
 * compiled binary or egress).
 *
 * @module
 */

import { interleaved, startDaemon, timeApi } from "./daemon.ts";
import { daemonMemory, type MemoryRow, peakRss, rssOf } from "./memory.ts";
import { compiledRow } from "./compiled.ts";
import { egressBench, egressTable } from "./egress.ts";
import {
  alternatingFloors,
  cleanFloors,
  interleaved as interleavedStartup,
  prepareFloors,
  startupFloorCommands,
} from "./floors.ts";

const ROOT = new URL("../", import.meta.url).pathname;
const DENO = Deno.execPath();
const LANDLOCKD = `${DENO} run --allow-all ${ROOT}main.ts`;

function flag(name: string, fallback: number): number {
  const i = Deno.args.indexOf(`--${name}`);
  return i >= 0 ? Number(Deno.args[i + 1]) : fallback;
}
const RUNS = flag("runs", 100);
const WARMUP = flag("warmup", 10);
const DAEMON_RUNS = flag("daemon-runs", 10000);
const LOADAVG_START = Deno.loadavg();
const HALF_FRAMES = flag("half-frames", 1000);
const EGRESS_RUNS = flag("egress-runs", 10);
const onlyAt = Deno.args.indexOf("--only");
const ONLY = onlyAt >= 0 ? Deno.args[onlyAt + 1] : undefined;
if (ONLY !== undefined && ONLY !== "floors") {
  console.error(`bench: --only takes "floors", not ${JSON.stringify(ONLY)}`);
  Deno.exit(2);
}
/** `--only floors`: the floors and the rows they are compared with. */
const FLOORS_ONLY = ONLY === "floors";

function which(tool: string): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "").split(":")) {
    try {
      const path = `${dir}/${tool}`;
      if (Deno.statSync(path).isFile) return path;
    } catch {
      // not here
    }
  }
  return undefined;
}

function version(cmd: string, args: string[]): string {
  try {
    const out = new Deno.Command(cmd, { args, stderr: "piped" }).outputSync();
    const dec = new TextDecoder();
    return (dec.decode(out.stdout) + dec.decode(out.stderr)).split("\n")[0]
      .trim();
  } catch {
    return "?";
  }
}

interface Row {
  name: string;
  /** Which bare row this is compared with. */
  baseline: string;
  command?: string;
  skipped?: string;
}

const empty = `${
  Deno.makeTempDirSync({ prefix: "landlockd-bench-" })
}/empty.ts`;
Deno.writeTextFileSync(empty, "");

const BWRAP = "bwrap --ro-bind / / --dev /dev --bind /tmp /tmp";
const FIREJAIL = "firejail --quiet --noprofile --read-only=/ --read-write=/tmp";
const tools = {
  bwrap: which("bwrap"),
  firejail: which("firejail"),
};
/** A peer's row, or a skipped one that says how to install the tool. */
function peer(
  tool: "bubblewrap" | "firejail",
  installed: string | undefined,
  prefix: string,
  label: string,
  cmd: string,
  baseline: string,
): Row {
  const name = `${tool} ${label}`;
  return installed
    ? { name, baseline, command: `${prefix} ${cmd}` }
    : { name, baseline, skipped: `not installed: apt-get install ${tool}` };
}

const daemon = await startDaemon();
const floors = await prepareFloors(ROOT, "ci-default", ["/bin/true"]);
const rows: Row[] = [];
for (
  const [label, cmd] of [["/bin/true", "/bin/true"], [
    "sh -c true",
    "/bin/sh -c true",
  ]].slice(0, FLOORS_ONLY ? 1 : 2) as [string, string][]
) {
  const bare = `bare ${label}`;
  rows.push({ name: bare, baseline: bare, command: cmd });
  rows.push({
    name: `landlockd run (ci-default) ${label}`,
    baseline: bare,
    command: `${LANDLOCKD} run --policy ci-default -- ${cmd}`,
  });
  rows.push({
    name: `landlockd run --socket (ci-default) ${label}`,
    baseline: bare,
    command:
      `${LANDLOCKD} run --socket ${daemon.socket} --policy ci-default -- ${cmd}`,
  });
  rows.push(peer("bubblewrap", tools.bwrap, BWRAP, label, cmd, bare));
  if (!FLOORS_ONLY) {
    rows.push(peer("firejail", tools.firejail, FIREJAIL, label, cmd, bare));
  }
}
rows.push({
  name: "deno run (empty script): the runtime's floor",
  baseline: "bare /bin/true",
  command: `${DENO} run ${empty}`,
});
rows.push({
  name: "deno FFI floor: load the trampoline, spawn /bin/true, no policy",
  baseline: "bare /bin/true",
  command: `${DENO} run --allow-all ${ROOT}bench/ffi_floor.ts /bin/true`,
});
const CHECKOUT_EMPTY_ROW =
  "deno run (empty script in the checkout: its deno.json, deno.lock)";
const SANDBOX_FLOOR =
  "Deno minimal sandbox: dlopen, ci-default's rulesets + seccomp, ll_spawn /bin/true, wait";
const SOCKET_FLOOR =
  "run --socket floor: connect, precomputed run frame + stdio fds, exit frame";
const floorCmds = startupFloorCommands(ROOT, floors, daemon.socket);
rows.push(
  {
    name: CHECKOUT_EMPTY_ROW,
    baseline: "bare /bin/true",
    command: `${DENO} run ${ROOT}bench/floor_empty.ts`,
  },
  {
    name: SANDBOX_FLOOR,
    baseline: "bare /bin/true",
    command: floorCmds.sandbox,
    skipped: floorCmds.skipped,
  },
  {
    name: SOCKET_FLOOR,
    baseline: "bare /bin/true",
    command: floorCmds.socket,
    skipped: floorCmds.skipped,
  },
);

if (!which("hyperfine")) {
  console.error("bench: hyperfine is needed: apt-get install hyperfine");
  Deno.exit(1);
}

// Warm Deno's module cache once.
new Deno.Command(DENO, {
  args: [
    "run",
    "-A",
    `${ROOT}main.ts`,
    "run",
    "--policy",
    "ci-default",
    "--",
    "/bin/true",
  ],
}).outputSync();

const runnable = rows.filter((r) => r.command);
const jsonOut = `${Deno.makeTempDirSync()}/hyperfine.json`;
const hf = new Deno.Command("hyperfine", {
  args: [
    "--shell=none",
    "--runs",
    String(RUNS),
    "--warmup",
    String(WARMUP),
    "--style",
    "none",
    "--export-json",
    jsonOut,
    ...runnable.flatMap((r) => ["--command-name", r.name, r.command!]),
  ],
  stdout: "inherit",
  stderr: "inherit",
}).outputSync();
if (!hf.success) Deno.exit(hf.code || 1);

interface HyperfineResult {
  command: string;
  times: number[];
  exit_codes: number[];
  /** Mean user and system CPU time, seconds. */
  user: number;
  system: number;
}
const results: HyperfineResult[] =
  JSON.parse(Deno.readTextFileSync(jsonOut)).results;

function stats(times: number[]) {
  const ms = times.map((t) => t * 1000).sort((a, b) => a - b);
  const at = (q: number) =>
    ms[Math.min(ms.length - 1, Math.floor(q * ms.length))];
  return {
    mean: ms.reduce((a, b) => a + b, 0) / ms.length,
    median: at(0.5),
    p95: at(0.95),
  };
}

const byName = new Map(results.map((r) => [r.command, stats(r.times)]));
const cpuMs = new Map(
  results.map((r) => [r.command, (r.user + r.system) * 1000]),
);
const table = rows.map((r) => {
  const s = byName.get(r.name);
  const base = byName.get(r.baseline);
  return {
    name: r.name,
    command: r.command,
    skipped: r.skipped,
    mean_ms: s?.mean,
    median_ms: s?.median,
    p95_ms: s?.p95,
    cpu_ms: cpuMs.get(r.name),
    ratio_to_bare: s && base ? s.mean / base.mean : undefined,
  };
});

const machine = {
  date: new Date().toISOString(),
  kernel: Deno.osRelease(),
  cpus: navigator.hardwareConcurrency,
  deno: Deno.version.deno,
  hyperfine: version("hyperfine", ["--version"]),
  bubblewrap: tools.bwrap ? version("bwrap", ["--version"]) : "not installed",
  firejail: tools.firejail
    ? version("firejail", ["--version"])
    : "not installed",
  runs: RUNS,
  command: ["deno", "task", "bench", ...Deno.args].join(" "),
  /** 1, 5 and 15 minute load averages when the bench started. */
  loadavg_start: LOADAVG_START,
};

const fmt = (n?: number) => n === undefined ? "–" : n.toFixed(2);
console.log(
  `\nMachine: Linux ${machine.kernel}, ${machine.cpus} CPUs, Deno ${machine.deno}, ${machine.hyperfine}, ${machine.bubblewrap}, ${machine.firejail}; ${RUNS} runs each.\n`,
);
console.log(
  "| command | mean ms | median ms | p95 ms | CPU ms (user+sys) | × bare |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
for (const r of table) {
  if (r.skipped) {
    console.log(`| ${r.name} | skipped: ${r.skipped} | | | | |`);
  } else {
    console.log(
      `| ${r.name} | ${fmt(r.mean_ms)} | ${fmt(r.median_ms)} | ${
        fmt(r.p95_ms)
      } | ${fmt(r.cpu_ms)} | ${fmt(r.ratio_to_bare)} |`,
    );
  }
}
const floor = byName.get("deno run (empty script): the runtime's floor");
const ours = byName.get("landlockd run (ci-default) /bin/true");
const ffiFloor = byName.get(
  "deno FFI floor: load the trampoline, spawn /bin/true, no policy",
);
if (floor && ours && ffiFloor) {
  console.log(
    `\nlandlockd run /bin/true − deno empty-script floor: ${
      fmt(ours.mean - floor.mean)
    } ms (target ≤ 8 ms); of which the FFI floor alone: ${
      fmt(ffiFloor.mean - floor.mean)
    } ms`,
  );
  const cpu = (name: string) => cpuMs.get(name) ?? NaN;
  console.log(
    `CPU time, same rows: ${
      fmt(
        cpu("landlockd run (ci-default) /bin/true") -
          cpu("deno run (empty script): the runtime's floor"),
      )
    } ms over the floor`,
  );
}
// The start-up floors again, run by run in rotating order: hyperfine times
// one row after another, and the machine drifts more between rows than
// the floors differ.
const EMPTY_ROW = "deno run (empty script): the runtime's floor";
const FFI_ROW =
  "deno FFI floor: load the trampoline, spawn /bin/true, no policy";
const DIRECT_ROW = "landlockd run (ci-default) /bin/true";
const REMOTE_ROW = "landlockd run --socket (ci-default) /bin/true";
const startupFloors = floorCmds.skipped ? undefined : interleavedStartup(
  [
    EMPTY_ROW,
    CHECKOUT_EMPTY_ROW,
    FFI_ROW,
    SANDBOX_FLOOR,
    DIRECT_ROW,
    SOCKET_FLOOR,
    REMOTE_ROW,
  ].map((name) => ({
    name,
    command: rows.find((r) => r.name === name)!.command!,
  })),
  RUNS,
  WARMUP,
);
if (startupFloors) {
  const at = (name: string) =>
    startupFloors.find((a) => a.name === name)!.median_ms;
  console.log(
    `\n| interleaved, ${RUNS} rounds, order rotating | median ms | mean ms | p95 ms | median − deno empty script |`,
  );
  console.log("| --- | ---: | ---: | ---: | ---: |");
  for (const a of startupFloors) {
    console.log(
      `| ${a.name} | ${fmt(a.median_ms)} | ${fmt(a.mean_ms)} | ${
        fmt(a.p95_ms)
      } | ${fmt(a.median_ms - at(EMPTY_ROW))} |`,
    );
  }
  console.log(
    `\nlandlockd run: ${
      fmt(at(DIRECT_ROW) - at(EMPTY_ROW))
    } ms over the empty script (target ≤ 8), ${
      fmt(at(DIRECT_ROW) - at(SANDBOX_FLOOR))
    } ms over the Deno minimal sandbox (its floor: ${
      fmt(at(SANDBOX_FLOOR) - at(EMPTY_ROW))
    } ms over the empty script)`,
  );
  console.log(
    `landlockd run --socket: ${
      fmt(at(REMOTE_ROW) - at(EMPTY_ROW))
    } ms over the empty script (target ≤ 5), ${
      fmt(at(REMOTE_ROW) - at(SOCKET_FLOOR))
    } ms over the run --socket floor (its floor: ${
      fmt(at(SOCKET_FLOOR) - at(EMPTY_ROW))
    } ms over the empty script)`,
  );
}

// --- The daemon's library API ---------------------------------------------
// One persistent connection, as an agent tool or test runner would use it.
const ciDefault = Deno.readTextFileSync(`${ROOT}policies/ci-default.toml`);
const api = await timeApi(
  daemon.socket,
  ciDefault,
  ["/bin/true"],
  RUNS * 5,
  16,
  daemon.pid,
);
// The same comparison in alternating blocks, so drift hits both sides.
const pair = tools.bwrap
  ? await interleaved(
    daemon.socket,
    ciDefault,
    ["/bin/true"],
    BWRAP,
    6,
    Math.max(20, RUNS / 2),
  )
  : undefined;
const bwrapTrue = byName.get("bubblewrap /bin/true");
console.log(
  "\n| library API, ci-default, /bin/true | mean ms | median ms | p95 ms | runs/s | × bubblewrap /bin/true (mean) |",
);
console.log("| --- | ---: | ---: | ---: | ---: | ---: |");
console.log(
  `| one at a time (${api.runs} runs) | ${fmt(api.mean_ms)} | ${
    fmt(api.median_ms)
  } | ${fmt(api.p95_ms)} | ${api.runs_per_s.toFixed(0)} | ${
    bwrapTrue ? fmt(api.mean_ms / bwrapTrue.mean) : "–"
  } |`,
);
console.log(
  `| ${api.in_flight} in flight (${api.runs * 4} runs) | | | | ${
    api.concurrent_runs_per_s.toFixed(0)
  } | |`,
);
if (api.cpu_ms_per_run) {
  const c = api.cpu_ms_per_run;
  console.log(
    `\nlibrary API CPU per run (one at a time): daemon ${
      fmt(c.daemon)
    } ms, the commands it reaped ${fmt(c.commands)} ms, client ${
      fmt(c.client)
    } ms (clock ticks of 10 ms: averages over ${api.runs} runs)`,
  );
}
if (pair) {
  console.log(
    `\nlibrary API per-run latency ÷ bubblewrap /bin/true, in ${pair.rounds} alternating blocks: ${
      fmt(pair.api_mean_ms)
    } ms ÷ ${fmt(pair.bwrap_mean_ms)} ms = ${
      fmt(pair.api_mean_ms / pair.bwrap_mean_ms)
    } (target ≤ 0.33)`,
  );
}

// The library API's floors: the same spawn with no daemon and no protocol,
// from Deno and from C, and the C loop's runs/s with as many in flight.
// In alternating blocks with the library API, so drift hits all alike.
const FLOOR_ROUNDS = 6;
const libFloors = await alternatingFloors(
  ROOT,
  floors,
  FLOOR_ROUNDS,
  Math.max(20, RUNS),
  api.in_flight,
  () =>
    timeApi(
      daemon.socket,
      ciDefault,
      ["/bin/true"],
      Math.max(20, RUNS),
      api.in_flight,
    ),
);
console.log(
  `\n| library API and its floors, ci-default, /bin/true, ${FLOOR_ROUNDS} alternating blocks of ${libFloors.per_round} runs (×4 in flight) | median ms | mean ms | runs/s |`,
);
console.log("| --- | ---: | ---: | ---: |");
for (const f of libFloors.arms) {
  console.log(
    f.skipped ? `| ${f.name} | skipped: ${f.skipped} | | |` : f.in_flight > 1 // per-run latency under load: in the JSON only
      ? `| ${f.name} | – | – | ${f.runs_per_s?.toFixed(0)} |`
      : `| ${f.name} | ${fmt(f.median_ms)} | ${fmt(f.mean_ms)} | ${
        f.runs_per_s?.toFixed(0) ?? "–"
      } |`,
  );
}
const [apiAlt, apiFlight, denoLoop, cLoop, cBare, cFlight] = libFloors.arms;
if (!denoLoop.skipped && !cLoop.skipped && !cBare.skipped) {
  console.log(
    `\nlibrary API median ${fmt(apiAlt.median_ms)} ms (target ≤ 1.2): ${
      fmt(apiAlt.median_ms! - denoLoop.median_ms!)
    } ms over the Deno loop, which is ${
      fmt(denoLoop.median_ms! - cLoop.median_ms!)
    } ms over the C loop, itself ${
      fmt(cLoop.median_ms! - cBare.median_ms!)
    } ms (the restriction) over bare vfork + exec`,
  );
  if (pair) {
    console.log(
      `the floors' means ÷ bubblewrap's mean of the API's alternating blocks above (target ≤ 0.33): Deno loop ${
        fmt(denoLoop.mean_ms! / pair.bwrap_mean_ms)
      }, C loop ${fmt(cLoop.mean_ms! / pair.bwrap_mean_ms)}`,
    );
  }
}
if (!cFlight.skipped) {
  console.log(
    `${api.in_flight} in flight: library API ${
      apiFlight.runs_per_s!.toFixed(0)
    } runs/s (target ≥ 1,500), the C loop under the same restriction ${
      cFlight.runs_per_s!.toFixed(0)
    } runs/s`,
  );
}
const daemonApi = {
  ...api,
  ratio_to_bubblewrap_true: bwrapTrue
    ? api.mean_ms / bwrapTrue.mean
    : undefined,
  interleaved: pair
    ? { ...pair, ratio: pair.api_mean_ms / pair.bwrap_mean_ms }
    : undefined,
};
const floorResults = {
  note:
    "startup: the floors' rows of hyperfine's table (also in rows); startup_interleaved: the floors and the rows they bound, run by run in rotating order (wall-clock ms per process); library: the library API and its floors in alternating blocks (medians of the blocks' medians, means of their means, medians of their runs/s); the Deno loop and the C loop make the rulesets of the daemon's plan of ci-default (its signal scope added) per run, as the daemon does",
  startup: table.filter((t) =>
    [CHECKOUT_EMPTY_ROW, SANDBOX_FLOOR, SOCKET_FLOOR].includes(t.name)
  ),
  startup_interleaved: startupFloors
    ? { rounds: RUNS, warmup_rounds: WARMUP, arms: startupFloors }
    : { skipped: floorCmds.skipped },
  library: libFloors,
};
cleanFloors(floors);

/** Writes the raw numbers to bench/results/; returns the file's path. */
function writeResults(rest: Record<string, unknown>): string {
  Deno.mkdirSync(`${ROOT}bench/results`, { recursive: true });
  const file = `${ROOT}bench/results/bench-${
    machine.date.replace(/[:.]/g, "-")
  }.json`;
  Deno.writeTextFileSync(
    file,
    JSON.stringify(
      {
        machine: { ...machine, loadavg_end: Deno.loadavg() },
        rows: table,
        daemon_api: daemonApi,
        floors: floorResults,
        ...rest,
      },
      null,
      2,
    ) + "\n",
  );
  return file;
}
if (FLOORS_ONLY) {
  await daemon.stop();
  console.log(`\nRaw numbers: ${writeResults({ only: "floors" })}`);
  Deno.removeSync(new URL(".", `file://${empty}`).pathname, {
    recursive: true,
  });
  Deno.exit(0);
}

// --- Memory ------------------------------------------------------------------
await daemon.stop();
// A fresh daemon, so "idle" is not what the runs above left behind.
const memDaemon = await startDaemon();
await new Promise((r) => setTimeout(r, 3000));
const fresh = rssOf(memDaemon.pid).rss_mib;
const memory: MemoryRow[] = [
  { name: "daemon just started, no run yet", rss_mib: fresh },
  ...await daemonMemory(
    memDaemon.socket,
    memDaemon.pid,
    ciDefault,
    { runs: DAEMON_RUNS, halfFrames: HALF_FRAMES, settleMs: 3000 },
  ),
];
await memDaemon.stop();
const peakRuns = 11;
const peaks = [
  {
    name: "landlockd run (ci-default) /bin/true",
    argv: [
      DENO,
      "run",
      "-A",
      `${ROOT}main.ts`,
      "run",
      "--policy",
      "ci-default",
      "--",
      "/bin/true",
    ],
  },
  ...(tools.bwrap
    ? [{
      name: "bubblewrap /bin/true",
      argv: [...BWRAP.split(" "), "/bin/true"],
    }]
    : []),
  ...(tools.firejail
    ? [{
      name: "firejail /bin/true",
      argv: [...FIREJAIL.split(" "), "/bin/true"],
    }]
    : []),
].map((p) => ({ ...p, peak: peakRss(p.argv, peakRuns) }));
const compiled = compiledRow(ROOT, RUNS, WARMUP);

// --- The broker --------------------------------------------------------
// Python's imports make ~75 openat calls, all undeclared: the broker must
// cost (almost) nothing for them. Same policy with and without [broker].
const work = Deno.makeTempDirSync({ prefix: "landlockd-bench-broker-" });
for (const d of ["scratch", "export"]) Deno.mkdirSync(`${work}/${d}`);
Deno.writeTextFileSync(`${work}/read-me`, "x\n");
Deno.writeTextFileSync(`${work}/write-me`, "");
const python = ["/usr/bin/python3", "/usr/local/bin/python3"].find((p) => {
  try {
    return Deno.statSync(p).isFile;
  } catch {
    return false;
  }
}) ?? "python3";
const fsLayer = `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg", "make_dir", "remove_file"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
`;
const withBroker = `${work}/with-broker.toml`;
const withoutBroker = `${work}/without-broker.toml`;
Deno.writeTextFileSync(withoutBroker, fsLayer);
Deno.writeTextFileSync(
  withBroker,
  `${fsLayer}
[broker]
allow_read = ["${work}/read-me"]
allow_write = ["${work}/write-me"]
scratch = ["${work}/scratch"]
export = ["${work}/export"]
`,
);
const importCmd = `${python} -c 'import json, ssl, pathlib'`;
// Twenty imports in one sandbox take landlockd's own start-up out of the
// comparison and leave what the broker adds per notification.
const loopCmd =
  `sh -c 'for i in 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16 17 18 19 20; do ${
    importCmd.replaceAll("'", '"')
  }; done'`;
const brokerRows = [
  { name: "bare python3 import json, ssl, pathlib", command: importCmd },
  {
    name: "landlockd, policy without [broker]",
    command: `${LANDLOCKD} run --policy-file ${withoutBroker} -- ${importCmd}`,
  },
  {
    name: "landlockd, same policy with [broker]",
    command: `${LANDLOCKD} run --policy-file ${withBroker} -- ${importCmd}`,
  },
  {
    name: "20 imports in one sandbox, without [broker]",
    command: `${LANDLOCKD} run --policy-file ${withoutBroker} -- ${loopCmd}`,
  },
  {
    name: "20 imports in one sandbox, with [broker]",
    command: `${LANDLOCKD} run --policy-file ${withBroker} -- ${loopCmd}`,
  },
  // run --explain: every file and port call goes through the observer.
  {
    name: "landlockd, policy without [broker], --explain",
    command:
      `${LANDLOCKD} run --explain --policy-file ${withoutBroker} -- ${importCmd}`,
  },
  {
    name: "20 imports in one sandbox, without [broker], --explain",
    command:
      `${LANDLOCKD} run --explain --policy-file ${withoutBroker} -- ${loopCmd}`,
  },
];
/** The row each row's median is compared with. */
const brokerBase = (i: number) => brokerRows[i < 3 || i === 5 ? 1 : 3].name;
const brokerJson = `${Deno.makeTempDirSync()}/broker.json`;
const hf2 = new Deno.Command("hyperfine", {
  args: [
    "--runs",
    String(Math.max(10, Math.floor(RUNS / 2))),
    "--warmup",
    String(WARMUP),
    "--style",
    "none",
    "--export-json",
    brokerJson,
    ...brokerRows.flatMap((r) => ["--command-name", r.name, r.command]),
  ],
  stdout: "inherit",
  stderr: "inherit",
}).outputSync();
if (!hf2.success) Deno.exit(hf2.code || 1);
const brokerStats = new Map(
  (JSON.parse(Deno.readTextFileSync(brokerJson)).results as HyperfineResult[])
    .map((r) => [r.command, stats(r.times)]),
);

// Round trips, timed inside one process: N opens or creates in a row.
const N = 2000;
const timing = (argv: string[]) => {
  const out = new Deno.Command(argv[0], {
    args: argv.slice(1),
    stdout: "piped",
    stderr: "piped",
  })
    .outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const result: Record<string, { median_us: number; p95_us: number }> = {};
  for (
    const m of text.matchAll(
      /^time (\w+): median_us=([\d.]+) p95_us=([\d.]+)/gm,
    )
  ) {
    result[m[1]] = { median_us: Number(m[2]), p95_us: Number(m[3]) };
  }
  return result;
};
const probe = `${ROOT}ffi/build/probe`;
const ops = (dir: string) => [
  ...["time", "read", `${work}/read-me`, String(N)],
  ...["time", "write", `${work}/write-me`, String(N)],
  ...["time", "create", dir, String(N)],
];
Deno.mkdirSync(`${work}/bare-creates`);
const bareCalls = timing([probe, ...ops(`${work}/bare-creates`)]);

// Brokered mounts: a tmpfs mount + umount pair, through the mount helper.
Deno.mkdirSync(`${work}/mnt`);
const withMounts = `${work}/with-mounts.toml`;
Deno.writeTextFileSync(
  withMounts,
  `${fsLayer}
[broker]
mount_tmpfs = ["${work}/mnt"]
`,
);
const mountN = String(Math.floor(N / 4));
const brokeredMounts = timing([
  DENO,
  "run",
  "--allow-all",
  `${ROOT}main.ts`,
  "run",
  "--policy-file",
  withMounts,
  "--",
  probe,
  ...["time-mount", `${work}/mnt`, mountN],
]);
// Unsandboxed, only root may mount.
const bareMounts = Deno.uid() === 0
  ? timing([probe, "time-mount", `${work}/mnt`, mountN])
  : {};
const brokeredCalls = timing([
  DENO,
  "run",
  "--allow-all",
  `${ROOT}main.ts`,
  "run",
  "--policy-file",
  withBroker,
  "--",
  probe,
  ...ops(`${work}/scratch`),
]);

// [net] udp = "dns": a UDP connect and a sendto to the nameserver, each
// checked and performed by the broker; the sandbox's resolv.conf names
// 127.0.0.1 (bound onto /etc/resolv.conf), the same address unsandboxed.
Deno.writeTextFileSync(`${work}/resolv.conf`, "nameserver 127.0.0.1\n");
const withUdpDns = `${work}/with-udp-dns.toml`;
Deno.writeTextFileSync(
  withUdpDns,
  `${fsLayer}
[net]
handled_access_net = ["bind_tcp"]
udp = "dns"
[mount]
bind = [{ source = "${work}/resolv.conf", target = "/etc/resolv.conf", read_only = true }]
`,
);
const bareUdp = timing([probe, "time-udp", "127.0.0.1", String(N)]);
const brokeredUdp = timing([
  DENO,
  "run",
  "--allow-all",
  `${ROOT}main.ts`,
  "run",
  "--policy-file",
  withUdpDns,
  "--",
  probe,
  ...["time-udp", "127.0.0.1", String(N)],
]);

console.log(
  "\n| python3 -c 'import json, ssl, pathlib' | mean ms | median ms | p95 ms | median × without broker or --explain |",
);
console.log("| --- | ---: | ---: | ---: | ---: |");
brokerRows.forEach((r, i) => {
  const st = brokerStats.get(r.name)!;
  const base = brokerStats.get(brokerBase(i))!;
  console.log(
    `| ${r.name} | ${fmt(st.mean)} | ${fmt(st.median)} | ${fmt(st.p95)} | ${
      i === 0 ? "–" : fmt(st.median / base.median)
    } |`,
  );
});
console.log(
  `\n| call, ${N} in one process | unsandboxed median µs | brokered median µs | brokered p95 µs |`,
);
console.log("| --- | ---: | ---: | ---: |");
for (
  const [kind, label] of [["read", "open of an allow_read file"], [
    "write",
    "open of an allow_write file",
  ], ["create", "create in a scratch root"]]
) {
  console.log(
    `| ${label} | ${fmt(bareCalls[kind]?.median_us)} | ${
      fmt(brokeredCalls[kind]?.median_us)
    } | ${fmt(brokeredCalls[kind]?.p95_us)} |`,
  );
}
for (
  const [kind, label] of [
    ["udp_connect", 'UDP connect to the nameserver, udp = "dns"'],
    ["udp_sendto", 'UDP sendto the nameserver, udp = "dns"'],
  ]
) {
  console.log(
    `| ${label} | ${fmt(bareUdp[kind]?.median_us)} | ${
      fmt(brokeredUdp[kind]?.median_us)
    } | ${fmt(brokeredUdp[kind]?.p95_us)} |`,
  );
}
console.log(
  `| tmpfs mount + umount, declared in [broker] mount_tmpfs (${mountN} pairs) | ${
    fmt(bareMounts.mount?.median_us)
  } | ${fmt(brokeredMounts.mount?.median_us)} | ${
    fmt(brokeredMounts.mount?.p95_us)
  } |`,
);

console.log(
  "\n| daemon memory | RSS MiB | × idle | V8 heap used / total MiB |",
);
console.log("| --- | ---: | ---: | ---: |");
for (const m of memory) {
  console.log(
    `| ${m.name}${m.note ? ` (${m.note})` : ""} | ${fmt(m.rss_mib)} | ${
      fmt(m.ratio_to_idle)
    } | ${
      m.heap_used_mib === undefined
        ? "–"
        : `${fmt(m.heap_used_mib)} / ${fmt(m.heap_total_mib)}`
    } |`,
  );
}
console.log(`\n| one run, /bin/true | peak RSS MiB (median of ${peakRuns}) |`);
console.log("| --- | ---: |");
for (const p of peaks) {
  console.log(
    `| ${p.name} | ${typeof p.peak === "number" ? fmt(p.peak) : p.peak} |`,
  );
}
for (
  const [label, cmd] of [["bubblewrap", tools.bwrap], [
    "firejail",
    tools.firejail,
  ]]
) {
  if (!cmd) console.log(`| ${label} /bin/true | skipped: not installed |`);
}
console.log(
  compiled.skipped
    ? `\ncompiled binary (dist/landlockd) run (ci-default) /bin/true: skipped: ${compiled.skipped}`
    : `\ncompiled binary run (ci-default) /bin/true: median ${
      fmt(compiled.median_ms)
    } ms, CPU ${fmt(compiled.cpu_ms)} ms`,
);

const egress = await egressBench(ROOT, EGRESS_RUNS);
console.log(`\n${egressTable(egress)}`);

const file = writeResults({
  memory: {
    daemon: memory,
    settle_ms: 3000,
    peak_rss_median_of: peakRuns,
    peak_rss_mib: peaks.map(({ name, peak }) => ({ name, peak })),
  },
  compiled,
  egress,
  broker: {
    python_import: brokerRows.map((r) => ({
      ...r,
      ...brokerStats.get(r.name),
    })),
    calls: { n: N, unsandboxed: bareCalls, brokered: brokeredCalls },
    udp_dns: { n: N, unsandboxed: bareUdp, brokered: brokeredUdp },
    mounts: {
      pairs: Number(mountN),
      unsandboxed: bareMounts,
      brokered: brokeredMounts,
    },
  },
});
console.log(`\nRaw numbers: ${file}`);
for (const dir of [work, new URL(".", `file://${empty}`).pathname]) {
  Deno.removeSync(dir, { recursive: true });
}
