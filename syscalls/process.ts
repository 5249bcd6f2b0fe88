/**
 * Starting and waiting for the sandboxed child through the C trampoline.
 *
 * @module
 */

import {
  addressOf,
  cstring,
  type CStringArray,
  cstringArray,
  library,
  sockFprog,
  SPAWN_NO_NEW_PRIVS,
  spawnOut,
  spawnReq,
  type SpawnStep,
  spawnSteps,
  struct,
} from "../ffi/mod.ts";
import { describeErrno, errnoName } from "./errno.ts";

const SIGPIPE = 13;

/** What the child needs; every fd is prepared by the caller. */
export interface SpawnRequest {
  /** Executable paths to try in order (a PATH search, done by the child). */
  candidates: readonly string[];
  argv: readonly string[];
  /** `undefined` keeps landlockd's own environment. */
  env?: Readonly<Record<string, string>>;
  /** Landlock ruleset fds, restricted in order. */
  layerFds?: readonly number[];
  /** fds >= 3 that the child keeps across exec. */
  keepFds?: readonly number[];
  /** fds that become the child's 0, 1 and 2; -1 keeps the inherited one. */
  stdio?: readonly [number, number, number];
  /** `undefined` keeps the current directory. */
  cwd?: string;
  noNewPrivs: boolean;
  /** BPF instructions, 8 bytes each, installed last. */
  seccompFilter?: Uint8Array<ArrayBuffer>;
  seccompFlags?: number;
  restrictFlags?: number;
}

/** A running child. */
export interface Child {
  pid: number;
  /** A pidfd: wait on it and signal through it, never by pid. */
  pidfd: number;
  /** The seccomp user-notification fd, or -1. */
  listenerFd: number;
}

/** How a child ended. */
export type ExitStatus = { code: number } | { signal: number };

/** A step of the child's set-up failed; the child is already reaped. */
export class SpawnError extends Error {
  override name = "SpawnError";
  readonly code: string;

  constructor(
    readonly step: SpawnStep,
    readonly errno: number,
    readonly program: string,
  ) {
    super(spawnErrorMessage(step, errno, program));
    this.code = errnoName(errno);
  }
}

function spawnErrorMessage(step: SpawnStep, err: number, program: string) {
  const why = describeErrno(err);
  switch (step) {
    case "exec":
      return `cannot execute "${program}": ${why}`;
    case "landlock":
      return `cannot enforce the Landlock ruleset: ${why}`;
    case "seccomp":
      return `cannot install the seccomp filter: ${why}`;
    case "cwd":
      return `cannot change to the working directory: ${why}`;
    default:
      return `cannot set up the sandbox (step ${step}): ${why}`;
  }
}

/** Signals landlockd itself was told to ignore, less Rust's SIGPIPE. */
function inheritedIgnoredSignals(): bigint {
  try {
    const status = Deno.readTextFileSync("/proc/self/status");
    const hex = /^SigIgn:\s*([0-9a-f]+)$/m.exec(status)?.[1];
    if (!hex) return 0n;
    return BigInt(`0x${hex}`) & ~(1n << BigInt(SIGPIPE - 1));
  } catch {
    return 0n;
  }
}

function int32Array(values: readonly number[]): Int32Array<ArrayBuffer> {
  return Int32Array.from(values.length ? values : [0]);
}

/**
 * Starts the child. Returns once it has executed; throws {@link SpawnError}
 * when one of its steps failed, or an Error when no child could be made.
 */
