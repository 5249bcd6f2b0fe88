/**
 * Shared helpers for the integration tests: run landlockd (as root or as
 * `nobody`), write policies, build directory trees, parse probe output.
 *
 * @module
 */

import assert from "node:assert/strict";
import { sharedCopy, starterWritable } from "./shared_copy.ts";

/** The repository root. */
export const ROOT = new URL("../", import.meta.url).pathname;

/**
 * Where sandboxed runs find landlockd and the probe: the repository, or a
 * world-readable copy (tests/shared_copy.ts) when `nobody` cannot read it
 * (a checkout under a private home), or when the starter policies could
 * write it (a clone under /tmp: landlockd refuses to run from there).
 */
export const RUN_ROOT: string = (() => {
  if (starterWritable(ROOT)) return sharedCopy("repo", ROOT);
  if (Deno.uid() !== 0) return ROOT;
  const probe = new Deno.Command("setpriv", {
    args: [
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      "test",
      "-r",
      `${ROOT}main.ts`,
    ],
  }).outputSync();
  return probe.success ? ROOT : sharedCopy("repo", ROOT);
})();

/**
 * The DENO_DIR landlockd runs with in tests: the caller's, or a copy of it
 * when the starter policies could write it (`DENO_DIR=$(mktemp -d)`).
 */
