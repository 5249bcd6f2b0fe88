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
  lateRule,
  library,
  libraryBound,
  llMount,
  MOUNT_OPS,
  sockFprogOf,
  SPAWN_MOUNT_HELPER,
  SPAWN_NO_NEW_PRIVS,
  SPAWN_SET_IDS,
  spawnOut,
  spawnReq,
  type SpawnStep,
  spawnSteps,
  struct,
} from "../ffi/mod.ts";
import { describeErrno, errno, errnoName } from "./errno.ts";
import { inspectorSignalDisarmed, signalMask, SIGUSR1 } from "./signals.ts";
import { resultValue, shortRunCalls } from "./sys.ts";

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
  /**
   * BPF instructions, 8 bytes each, installed last; or a function that
   * builds them from the addresses of the candidate paths the child will
   * pass to execve (so a filter that notifies execve can let the child's
   * own execve through: nobody could answer it, the parent sleeps until
   * the exec).
   */
  seccompFilter?:
    | Uint8Array<ArrayBuffer>
    | ((execPaths: readonly bigint[]) => Uint8Array<ArrayBuffer>);
  seccompFlags?: number;
  restrictFlags?: number;
  /** Namespaces for the child (`CLONE_NEW*`); 0 or absent: none. */
  cloneFlags?: number;
  /** Mount steps, run in the child's namespaces before anything else. */
  mounts?: readonly MountStep[];
  /** Rules on mount targets, added in the child after the mounts. */
  lateRules?: readonly LateRule[];
  /** Start a mount helper in the child's namespaces (needs a PID namespace). */
  mountHelper?: boolean;
  /** Signals the child keeps ignored (bit n-1: signal n); default: ours. */
  sigIgnore?: bigint;
  /** Run the command as this user (needs root): set after the mounts. */
  ids?: Identity;
  /**
   * Capabilities (bit n: capability n) the command neither has nor can
   * regain by an exec, dropped before the ids change; 0 or absent: none.
   */
  dropCaps?: bigint;
}

/** A user to run the command as. */
export interface Identity {
  uid: number;
  gid: number;
  groups: readonly number[];
}

/** A rule added in the child (`struct ll_late_rule`). */
export interface LateRule {
  /** The path as the child sees it, after any pivot. */
  path: string;
  allowedAccess: bigint;
  /** Index into `layerFds`. */
  layer: number;
}

/** One step of the child's mount sequence (`struct ll_mount`). */
export interface MountStep {
  op: keyof typeof MOUNT_OPS;
  source?: string;
  target: string;
  fstype?: string;
  data?: string;
  flags?: number;
}

/** A running child. */
export interface Child {
  pid: number;
  /** A pidfd: wait on it and signal through it, never by pid. */
  pidfd: number;
  /** The seccomp user-notification fd, or -1. */
  listenerFd: number;
  /** The mount helper's socket, or -1. */
  helperFd: number;
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
    /** For a failed mount: the index of the step. */
    readonly detail = -1,
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
    case "rules":
      return `cannot add a Landlock rule on a mount target: ${why}`;
    case "caps":
      return `cannot drop the capabilities a restricting [net] takes from the command: ${why}${
        err === errno.EPERM
          ? " (landlockd holds one of them, as a file or ambient capability, but lacks CAP_SETPCAP to remove it from the bounding set; run it without them, or as root)"
          : ""
      }`;
    case "ids":
      return `cannot switch to the client's user and groups: ${why}`;
    case "userns":
      return `cannot map the user and group ids in the new user namespace: ${why}`;
    case "init":
      return `cannot start the command under the PID namespace's init: ${why}`;
    case "none":
      return `cannot start a child: ${why}`;
    default:
      return `cannot set up the sandbox (step ${step}): ${why}`;
  }
}

/**
 * Signals landlockd itself was told to ignore, less Rust's SIGPIPE and the
 * SIGUSR1 landlockd ignores itself (Deno's inspector signal).
 */
