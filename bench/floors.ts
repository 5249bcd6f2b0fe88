/**
 * The floors of `deno task bench`: for each start-up target of issue 17,
 * the least this design can do, timed in the same run as landlockd's rows.
 *
 * - "Deno minimal sandbox" (bench/floor_sandbox.ts): a direct run's
 *   irreducible work with Deno FFI, the policy precomputed here.
 * - "`run --socket` floor" (bench/floor_socket.ts): connect, one
 *   precomputed run frame with stdio as SCM_RIGHTS, wait for the exit frame.
 * - The library API's floors: the same spawn in a loop in one Deno process
 *   (no daemon, no protocol), and in C (bench/floor_spawn.c) with and
 *   without the restriction, one at a time and with 16 in flight.
 *
 * Everything the floors need from the policy is computed here, once, from
 * the policy's real plan (the rulesets fitted to each path's kind, the
 * seccomp program), and written to files the floor programs read.
 *
 * @module
 */

import { readNamedPolicy } from "../policy/source.ts";
import { loadPolicy } from "../policy/load.ts";
import { planSandbox, type SandboxPlan } from "../sandbox/run.ts";
import { compileSeccomp } from "../sandbox/seccomp.ts";
import { fitRuleToTarget } from "../policy/plan.ts";
import { FS_RIGHTS, NET_RIGHTS, SCOPES, toMask } from "../policy/rights.ts";
import {
  landlockRulesetAttr,
  LIBRARY_URL,
  NR,
  SPAWN_NO_NEW_PRIVS,
  spawnOut,
  spawnReq,
} from "../ffi/mod.ts";
import { encodeFrame } from "../daemon/protocol.ts";
import { clientTrusted } from "../sandbox/trusted.ts";
import { inheritedIgnoredSignals } from "../syscalls/process.ts";
import { buildFloorSpawn, type CFloor, runFloorSpawn } from "./floor_spawn.ts";

/** What bench/floor_sandbox.ts reads (its `Spec`). */
interface FloorSpec {
  library: string;
  argv: string[];
  nr: { openat: number; close: number; create: number; add: number };
  layers: {
    attr: string;
    attr_size: number;
    rules: { path: string; access: string }[];
  }[];
  seccomp: string;
  seccomp_flags: number;
  no_new_privs: number;
  layout: Record<string, number>;
}

/** The files the floor programs read, or why there are none. */
export type Floors = {
  dir: string;
  library: string;
  /** A direct run's plan, for floor_sandbox.ts. */
  direct: string;
  /** The daemon's plan (its signal scope added), for the library floors. */
  daemon: string;
  /** The same as floor_spawn.c's text spec. */
  daemonText: string;
  /** The run frame `run --socket` sends. */
  frame: string;
  /** floor_spawn.c, built; or why not. */
  c: { exe: string } | { skipped: string };
} | { skipped: string };

const hex = (b: Uint8Array) =>
  Array.from(b, (x) => x.toString(16).padStart(2, "0")).join("");