export function spawn(req: SpawnRequest): Child {
  const keep: (CStringArray | Uint8Array | Int32Array)[] = [];
  const [bytes, view] = struct(spawnReq.size);
  const ptr = (offset: number, value: bigint) =>
    view.setBigUint64(offset, value, true);
  const arr = (offset: number, items: readonly string[]) => {
    const a = cstringArray(items);
    keep.push(a);
    ptr(offset, addressOf(a.pointers));
  };

  arr(spawnReq.paths, req.candidates);
  arr(spawnReq.argv, req.argv);
  if (req.env) {
    arr(spawnReq.envp, Object.entries(req.env).map(([k, v]) => `${k}=${v}`));
  }
  const layers = int32Array(req.layerFds ?? []);
  const keepFds = int32Array(req.keepFds ?? []);
  keep.push(layers, keepFds);
  ptr(spawnReq.layer_fds, addressOf(layers));
  ptr(spawnReq.keep_fds, addressOf(keepFds));
  view.setUint32(spawnReq.n_layers, req.layerFds?.length ?? 0, true);
  view.setUint32(spawnReq.n_keep, req.keepFds?.length ?? 0, true);
  if (req.cwd !== undefined) {
    const cwd = cstring(req.cwd);
    keep.push(cwd);
    ptr(spawnReq.cwd, addressOf(cwd));
  }
  if (req.seccompFilter) {
    const [prog, progView] = struct(sockFprog.size);
    progView.setUint16(sockFprog.len, req.seccompFilter.length / 8, true);
    progView.setBigUint64(sockFprog.filter, addressOf(req.seccompFilter), true);
    keep.push(prog, req.seccompFilter);
    ptr(spawnReq.seccomp_prog, addressOf(prog));
  }
  const stdio = req.stdio ?? [-1, -1, -1];
  stdio.forEach((fd, i) => view.setInt32(spawnReq.stdio + 4 * i, fd, true));
  view.setUint32(spawnReq.flags, req.noNewPrivs ? SPAWN_NO_NEW_PRIVS : 0, true);
  view.setUint32(spawnReq.seccomp_flags, req.seccompFlags ?? 0, true);
  view.setUint32(spawnReq.restrict_flags, req.restrictFlags ?? 0, true);
  view.setBigUint64(spawnReq.sig_ignore, inheritedIgnoredSignals(), true);

  const out = new Int32Array(spawnOut.length);
  const r = library().ll_spawn(bytes, out);
  keep.length = 0;
  if (r < 0) {
    throw new Error(`landlockd: cannot start a child: ${describeErrno(-r)}`);
  }
  if (r > 0) {
    throw new SpawnError(
      spawnSteps[r] ?? "none",
      out[spawnOut.errno],
      req.argv[0] ?? "",
    );
  }
  return {
    pid: out[spawnOut.pid],
    pidfd: out[spawnOut.pidfd],
    listenerFd: out[spawnOut.listener],
  };
}

function decodeStatus(r: number, what: string): ExitStatus {
  if (r < 0) throw new Error(`Cannot wait for ${what}: ${describeErrno(-r)}`);
  return r >= 256 ? { signal: r - 256 } : { code: r };
}

/** Waits for the child behind `pidfd` without blocking the event loop. */
export async function waitChild(pidfd: number): Promise<ExitStatus> {
  return decodeStatus(await library().ll_wait(pidfd), "the child");
}

/** Waits on this thread; for threads that do nothing else meanwhile. */
export function waitChildSync(pidfd: number): ExitStatus {
  return decodeStatus(library().ll_wait_sync(pidfd), "the child");
}

/** The shell convention: the code itself, or 128 + the signal. */
export function exitCodeOf(status: ExitStatus): number {
  return "code" in status ? status.code : 128 + status.signal;
}

/** Forwards these signals to the child once {@link forwardSignalsTo} names it. */
export function forwardSignals(signals: readonly number[]): void {
  const r = library().ll_forward_signals(
    Int32Array.from(signals),
    signals.length,
  );
  if (r < 0) throw new Error(`Cannot handle signals: ${describeErrno(-r)}`);
}

/** Starts (pidfd) or stops (-1) forwarding; returns nothing. */
export function forwardSignalsTo(pidfd: number): void {
  library().ll_forward_to(pidfd);
}

/** How many times `signal` was forwarded. */
export function forwardedCount(signal: number): number {
  return library().ll_forwarded(signal);
}
