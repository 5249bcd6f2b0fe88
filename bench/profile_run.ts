/**
 * Where a direct `landlockd run --policy NAME -- COMMAND` spends its time:
 * the same steps as cli/run.ts and cli/run_direct.ts, each timed with
 * `performance.now()` (wall clock) and `process.cpuUsage()` (CPU time of
 * all the process's threads). Prints one line per step, to stderr.
 *
 * Usage: deno run -A bench/profile_run.ts [--json] [--bundle] [--socket PATH] [POLICY] [COMMAND...]
 *
 * The first row is Deno's own start, until this script's first line runs
 * (the floor every Deno program pays). `--json` prints the rows as one
 * JSON object on stdout instead (bench/profile.ts collects them).
 *
 * With `--socket`, the steps of `run --socket` instead (cli/remote_run.ts):
 * the client's modules, the FFI it needs to pass its stdio, connecting, and
 * the daemon's reply.
 *
 * With `--bundle`, the run as main.ts starts it from the bundle in dist/run/
 * (cli/bundle.ts; it must be fresh): mapping the C library and checking
 * the bundle against the sources, loading it, then the whole command line's `main` as one step
 * (its inner steps are the ones above, in one chunk).
 *
 * @module
 */

import { cpuUsage } from "node:process";

const start = performance.now();
const rows: [string, number, number][] = [];
const startCpu = cpuMs();
rows.push(["Deno start, until this script runs", start, startCpu]);

/** This process's user+system CPU time so far (all threads), in ms. */
function cpuMs(): number {
  const { user, system } = cpuUsage();
  return (user + system) / 1000;
}

let lastWall = start;
let lastCpu = startCpu;
function step(name: string) {
  const wall = performance.now();
  const cpu = cpuMs();
  rows.push([name, wall - lastWall, cpu - lastCpu]);
  lastWall = performance.now();
  lastCpu = cpuMs();
}

const url = (p: string) => new URL(p, import.meta.url).href;
const args = [...Deno.args];
const json = args[0] === "--json" ? !!args.shift() : false;
const bundled = args[0] === "--bundle" ? !!args.shift() : false;
const socket = args[0] === "--socket" ? args.splice(0, 2)[1] : undefined;
const [policyName = "ci-default", ...argv] = args;
const command = argv.length ? argv : ["/bin/true"];

if (bundled) {
  const { bundledModule, freshBundle } = await import(url("../lazy_import.ts"));
  // As main.ts: nothing else has run, so no other thread has mapped the
  // C library, which the check maps first.
  const entry = await freshBundle(
    socket !== undefined ? "socket" : "direct",
    { firstThread: true },
  );
  if (entry === undefined) throw new Error("no fresh bundle: deno task bundle");
  step("map the C library, check the bundle against the sources");
  const cli = await bundledModule(entry, "cli/main.ts");
  await bundledModule(
    entry,
    socket !== undefined ? "cli/remote_run.ts" : "cli/run_direct.ts",
  );
  step("load the bundle (entry, its run chunk)");
  const code = await cli.main([
    "run",
    ...(socket !== undefined ? ["--socket", socket] : []),
    "--policy",
    policyName,
    "--",
    ...command,
  ]);
  step(
    socket !== undefined
      ? "run: policy, FFI, connect, daemon, exit"
      : "run: policy, FFI, plan, spawn, wait",
  );
  report();
  Deno.exit(code);
}
const run = await import(url("../cli/run.ts"));
step("import cli/run.ts graph");
const { readNamedPolicy } = await import(url("../policy/source.ts"));
const source = readNamedPolicy(policyName);
step("read the policy text");
if (socket !== undefined) {
  const remote = await import(url("../cli/remote_run.ts"));
  step("import cli/remote_run.ts graph");
  const ffi = await import(url("../ffi/mod.ts"));
  ffi.library();
  step("FFI: open the library (in place or memfd)");
  const code = await remote.runRemote(source, command, {
    socket,
    auditFd: -1,
  });
  step("connect, send, daemon runs it, exit reply");
  report();
  Deno.exit(code);
}
const direct = await import(url("../cli/run_direct.ts"));
step("import cli/run_direct.ts graph");
const ffi = await import(url("../ffi/mod.ts"));
ffi.library();
step("FFI: open the library (in place or memfd)");
const { makeNonDumpable } = await import(url("../syscalls/dumpable.ts"));
makeNonDumpable();
step("non-dumpable");
const { loadPolicy } = await import(url("../policy/load.ts"));
const policy = await loadPolicy(source);
step("validate (parse + schema)");
const sandbox = await import(url("../sandbox/run.ts"));
const plan = await sandbox.planSandbox(policy);
step("plan (kernel ABI, rulesets, filter)");
const { resolveCommand } = await import(url("../sandbox/command_path.ts"));
resolveCommand(
  plan.landlock,
  sandbox.executableCandidates({ argv: command, path: Deno.env.get("PATH") }),
);
step("resolve the command");
const { refuseSelfWrite } = await import(url("../sandbox/self_write.ts"));
refuseSelfWrite(policy, plan, source.file, []);
step("self-write check");
const { NO_AUDIT } = await import(url("../audit/audit.ts"));
await sandbox.runPlanned(
  plan,
  { argv: command, path: Deno.env.get("PATH") },
  NO_AUDIT,
  source.name,
);
step("spawn, wait, finish");
void run;
void direct;
report();

function report() {
  if (json) {
    console.log(JSON.stringify({
      steps: rows.map(([name, wall_ms, cpu_ms]) => ({ name, wall_ms, cpu_ms })),
      total_wall_ms: performance.now(),
    }));
    return;
  }
  for (const [name, wall, cpu] of rows) {
    console.error(
      `${name.padEnd(40)} ${wall.toFixed(1).padStart(7)} ms wall ${
        cpu.toFixed(1).padStart(6)
      } ms cpu`,
    );
  }
  console.error(
    `${"total since Deno started".padEnd(40)} ${
      performance.now().toFixed(1).padStart(7)
    } ms wall`,
  );
}