/** The spec of `plan`; throws for what the floors do not model. */
async function specOf(
  plan: SandboxPlan,
  library: string,
  argv: string[],
): Promise<FloorSpec> {
  if (
    plan.broker || plan.egress || plan.mounts?.clone_flags ||
    plan.mounts?.steps.length || plan.capabilities_dropped.length ||
    plan.landlock.layers.some((l) => l.net_port.length)
  ) {
    throw new Error(
      "the floors model rulesets of path rules and a seccomp filter only; this policy needs a broker, mounts, port rules or dropped capabilities",
    );
  }
  const A = landlockRulesetAttr;
  return {
    library,
    argv,
    nr: {
      openat: NR.openat,
      close: NR.close,
      create: NR.landlock_create_ruleset,
      add: NR.landlock_add_rule,
    },
    layers: plan.landlock.layers.map((layer) => {
      const attr = new Uint8Array(A.size);
      const view = new DataView(attr.buffer);
      const fs = toMask(FS_RIGHTS, layer.handled_access_fs);
      const net = toMask(NET_RIGHTS, layer.handled_access_net);
      const scoped = toMask(SCOPES, layer.scoped);
      view.setBigUint64(A.handled_access_fs, fs, true);
      view.setBigUint64(A.handled_access_net, net, true);
      view.setBigUint64(A.scoped, scoped, true);
      return {
        attr: hex(attr),
        // As syscalls/landlock.ts createRuleset: older kernels take less.
        attr_size: scoped ? A.size : net ? A.scoped : A.handled_access_net,
        rules: layer.path_beneath.flatMap((planned) => {
          let isDir: boolean;
          try {
            isDir = Deno.statSync(planned.path).isDirectory;
          } catch {
            if (planned.optional) return [];
            throw new Error(`the floors: "${planned.path}" is missing`);
          }
          const { rule } = fitRuleToTarget(
            planned,
            isDir ? "directory" : "file",
          );
          if (!rule.allowed_access.length) return [];
          return [{
            path: rule.path,
            access: `0x${toMask(FS_RIGHTS, rule.allowed_access).toString(16)}`,
          }];
        }),
      };
    }),
    seccomp: hex(await compileSeccomp(plan.seccomp)),
    // ci-default has no broker: no listener, so no filter flags.
    seccomp_flags: 0,
    no_new_privs: SPAWN_NO_NEW_PRIVS,
    layout: {
      ...spawnReq,
      out_length: spawnOut.length,
      out_pidfd: spawnOut.pidfd,
      out_step: spawnOut.step,
      out_errno: spawnOut.errno,
    },
  };
}

/** floor_spawn.c's text form of `spec`. */
function specText(spec: FloorSpec): string {
  return [
    `seccomp ${spec.seccomp_flags} ${spec.seccomp}`,
    ...spec.layers.flatMap((l) => [
      `layer ${l.attr_size} ${l.attr}`,
      ...l.rules.map((r) => `rule ${BigInt(r.access)} ${r.path}`),
    ]),
  ].join("\n") + "\n";
}

/**
 * Writes the floors' inputs for `policyName` and `argv` (an absolute
 * path), and builds the C loop; or says why the floors are skipped.
 */
export async function prepareFloors(
  root: string,
  policyName: string,
  argv: string[],
): Promise<Floors> {
  const library = decodeURIComponent(LIBRARY_URL.pathname);
  try {
    Deno.statSync(library);
  } catch {
    return { skipped: `no ${library}: run "deno task build" first` };
  }
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-bench-floors-" });
  try {
    const source = readNamedPolicy(policyName);
    const policy = await loadPolicy(source);
    const direct = await specOf(await planSandbox(policy), library, argv);
    const daemon = await specOf(
      await planSandbox(policy, undefined, true),
      library,
      argv,
    );
    const files = {
      direct: `${dir}/direct.json`,
      daemon: `${dir}/daemon.json`,
      daemonText: `${dir}/daemon.spec`,
      frame: `${dir}/run.frame`,
    };
    Deno.writeTextFileSync(files.direct, JSON.stringify(direct));
    Deno.writeTextFileSync(files.daemon, JSON.stringify(daemon));
    Deno.writeTextFileSync(files.daemonText, specText(daemon));
    // What cli/remote_run.ts sends for a named policy.
    Deno.writeFileSync(
      files.frame,
      encodeFrame({
        type: "run",
        id: 1,
        policy: { name: source.name, text: source.text },
        argv,
        env: Deno.env.toObject(),
        cwd: Deno.cwd(),
        stdio: "fds",
        audit_fd: false,
        sig_ignore: inheritedIgnoredSignals().toString(16),
        trust: clientTrusted(undefined, []),
      }),
    );
    return { dir, library, ...files, c: buildFloorSpawn(root, dir) };
  } catch (e) {
    Deno.removeSync(dir, { recursive: true });
    return { skipped: (e as Error).message };
  }
}

