/**
 * Starting and stopping `landlockd serve` in tests.
 *
 * @module
 */

import {
  type As,
  landlockd,
  landlockdCommand,
  type Result,
  ROOT,
  RUN_ROOT,
  type RunOptions,
  tempDir,
} from "./helpers.ts";

/**
 * The library API (mod.ts) as the tests load it: from RUN_ROOT, the copy
 * the sandboxed runs use when the checkout is one the starter policies could
 * write (a clone under /tmp). The library sends the daemon what its own
 * process trusts, its source tree included, and the daemon refuses a plan
 * that could write it, as a direct run does.
 */
export const library: typeof import("../mod.ts") = RUN_ROOT === ROOT
  ? await import("../mod.ts")
  : await import(`file://${RUN_ROOT}mod.ts`);

/** A daemon running for one test. */
export interface TestDaemon {
  proc: Deno.ChildProcess;
  pid: number;
  socket: string;
  /** The daemon's own audit file. */
  audit: string;
  /** Its directory, owned by the daemon's user. */
  dir: string;
  /** Audit events so far. */
  events(): Record<string, unknown>[];
  /** Waits for an event matching `pred` (up to 10 s). */
  waitFor(
    pred: (e: Record<string, unknown>) => boolean,
  ): Promise<Record<string, unknown>>;
  /** Waits for the daemon to exit; returns its status and stderr. */
  exited(): Promise<{ code: number; stderr: string }>;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * `serve` arguments that let every user in {@link USERS} connect: as root,
 * nobody too (`--allow-uid 65534`); otherwise only the caller.
 */
export const SERVE_FOR_USERS: string[] = Deno.uid() === 0
  ? ["--allow-uid", "65534"]
  : [];

/** Starts `landlockd serve --socket DIR/run/landlockd.sock --audit-file …`. */
export async function startDaemon(
  opts: {
    as?: As;
    args?: string[];
    socket?: string;
    env?: Record<string, string>;
  } = {},
): Promise<TestDaemon> {
  const as = opts.as ?? "root";
  const dir = tempDir("daemon-");
  if (as === "nobody") Deno.chownSync(dir, 65534, 65534);
  const socket = opts.socket ?? `${dir}/run/landlockd.sock`;
  const audit = `${dir}/audit.jsonl`;
  const proc = landlockdCommand(
    ["serve", "--socket", socket, "--audit-file", audit, ...opts.args ?? []],
    { as, env: opts.env },
  ).spawn();
  let output: Promise<Deno.CommandOutput> | undefined;
  const events = () => {
    try {
      return Deno.readTextFileSync(audit).split("\n").filter((l) => l).map((
        l,
      ) => JSON.parse(l));
    } catch {
      return [];
    }
  };
  const daemon: TestDaemon = {
    proc,
    pid: proc.pid,
    socket,
    audit,
    dir,
    events,
    async waitFor(pred) {
      for (let i = 0; i < 400; i++) {
        const e = events().find(pred);
        if (e) return e;
        await sleep(25);
      }
      throw new Error(
        `audit event never came; events: ${JSON.stringify(events())}`,
      );
    },
    async exited() {
      output ??= proc.output();
      const out = await output;
      return { code: out.code, stderr: new TextDecoder().decode(out.stderr) };
    },
  };
  for (let i = 0; i < 400; i++) {
    if (events().some((e) => e.event === "daemon.listen")) return daemon;
    await sleep(25);
  }
  proc.kill("SIGKILL");
  const { stderr } = await daemon.exited();
  throw new Error(`the daemon did not start: ${stderr}`);
}

/** The daemon's live child processes (sandboxes), zombies included. */
export function childrenOf(pid: number): { pid: number; state: string }[] {
  const out: { pid: number; state: string }[] = [];
  for (const e of Deno.readDirSync("/proc")) {
    if (!/^\d+$/.test(e.name)) continue;
    try {
      const stat = Deno.readTextFileSync(`/proc/${e.name}/stat`);
      const rest = stat.slice(stat.lastIndexOf(")") + 2).split(" ");
      if (Number(rest[1]) === pid) {
        out.push({ pid: Number(e.name), state: rest[0] });
      }
    } catch {
      // gone meanwhile
    }
  }
  return out;
}

/** How many fds the process has open. */
export function fdCount(pid: number): number {
  return [...Deno.readDirSync(`/proc/${pid}/fd`)].length;
}

const viaArgs = (d: TestDaemon, argv: string[]) => [
  "run",
  "--socket",
  d.socket,
  "--policy",
  "ci-default",
  "--",
  ...argv,
];

/** `landlockd run --socket D --policy ci-default -- ARGV…`, started. */
export function startViaDaemon(
  d: TestDaemon,
  argv: string[],
  opts: RunOptions = {},
): Deno.ChildProcess {
  return landlockdCommand(viaArgs(d, argv), opts).spawn();
}

/** The same, run to the end. */
export function runViaDaemon(
  d: TestDaemon,
  argv: string[],
  opts: RunOptions = {},
): Promise<Result> {
  return landlockd(viaArgs(d, argv), opts);
}

/**
 * `landlockd run --socket D --policy-file POLICY -- ARGV…` through a
 * daemon started for this one run (serving every user when root, so `as`
 * may be nobody), stopped afterwards.
 */
export async function sandboxedViaDaemon(
  policy: string,
  argv: string[],
  opts: RunOptions = {},
): Promise<Result> {
  const d = await startDaemon({ args: SERVE_FOR_USERS });
  try {
    return await landlockd(
      ["run", "--socket", d.socket, "--policy-file", policy, "--", ...argv],
      opts,
    );
  } finally {
    d.proc.kill("SIGTERM");
    await d.exited();
  }
}