const DENO_DIR: string | undefined = (() => {
  const dir = Deno.env.get("DENO_DIR") ??
    `${
      Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME") ?? "/"}/.cache`
    }/deno`;
  let exists = true;
  try {
    Deno.statSync(dir);
  } catch {
    exists = false;
  }
  if (!exists || !starterWritable(dir)) return Deno.env.get("DENO_DIR");
  return sharedCopy("deno", `${dir}/`);
})();

/**
 * How tests start landlockd from source: `--cached-only`, as the landlockd
 * task does, so a package missing from the cache is an error, never a
 * `Download …` line in a command's stderr.
 */
export const DENO_RUN = [
  Deno.execPath(),
  "run",
  "--cached-only",
  "--allow-all",
];

/** The static probe built by `deno task build` (tests/probe/probe.c). */
export const PROBE = `${RUN_ROOT}ffi/build/probe`;

/** Who runs landlockd in a test: root, nobody (dropped with setpriv), or
 * whoever runs the tests when that is not root. */
export type As = "root" | "nobody" | "self";

/** As root: root and nobody, so unprivileged use is proven too. */
export const USERS: As[] = Deno.uid() === 0 ? ["root", "nobody"] : ["self"];

/** A finished landlockd run. */
export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * nobody's HOME and DENO_DIR parent in tests (.ci/run gives each run a new
 * one). Not under /tmp: landlockd refuses policies that can write its
 * DENO_DIR, and the starter policies write /tmp.
 */
export const NOBODY_HOME: string = (() => {
  const home = Deno.env.get("LANDLOCKD_TEST_NOBODY_HOME") ??
    "/var/lib/landlockd-test-nobody";
  if (starterWritable(home)) {
    throw new Error(
      `LANDLOCKD_TEST_NOBODY_HOME=${home}: the starter policies can write it; choose a directory outside /tmp and /var/tmp`,
    );
  }
  return home;
})();

function nobodyPrefix(): string[] {
  Deno.mkdirSync(NOBODY_HOME, { recursive: true });
  Deno.chownSync(NOBODY_HOME, 65534, 65534);
  return [
    "setpriv",
    "--reuid=nobody",
    "--regid=nogroup",
    "--clear-groups",
    "--",
  ];
}

/** Options for {@link landlockd}. */
export interface RunOptions {
  as?: As;
  env?: Record<string, string>;
  stdin?: string;
  cwd?: string;
}

/**
 * `deno run main.ts ARGS` as a command ready to spawn. As `nobody`, HOME
 * and DENO_DIR point at a directory nobody owns.
 */
export function landlockdCommand(
  args: string[],
  opts: RunOptions & { stdio?: "piped" | "null" } = {},
): Deno.Command {
  const as = opts.as ?? "root";
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    NO_COLOR: "1",
    ...opts.env,
  };
  let argv = [...DENO_RUN, `${RUN_ROOT}main.ts`, ...args];
  if (as === "nobody") {
    argv = [...nobodyPrefix(), ...argv];
    env.HOME = NOBODY_HOME;
    env.DENO_DIR = opts.env?.DENO_DIR ?? `${NOBODY_HOME}/deno`;
  } else {
    for (const k of ["HOME", "XDG_CACHE_HOME"]) {
      const v = Deno.env.get(k);
      if (v !== undefined && !(k in env)) env[k] = v;
    }
    if (DENO_DIR !== undefined && !("DENO_DIR" in env)) {
      env.DENO_DIR = DENO_DIR;
    }
  }
  // A simulated older kernel (LANDLOCKD_ABI_MAX=4 deno task test) reaches
  // every landlockd the tests start, unless a test sets its own.
  const cap = Deno.env.get("LANDLOCKD_ABI_MAX");
  if (cap !== undefined && !("LANDLOCKD_ABI_MAX" in env)) {
    env.LANDLOCKD_ABI_MAX = cap;
  }
  const stdio = opts.stdio ?? "piped";
  return new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: opts.cwd ?? "/",
    stdin: opts.stdin === undefined ? "null" : "piped",
    stdout: stdio,
    stderr: stdio,
  });
}

/** Runs `deno run main.ts ARGS` and collects its output. */
export async function landlockd(
  args: string[],
  opts: RunOptions = {},
): Promise<Result> {
  const child = landlockdCommand(args, opts).spawn();
  if (opts.stdin !== undefined) {
    const w = child.stdin.getWriter();
    await w.write(new TextEncoder().encode(opts.stdin));
    await w.close();
  }
  const out = await child.output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
  };
}

let scratchRoot: string | undefined;

/** `landlockd run --policy-file POLICY -- ARGV…` */
export function sandboxed(
  policy: string,
  argv: string[],
  opts: RunOptions = {},
): Promise<Result> {
  return landlockd(["run", "--policy-file", policy, "--", ...argv], opts);
}

/** A temporary directory everyone can read (for tests run as nobody). */
export function tempDir(prefix = "t-"): string {
  if (!scratchRoot) {
    // One parent per test process, removed when the process ends.
    scratchRoot = Deno.makeTempDirSync({ prefix: "landlockd-test-" });
    Deno.chmodSync(scratchRoot, 0o755);
    const root = scratchRoot;
    globalThis.addEventListener("unload", () => {
      try {
        Deno.removeSync(root, { recursive: true });
      } catch {
        // best effort
      }
    });
  }
  const dir = Deno.makeTempDirSync({ dir: scratchRoot, prefix });
  Deno.chmodSync(dir, 0o755);
  return dir;
}

/**
 * A fresh directory outside /tmp, for policy files that grant /tmp
 * (landlockd refuses a policy that can rewrite its own file). Removed when
 * the test process ends.
 */
export function outsideTmpDir(): string {
  const base = Deno.uid() === 0 ? "/var/lib" : Deno.env.get("HOME") ?? ROOT;
  const dir = Deno.makeTempDirSync({ dir: base, prefix: "landlockd-test-" });
  Deno.chmodSync(dir, 0o755);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // best effort
    }
  });
  return dir;
}

/** Writes a policy file into a fresh temp dir and returns its path. */
export function policyFile(toml: string, dir = tempDir()): string {
  const path = `${dir}/policy.toml`;
  Deno.writeTextFileSync(path, toml);
  Deno.chmodSync(path, 0o644);
  return path;
}

/**
 * A tree for filesystem tests, writable by nobody:
 * DIR/allowed/{file,sub/file}, DIR/denied/file, DIR/bin/probe.
 */
export function fsTree(): string {
  const dir = tempDir();
  for (const d of ["allowed", "allowed/sub", "denied", "bin", "scratch"]) {
    Deno.mkdirSync(`${dir}/${d}`);
  }
  for (const f of ["allowed/file", "allowed/sub/file", "denied/file"]) {
    Deno.writeTextFileSync(`${dir}/${f}`, "content\n");
  }
  Deno.copyFileSync(PROBE, `${dir}/bin/probe`);
  Deno.chmodSync(`${dir}/bin/probe`, 0o755);
  chownTree(dir);
  return dir;
}

/** Gives a tree to nobody, so unprivileged runs may write where allowed. */
export function chownTree(dir: string): void {
  if (Deno.uid() !== 0) return;
  const walk = (p: string) => {
    Deno.chownSync(p, 65534, 65534);
    if (Deno.statSync(p).isDirectory) {
      for (const e of Deno.readDirSync(p)) walk(`${p}/${e.name}`);
    }
  };
  walk(dir);
}

/** Probe output lines as `{ "read /x": "OK", "bind 80": "EACCES" }`. */
export function probeResults(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^(.+): (OK|E[A-Z0-9]+)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}

/** Asserts a run succeeded and returns its probe results. */
export function assertProbe(r: Result, expected: Record<string, string>): void {
  assert.equal(r.code, 0, `landlockd failed: ${r.stderr}`);
  assert.deepEqual(probeResults(r.stdout), expected, r.stderr);
}

/** A TCP port nothing listens on, from a range the kernel does not hand out. */
export function freePort(): number {
  for (;;) {
    const port = 20000 + Math.floor(Math.random() * 10000);
    try {
      Deno.listen({ hostname: "127.0.0.1", port }).close();
      return port;
    } catch {
      // taken; try another
    }
  }
}

/** Debian's python3, not a version-manager shim that lives in $HOME. */
export function python3(): string {
  for (const p of ["/usr/bin/python3", "/usr/local/bin/python3"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // try the next
    }
  }
  return "python3";
}

/** A landlockd running in the background, and its sandbox's first pid. */
export interface Background {
  proc: Deno.ChildProcess;
  /** The pid from the run.start audit event. */
  pid: number;
  audit: string;
}

/**
 * Starts `landlockd run --policy-file POLICY --audit-file … -- ARGV…` and
 * waits until its run.start event says the sandbox is up.
 */
export async function runInBackground(
  policy: string,
  argv: string[],
): Promise<Background> {
  const audit = `${tempDir()}/audit.jsonl`;
  const proc = new Deno.Command(DENO_RUN[0], {
    args: [
      ...DENO_RUN.slice(1),
      `${ROOT}main.ts`,
      "run",
      "--policy-file",
      policy,
      "--audit-file",
      audit,
      "--",
      ...argv,
    ],
    stderr: "null",
  }).spawn();
  for (let i = 0; i < 400; i++) {
    try {
      const start = Deno.readTextFileSync(audit).split("\n")
        .map((l) => l && JSON.parse(l))
        .find((e) => e?.event === "run.start");
      if (start) return { proc, pid: start.pid, audit };
    } catch {
      // not written yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  proc.kill("SIGKILL");
  throw new Error("run.start never came");
}

/** Whether `pid` is a live process (not a zombie). */
export function alive(pid: number): boolean {
  try {
    return !/^\d+ \(.*\) Z/.test(Deno.readTextFileSync(`/proc/${pid}/stat`));
  } catch {
    return false;
  }
}

/** Waits up to two seconds for `pid` to be gone. */
export async function gone(pid: number): Promise<boolean> {
  for (let i = 0; i < 100 && alive(pid); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  return !alive(pid);
}