/** The command lines of the two start-up floors (hyperfine rows). */
export function startupFloorCommands(
  root: string,
  floors: Floors,
  socket: string,
): { sandbox?: string; socket?: string; skipped?: string } {
  if ("skipped" in floors) return { skipped: floors.skipped };
  const deno = `${Deno.execPath()} run --allow-all`;
  return {
    sandbox: `${deno} ${root}bench/floor_sandbox.ts ${floors.direct}`,
    socket:
      `${deno} ${root}bench/floor_socket.ts ${floors.library} ${socket} ${floors.frame}`,
  };
}

/** One library floor: per-run times, or runs/s, or why it is skipped. */
export interface LibraryFloor {
  name: string;
  runs?: number;
  in_flight?: number;
  mean_ms?: number;
  median_ms?: number;
  p95_ms?: number;
  runs_per_s?: number;
  skipped?: string;
}

/** The library API's floors: `runs` one at a time, `runs * 4` in flight. */
export function libraryFloors(
  root: string,
  floors: Floors,
  runs: number,
  inFlight: number,
): LibraryFloor[] {
  const names = {
    deno: "Deno loop: rulesets + ll_spawn + ll_wait, one process, no daemon",
    sandbox: "C loop: rulesets, vfork, Landlock + seccomp, execve, wait",
    bare: "C loop: vfork, execve, wait (bare)",
    sandboxFlight: `C loop, Landlock + seccomp, ${inFlight} in flight`,
    bareFlight: `C loop, bare, ${inFlight} in flight`,
  };
  if ("skipped" in floors) {
    return Object.values(names).map((name) => ({
      name,
      skipped: floors.skipped,
    }));
  }
  const out: LibraryFloor[] = [];
  const loop = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--allow-all",
      `${root}bench/floor_sandbox.ts`,
      floors.daemon,
      "--loop",
      String(runs),
    ],
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  const dec = new TextDecoder();
  out.push(
    loop.success
      ? {
        name: names.deno,
        in_flight: 1,
        ...JSON.parse(dec.decode(loop.stdout)),
      }
      : {
        name: names.deno,
        skipped: `floor_sandbox.ts failed: ${dec.decode(loop.stderr).trim()}`,
      },
  );
  const c = floors.c;
  const cRow = (
    name: string,
    mode: CFloor["mode"],
    n: number,
    k: number,
  ): LibraryFloor => {
    if ("skipped" in c) return { name, skipped: c.skipped };
    try {
      const { mode: _, ...r } = runFloorSpawn(
        c.exe,
        floors.daemonText,
        mode,
        n,
        k,
      );
      return { name, ...r };
    } catch (e) {
      return { name, skipped: (e as Error).message };
    }
  };
  out.push(
    cRow(names.sandbox, "sandbox", runs, 1),
    cRow(names.bare, "bare", runs, 1),
    cRow(names.sandboxFlight, "sandbox", runs * 4, inFlight),
    cRow(names.bareFlight, "bare", runs * 4, inFlight),
  );
  return out;
}

/** Removes the floors' files. */
export function cleanFloors(floors: Floors): void {
  if (!("skipped" in floors)) Deno.removeSync(floors.dir, { recursive: true });
}

/** One arm of {@link interleaved}: wall-clock times of whole processes. */
export interface InterleavedArm {
  name: string;
  command: string;
  runs: number;
  median_ms: number;
  mean_ms: number;
  p95_ms: number;
}

/**
 * Runs each command (split on spaces, no shell) once per round, the order
 * rotating every round, so a machine that drifts hits every arm alike;
 * `warmup` rounds first. Wall-clock time of each process, spawn to exit.
 */