export function inheritedIgnoredSignals(): bigint {
  try {
    let mask = signalMask("SigIgn") & ~(1n << BigInt(SIGPIPE - 1));
    if (inspectorSignalDisarmed()) mask &= ~(1n << BigInt(SIGUSR1 - 1));
    return mask;
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
  const { bytes, out, keep } = spawnRequest(req);
  const r = shortRunCalls()
    ? resultValue(library().ll_spawn_r(bytes, out))
    : library().ll_spawn(bytes, out);
  keep.length = 0;
  return spawned(r, out, req);
}

/**
 * As {@link spawn}, but the calling (JS) thread goes on while the child is
 * made: landlockd's spawner thread in C makes it (it lives as long as the
 * process, so the child's PR_SET_PDEATHSIG keeps its meaning) and the
 * promise settles once the child has executed. For the daemon, whose JS
 * thread serves other runs meanwhile; it costs a thread hop, so a lone run
 * is quicker with {@link spawn}.
 */
export async function spawnQueued(req: SpawnRequest): Promise<Child> {
  // A queued spawn holds a runtime pool thread while it waits in C: at
  // most one per spawner thread, the rest wait here, in JS.
  if (queuedSpawns < SPAWNER_THREADS) queuedSpawns++;
  else await new Promise<void>((take) => spawnWaiters.push(take));
  try {
    const { bytes, out, keep } = spawnRequest(req);
    // What C reads stays reachable through `keep`, used after the await.
    keep.push(bytes);
    const r = await library().ll_spawn_queued(bytes, out);
    keep.length = 0;
    return spawned(r, out, req);
  } finally {
    // The slot goes straight to the next waiter, if any.
    const next = spawnWaiters.shift();
    if (next) next();
    else queuedSpawns--;
  }
}

/** LL_SPAWNERS in ffi/process.c. */
const SPAWNER_THREADS = 4;
/** {@link spawnQueued} calls in C now (at most SPAWNER_THREADS). */
let queuedSpawns = 0;
/** {@link spawnQueued} calls waiting for one of them to end. */
const spawnWaiters: (() => void)[] = [];

/**
 * An environment as the `envp` the child executes with, made once per
 * environment object: the daemon passes the same object for each run of
 * a connection that reuses its environment (sandbox/run.ts). Only read,
 * by C, while a spawn that keeps it runs.
 */
const envBlocks = new WeakMap<object, CStringArray>();

function envBlock(env: Readonly<Record<string, string>>): CStringArray {
  let block = envBlocks.get(env);
  if (!block) {
    block = cstringArray(Object.entries(env).map(([k, v]) => `${k}=${v}`));
    envBlocks.set(env, block);
  }
  return block;
}

/** What ll_spawn reads, and the buffers it points into (`keep`). */
function spawnRequest(req: SpawnRequest): {
  bytes: Uint8Array<ArrayBuffer>;
  out: Int32Array<ArrayBuffer>;
  keep: (CStringArray | Uint8Array | Int32Array | Uint32Array)[];
} {
  const keep: (CStringArray | Uint8Array | Int32Array | Uint32Array)[] = [];
  // Everything the child reads stays referenced in `keep` until ll_spawn returns.
  const [bytes, view] = struct(spawnReq.size);
  const ptr = (offset: number, value: bigint) =>
    view.setBigUint64(offset, value, true);
  const arr = (offset: number, items: readonly string[]) => {
    const a = cstringArray(items);
    keep.push(a);
    ptr(offset, addressOf(a.pointers));
    return a;
  };

  const paths = arr(spawnReq.paths, req.candidates);
  arr(spawnReq.argv, req.argv);
  if (req.env) {
    const envp = envBlock(req.env);
    keep.push(envp);
    ptr(spawnReq.envp, addressOf(envp.pointers));
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
    const filter = typeof req.seccompFilter === "function"
      ? req.seccompFilter([
        ...paths.pointers.subarray(0, req.candidates.length),
      ])
      : req.seccompFilter;
    const prog = sockFprogOf(filter);
    keep.push(prog, filter);
    ptr(spawnReq.seccomp_prog, addressOf(prog));
  }
  if (req.mounts?.length) {
    const steps = new Uint8Array(llMount.size * req.mounts.length);
    const sv = new DataView(steps.buffer);
    keep.push(steps);
    req.mounts.forEach((m, i) => {
      const base = i * llMount.size;
      for (const key of ["source", "target", "fstype", "data"] as const) {
        const value = m[key];
        if (value === undefined) continue;
        const c = cstring(value);
        keep.push(c);
        sv.setBigUint64(base + llMount[key], addressOf(c), true);
      }
      sv.setBigUint64(base + llMount.flags, BigInt(m.flags ?? 0), true);
      sv.setUint32(base + llMount.op, MOUNT_OPS[m.op], true);
    });
    ptr(spawnReq.mounts, addressOf(steps));
    view.setUint32(spawnReq.n_mounts, req.mounts.length, true);
  }
  if (req.lateRules?.length) {
    const rules = new Uint8Array(lateRule.size * req.lateRules.length);
    const rv = new DataView(rules.buffer);
    keep.push(rules);
    req.lateRules.forEach((r, i) => {
      const c = cstring(r.path);
      keep.push(c);
      rv.setBigUint64(i * lateRule.size + lateRule.path, addressOf(c), true);
      rv.setBigUint64(
        i * lateRule.size + lateRule.allowed_access,
        r.allowedAccess,
        true,
      );
      rv.setUint32(i * lateRule.size + lateRule.layer, r.layer, true);
    });
    ptr(spawnReq.late_rules, addressOf(rules));
    view.setUint32(spawnReq.n_late_rules, req.lateRules.length, true);
  }
  view.setUint32(spawnReq.clone_flags, req.cloneFlags ?? 0, true);
  if (req.cloneFlags) {
    // The ids a new user namespace maps (read only when it is asked for).
    view.setUint32(spawnReq.map_uid, Deno.uid() ?? 0, true);
    view.setUint32(spawnReq.map_gid, Deno.gid() ?? 0, true);
  }
  const stdio = req.stdio ?? [-1, -1, -1];
  stdio.forEach((fd, i) => view.setInt32(spawnReq.stdio + 4 * i, fd, true));
  if (req.ids) {
    const groups = Uint32Array.from(
      req.ids.groups.length ? req.ids.groups : [0],
    );
    keep.push(groups);
    ptr(spawnReq.groups, addressOf(groups));
    view.setUint32(spawnReq.n_groups, req.ids.groups.length, true);
    view.setUint32(spawnReq.run_uid, req.ids.uid, true);
    view.setUint32(spawnReq.run_gid, req.ids.gid, true);
  }
  view.setUint32(
    spawnReq.flags,
    (req.noNewPrivs ? SPAWN_NO_NEW_PRIVS : 0) |
      (req.mountHelper ? SPAWN_MOUNT_HELPER : 0) |
      (req.ids ? SPAWN_SET_IDS : 0),
    true,
  );
  view.setBigUint64(spawnReq.drop_caps, req.dropCaps ?? 0n, true);
  view.setUint32(spawnReq.seccomp_flags, req.seccompFlags ?? 0, true);
  view.setUint32(spawnReq.restrict_flags, req.restrictFlags ?? 0, true);
  view.setBigUint64(
    spawnReq.sig_ignore,
    req.sigIgnore ?? inheritedIgnoredSignals(),
    true,
  );

  return { bytes, out: new Int32Array(spawnOut.length), keep };
}

/** The child, from ll_spawn's result; throws for a failed start. */
function spawned(r: number, out: Int32Array, req: SpawnRequest): Child {
  if (r < 0) throw new SpawnError("none", -r, req.argv[0] ?? "");
  if (r > 0) {
    throw new SpawnError(
      spawnSteps[r] ?? "none",
      out[spawnOut.errno],
      req.argv[0] ?? "",
      out[spawnOut.detail],
    );
  }
  return {
    pid: out[spawnOut.pid],
    pidfd: out[spawnOut.pidfd],
    listenerFd: out[spawnOut.listener],
    helperFd: out[spawnOut.helper],
  };
}

function decodeStatus(r: number, what: string): ExitStatus {
  if (r < 0) throw new Error(`Cannot wait for ${what}: ${describeErrno(-r)}`);
  return r >= 256 ? { signal: r - 256 } : { code: r };
}

/** Waits on this thread; for threads that do nothing else meanwhile. */
export function waitChildSync(pidfd: number): ExitStatus {
  return decodeStatus(
    shortRunCalls()
      ? resultValue(library().ll_wait_r(pidfd))
      : library().ll_wait_sync(pidfd),
    "the child",
  );
}

/**
 * The child's status if it has exited, without blocking; undefined while
 * it runs. Throws when the wait fails.
 */
export function waitChildNow(pidfd: number): ExitStatus | undefined {
  const r = libraryBound().ll_wait_now(pidfd);
  if (r === -errno.EAGAIN) return undefined;
  return decodeStatus(r, "the command");
}

/**
 * Creates a child with the namespaces in `flags` (CLONE_NEW*) and mounts a
 * tmpfs in it: 0, or -errno.
 */
export function probeNamespaces(flags: number): number {
  return library().ll_probe_namespaces(flags);
}

/** The shell convention: the code itself, or 128 + the signal. */
export function exitCodeOf(status: ExitStatus): number {
  return "code" in status ? status.code : 128 + status.signal;
}

/** Forwards these signals to the child once {@link forwardSignalsTo} names it. */
export function forwardSignals(signals: readonly number[]): void {
  const sigs = Int32Array.from(signals);
  const r = shortRunCalls()
    ? resultValue(library().ll_forward_signals_r(sigs, signals.length))
    : library().ll_forward_signals(sigs, signals.length);
  if (r < 0) throw new Error(`Cannot handle signals: ${describeErrno(-r)}`);
}

/** Starts (pidfd) or stops (-1) forwarding; returns nothing. */
export function forwardSignalsTo(pidfd: number): void {
  if (shortRunCalls()) library().ll_forward_to_r(pidfd);
  else library().ll_forward_to(pidfd);
}

/** How many times `signal` was forwarded. */
export function forwardedCount(signal: number): number {
  return shortRunCalls()
    ? resultValue(library().ll_forwarded_r(signal))
    : library().ll_forwarded(signal);
}