export function interleaved(
  arms: { name: string; command: string }[],
  rounds: number,
  warmup: number,
): InterleavedArm[] {
  const times = arms.map(() => [] as number[]);
  const once = (i: number) => {
    const [cmd, ...args] = arms[i].command.split(" ");
    const t = performance.now();
    const out = new Deno.Command(cmd, {
      args,
      stdin: "null",
      stdout: "null",
      stderr: "piped",
    }).outputSync();
    const ms = performance.now() - t;
    if (!out.success) {
      throw new Error(
        `bench: ${arms[i].name} failed: ${
          new TextDecoder().decode(out.stderr).trim()
        }`,
      );
    }
    return ms;
  };
  for (let r = 0; r < warmup + rounds; r++) {
    for (let k = 0; k < arms.length; k++) {
      const i = (r + k) % arms.length;
      const ms = once(i);
      if (r >= warmup) times[i].push(ms);
    }
  }
  return arms.map((arm, i) => {
    const s = times[i].sort((a, b) => a - b);
    return {
      ...arm,
      runs: s.length,
      median_ms: s[s.length >> 1],
      mean_ms: s.reduce((a, b) => a + b, 0) / s.length,
      p95_ms: s[Math.min(s.length - 1, Math.floor(s.length * 0.95))],
    };
  });
}

/** What one block of the library API gives (bench/daemon.ts `timeApi`). */
export interface ApiBlock {
  mean_ms: number;
  median_ms: number;
  concurrent_runs_per_s: number;
}

/** An arm of {@link alternatingFloors}, over all its blocks. */
export interface AlternatingArm {
  name: string;
  /** Median of the blocks' medians (per-run ms). */
  median_ms?: number;
  /** Mean of the blocks' means (per-run ms). */
  mean_ms?: number;
  /** Median of the blocks' runs/s. */
  runs_per_s?: number;
  in_flight: number;
  skipped?: string;
}

/**
 * The library API and its floors in `rounds` alternating blocks of
 * `perRound` runs (`perRound * 4` with `inFlight` in flight): a block of
 * the API (`api`, one at a time then in flight), then one of each floor,
 * so the machine's drift hits them alike.
 */
export async function alternatingFloors(
  root: string,
  floors: Floors,
  rounds: number,
  perRound: number,
  inFlight: number,
  api: () => Promise<ApiBlock>,
): Promise<{ rounds: number; per_round: number; arms: AlternatingArm[] }> {
  const blocks: LibraryFloor[][] = [];
  const apiBlocks: ApiBlock[] = [];
  for (let i = 0; i < rounds; i++) {
    apiBlocks.push(await api());
    blocks.push(libraryFloors(root, floors, perRound, inFlight));
  }
  const median = (xs: number[]) =>
    [...xs].sort((a, b) => a - b)[xs.length >> 1];
  const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
  const arms: AlternatingArm[] = [
    {
      name: "library API, one at a time",
      in_flight: 1,
      median_ms: median(apiBlocks.map((b) => b.median_ms)),
      mean_ms: mean(apiBlocks.map((b) => b.mean_ms)),
    },
    {
      name: `library API, ${inFlight} in flight`,
      in_flight: inFlight,
      runs_per_s: median(apiBlocks.map((b) => b.concurrent_runs_per_s)),
    },
  ];
  blocks[0].forEach((first, i) => {
    const skipped = blocks.find((b) => b[i].skipped)?.[i].skipped;
    const rows = blocks.map((b) => b[i]);
    arms.push(
      skipped
        ? { name: first.name, in_flight: first.in_flight ?? 1, skipped }
        : {
          name: first.name,
          in_flight: first.in_flight ?? 1,
          median_ms: median(rows.map((r) => r.median_ms!)),
          mean_ms: mean(rows.map((r) => r.mean_ms!)),
          runs_per_s: median(rows.map((r) => r.runs_per_s!)),
        },
    );
  });
  return { rounds, per_round: perRound, arms };
}
