/**
 * One sandboxed run: plan → rulesets → child → exit status, with audit
 * events. Knows nothing about command lines; `cli/run.ts` does.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import type { AuditSink } from "../audit/audit.ts";
import {
  CompatError,
  type LandlockPlan,
  planLandlock,
  withProxyPort,
} from "../policy/plan.ts";
import type { ProxyDecisions, ProxyHandle } from "../proxy/start.ts";
import { kernelForAbi } from "../policy/rights.ts";
import type { Policy } from "../policy/schema.ts";
import { commandEnvironment, type EnvSpec } from "../policy/env.ts";
import { close } from "../syscalls/sys.ts";
import {
  type Child,
  exitCodeOf,
  type ExitStatus,
  forwardedCount,
  forwardSignals,
  forwardSignalsTo,
  type Identity,
  spawn,
  SpawnError,
  spawnQueued,
  type SpawnRequest,
  waitChildSync,
} from "../syscalls/process.ts";
import type { BrokerPlan } from "../broker/plan.ts";
import {
  capabilityMask,
  droppedCapabilitiesFor,
  type DroppedCapability,
  socketRules,
} from "../policy/net_sockets.ts";
import { hostArch } from "../seccomp/filter.ts";
import { buildRulesets } from "./landlock.ts";
import {
  compileSeccomp,
  compileSeccompFor,
  planSeccomp,
  type SeccompPlan,
} from "./seccomp.ts";
import { mountFailureHint, type MountPlan, planMounts } from "./mounts.ts";
import { describeErrno } from "../syscalls/errno.ts";
import { type LandlockSupport, landlockSupport } from "./kernel.ts";
import { signalName } from "./signals.ts";
import { disarmInspectorSignal } from "../syscalls/signals.ts";
import type { AccessLog, ObserveOptions } from "../observe/access.ts";

/** Signals that reach landlockd and are passed on to the child. */
export const FORWARDED_SIGNALS = [1, 2, 3, 15] as const; // HUP INT QUIT TERM

/**
 * The broker's modules, loaded only for policies that declare one (computed
 * specifiers: see main.ts).
 */
async function brokerModules() {
  const base = import.meta.url;
  const [plan, broker, notify, roots] = await Promise.all([
    lazyImport<typeof import("../broker/plan.ts")>("../broker/plan.ts", base),
    lazyImport<typeof import("../broker/broker.ts")>(
      "../broker/broker.ts",
      base,
    ),
    lazyImport<typeof import("../syscalls/seccomp_notify.ts")>(
      "../syscalls/seccomp_notify.ts",
      base,
    ),
    lazyImport<typeof import("../broker/roots.ts")>("../broker/roots.ts", base),
  ]);
  return { plan, broker, notify, roots };
}

/** The observer's modules, loaded only for runs that observe. */
async function observerModules() {
  const base = import.meta.url;
  const [observer, calls, verdict] = await Promise.all([
    lazyImport<typeof import("../broker/observer.ts")>(
      "../broker/observer.ts",
      base,
    ),
    lazyImport<typeof import("../broker/observe_requests.ts")>(
      "../broker/observe_requests.ts",
      base,
    ),
    lazyImport<typeof import("../observe/verdict.ts")>(
      "../observe/verdict.ts",
      base,
    ),
  ]);
  return { observer, calls, verdict };
}

/** The Landlock ABI that added `LANDLOCK_SCOPE_SIGNAL` (Linux 6.12). */
const SIGNAL_SCOPE_ABI = 6;

/** `SECCOMP_FILTER_FLAG_NEW_LISTENER | SECCOMP_FILTER_FLAG_WAIT_KILLABLE_RECV` */
const LISTENER_FILTER_FLAGS = (1 << 3) | (1 << 5);

/**
 * A Landlock scope landlockd adds for its own protection, not declared by
 * the policy. It is best effort whatever the policy's compat: a kernel
 * without it runs the command anyway (`enforced: false`), which widens no
 * access: a command that kills landlockd ends its own sandbox
 * (PR_SET_PDEATHSIG) and its pending brokered calls fail.
 */
export interface ImpliedScope {
  scope: "signal";
  /** Whom it protects: a direct run's broker, or the daemon. */
  for: "broker" | "daemon";
  enforced: boolean;
  needs_abi: number;
  note: string;
}

/** Everything decided before anything runs; `--dry-run` prints this. */
export interface SandboxPlan {
  support: LandlockSupport;
  landlock: LandlockPlan;
  /** Scopes landlockd added (or could not add) for itself; see ImpliedScope. */
  implied: ImpliedScope[];
  seccomp: SeccompPlan;
  /**
   * Capabilities the command loses before exec, from every set the
   * bounding one included (policy/net_sockets.ts droppedCapabilities):
   * a `[net]` that restricts anything must hold against root too.
   */
  capabilities_dropped: DroppedCapability[];
  broker?: BrokerPlan;
  mounts?: MountPlan;
  /** The policy's `[env]` (policy/env.ts). */
  env?: EnvSpec;
  /**
   * `[net] allow_hosts`: the egress proxy's rules. The proxy starts with
   * the run, and Landlock lets the command connect to its port.
   */
  egress?: { allow_hosts: string[] };
}

/**
 * The signal scope landlockd adds for `who` when the policy does not
 * declare it: enforced where the kernel has it (ABI 6+), else noted.
 */
export function impliedSignalScope(
  policy: Policy,
  who: ImpliedScope["for"] | undefined,
  abi: number,
): ImpliedScope[] {
  if (!who || policy.scope?.signal === true) return [];
  const enforced = abi >= SIGNAL_SCOPE_ABI;
  const whom = who === "broker" ? "landlockd (the broker)" : "the daemon";
  return [{
    scope: "signal",
    for: who,
    enforced,
    needs_abi: SIGNAL_SCOPE_ABI,
    note: enforced
      ? `added: the command cannot signal ${whom}`
      : `best effort: Landlock ABI ${abi} has no signal scope (ABI ${SIGNAL_SCOPE_ABI}, Linux ${
        kernelForAbi(SIGNAL_SCOPE_ABI)
      }), so the command can signal ${whom}; killing it ends the sandbox`,
  }];
}

/**
 * Fits `policy` to this kernel; throws CompatError under strict compat.
 * A broker implies Landlock's signal scope: the sandbox must not be able to
 * signal the broker (landlockd itself). That scope is landlockd's, not the
 * policy's, so it is best effort (see ImpliedScope).
 */
export async function planSandbox(
  policy: Policy,
  /** Whose the command's tmpfs mounts are (a root daemon serving a user). */
  owner?: { uid: number; gid: number },
  /**
   * Add Landlock's signal scope where the kernel has it (ABI 6+), whatever
   * the policy says: the daemon's sandboxes must not signal the daemon.
   */
  scopeSignals = false,
): Promise<SandboxPlan> {
  const support = landlockSupport();
  const broker = policy.broker || socketRules(policy.net).udp === "dns" ||
      policy.net?.allow_hosts !== undefined
    ? (await brokerModules()).plan.planBroker(policy, hostArch())
    : undefined;
  const implied = impliedSignalScope(
    policy,
    scopeSignals ? "daemon" : broker ? "broker" : undefined,
    support.abi,
  );
  const landlockPolicy = implied.some((i) => i.enforced)
    ? { ...policy, scope: { ...policy.scope, signal: true } }
    : policy;
  try {
    const landlock = planLandlock(landlockPolicy, support.abi);
    return {
      support,
      landlock,
      implied,
      seccomp: planSeccomp(policy, broker?.notify ?? [], broker?.deny ?? []),
      capabilities_dropped: droppedCapabilitiesFor(
        policy.net,
        landlock.layers.length,
      ),
      broker,
      mounts: planMounts(
        policy,
        undefined,
        broker?.mounts !== undefined,
        owner,
      ),
      ...(policy.env ? { env: policy.env } : {}),
      ...(policy.net?.allow_hosts !== undefined
        ? { egress: { allow_hosts: policy.net.allow_hosts } }
        : {}),
    };
  } catch (e) {
    if (e instanceof CompatError && support.reason) {
      e.message = `${support.reason}\n${e.message}`;
    }
    throw e;
  }
}

/** A namespace or mount step failed; the message says what and why. */
export class SetupError extends Error {
  override name = "SetupError";
}

/** Turns a failed namespace or mount step into a message that says what to do. */
function setupError(e: unknown, mounts: MountPlan | undefined): unknown {
  if (!(e instanceof SpawnError) || !mounts) return e;
  const why = describeErrno(e.errno);
  if (e.step === "mounts") {
    return new SetupError(
      `${mountFailureHint(mounts, e.detail, e.code)}: ${why}`,
    );
  }
  if (
    e.step === "userns" ||
    (e.step === "none" && mounts.namespaces.includes("user"))
  ) {
    return new SetupError(
      `cannot create a user namespace for the mounts: ${why}; unprivileged user namespaces are disabled or restricted here (check kernel.apparmor_restrict_unprivileged_userns, user.max_user_namespaces, kernel.unprivileged_userns_clone; see landlockd abi). Policies without [mount] and [runtime] need no namespace.`,
    );
  }
  return e;
}

/** The command to run and where to look for it. */
export interface Command {
  argv: readonly string[];
  /** `PATH` for a bare name; undefined means the usual default. */
  path?: string;
}

/** execvp's search order for `argv[0]`, to be tried by the child. */
export function executableCandidates(cmd: Command): string[] {
  const name = cmd.argv[0];
  if (name.includes("/")) return [name];
  const path = cmd.path ?? "/usr/local/bin:/usr/bin:/bin";
  return path.split(":").map((dir) => `${dir || "."}/${name}`);
}

/**
 * The candidate execve takes (the first that is an executable file),
 * resolved; undefined when none is.
 */
export function firstExecutable(
  candidates: readonly string[],
): string | undefined {
  for (const c of candidates) {
    try {
      const real = Deno.realPathSync(c);
      const s = Deno.statSync(real);
      if (s.isFile && ((s.mode ?? 0) & 0o111)) return real;
    } catch {
      // not this one
    }
  }
  return undefined;
}

/** What a finished run reports. */
export interface RunResult {
  status: ExitStatus;
  exitCode: number;
  /** What the observer recorded, when the run was observed. */
  accesses?: AccessLog;
  /** What the egress proxy decided, when the run was observed. */
  proxy?: ProxyDecisions;
  /** The Landlock plan as enforced (StartedRun.landlock). */
  landlock?: LandlockPlan;
}

/** Where a run's command starts, when it is not landlockd's own context. */
export interface RunContext {
  /** The command's environment; default: landlockd's. */
  env?: Readonly<Record<string, string>>;
  /** The working directory (a policy's [runtime] cwd wins); default: ours. */
  cwd?: string;
  /** fds to become the command's 0, 1 and 2; default: ours. */
  stdio?: readonly [number, number, number];
  /** Signals the command starts with ignored; default: the ones we ignore. */
  sigIgnore?: bigint;
  /** The user to run the command as (a root daemon serving another user). */
  ids?: Identity;
  /**
   * Awaited when everything is prepared, just before the spawn. Tests use
   * it to make a start slower than Deno's 500 ms SIGUSR1 arming.
   */
  beforeSpawn?: () => Promise<void>;
  /**
   * Observe the command's file and TCP accesses (broker/observer.ts): every
   * one (mode "all", for learn), or those the plan refuses (mode
   * "denials", for --explain). Adds the observed calls to the seccomp
   * filter's user notifications; without it nothing is added.
   */
  observe?: ObserveOptions;
  /**
   * Have landlockd's spawner thread make the child, so this thread serves
   * other work while the child sets up and executes (syscalls/process.ts
   * spawnQueued). For a daemon with other runs active, whose SIGUSR1 was
   * disarmed before it served anything: the event loop runs during the
   * spawn.
   */
  queuedSpawn?: boolean;
}

/** A command that has been executed under its plan. */
export interface StartedRun {
  plan: SandboxPlan;
  /** With the broker's roots, opened before the command started. */
  child: Child & Pick<BrokerFds, "roots">;
  policyName: string;
  argv0: string;
  /** `performance.now()` just before the spawn. */
  started: number;
  /** What the run observes (RunContext.observe), if anything. */
  observe?: ObserveOptions;
  /** The egress proxy; the caller stops it once the command is reaped. */
  proxy?: ProxyHandle;
  /**
   * The Landlock plan as enforced: with the proxy's port allowed when
   * there is one (what an observer's verdicts must be judged against).
   */
  landlock: LandlockPlan;
}

/** The proxy's module, loaded only for policies with `allow_hosts`. */
function proxyModule() {
  return lazyImport<typeof import("../proxy/start.ts")>(
    "../proxy/start.ts",
    import.meta.url,
  );
}

/**
 * Builds the rulesets and filter, starts the command and emits the mount
 * and run.start events. Throws SpawnError, SetupError or a SyscallError.
 */
export async function startPlanned(
  plan: SandboxPlan,
  cmd: Command,
  audit: AuditSink,
  policyName: string,
  ctx: RunContext = {},
): Promise<StartedRun> {
  const filter = ctx.observe
    ? await compileSeccompFor(await observedSeccomp(plan.seccomp))
    : await compileSeccomp(plan.seccomp);
  // The proxy listens before the rules are built: its port is in them.
  let proxy: ProxyHandle | undefined;
  if (plan.egress) {
    try {
      proxy = await (await proxyModule()).startProxy(
        plan.egress.allow_hosts,
        audit.target?.fds ?? [],
        audit.target?.jobId,
        undefined,
        // Observed runs keep the proxy's decisions for the report.
        ctx.observe !== undefined,
      );
    } catch (e) {
      // Fail closed: no proxy, no run.
      throw new SetupError((e as Error).message);
    }
  }
  try {
    return await startWithProxy(
      plan,
      cmd,
      audit,
      policyName,
      ctx,
      filter,
      proxy,
    );
  } catch (e) {
    await proxy?.stop();
    throw e;
  }
}

/**
 * The command's environment, kept per environment object for the last
 * `[env]` it was filtered by: the daemon passes the same object again when
 * a connection's run reuses its environment (daemon/protocol.ts), and a
 * cached plan's `[env]` is the same object too. Read-only; the caller
 * copies it.
 */
const filtered = new WeakMap<
  object,
  { spec: EnvSpec | undefined; env: Readonly<Record<string, string>> }
>();

function environmentOf(
  spec: EnvSpec | undefined,
  env: Readonly<Record<string, string>>,
): Readonly<Record<string, string>> {
  const kept = filtered.get(env);
  if (kept && kept.spec === spec) return kept.env;
  const out = commandEnvironment(spec, env);
  filtered.set(env, { spec, env: out });
  return out;
}

async function startWithProxy(
  plan: SandboxPlan,
  cmd: Command,
  audit: AuditSink,
  policyName: string,
  ctx: RunContext,
  filter:
    | Awaited<ReturnType<typeof compileSeccomp>>
    | Awaited<ReturnType<typeof compileSeccompFor>>,
  proxy: ProxyHandle | undefined,
): Promise<StartedRun> {
  const landlock = proxy
    ? withProxyPort(plan.landlock, proxy.port)
    : plan.landlock;
  // The broker lets TCP connects reach this port on 127.0.0.1 only. The
  // plan is this run's own (the caller serves plan.broker after this).
  if (proxy && plan.broker?.tcp) plan.broker.tcp.proxy_port = proxy.port;
  const proxyEnv = proxy?.env ?? {};
  // Loaded before the clock starts. The roots are opened before the command
  // exists, so it cannot move or replace them first.
  const roots = plan.broker
    ? (await brokerModules()).roots.openRoots(plan.broker.grants, ctx.ids)
    : [];
  await ctx.beforeSpawn?.();
  // No \`await\` from here to the spawn: Deno arms its SIGUSR1 inspector
  // (500 ms after start) only when its event loop runs, so a handler that
  // came during the awaits above is taken away now, for good. (A queued
  // spawn awaits; its caller, the daemon, disarmed before serving.)
  disarmInspectorSignal();
  const { fds: layerFds, late } = buildRulesets(landlock, plan.mounts);
  const started = performance.now();
  let child: Child;
  try {
    const request: SpawnRequest = {
      candidates: executableCandidates(cmd),
      argv: cmd.argv,
      // The same object for the same environment and [env] (no proxy):
      // its envp is then made once (syscalls/process.ts).
      env: proxy
        ? {
          ...environmentOf(plan.env, ctx.env ?? Deno.env.toObject()),
          ...proxyEnv,
        }
        : environmentOf(plan.env, ctx.env ?? Deno.env.toObject()),
      stdio: ctx.stdio,
      sigIgnore: ctx.sigIgnore,
      ids: ctx.ids,
      dropCaps: capabilityMask(plan.capabilities_dropped),
      layerFds,
      noNewPrivs: true,
      seccompFilter: filter,
      seccompFlags: plan.broker || ctx.observe ? LISTENER_FILTER_FLAGS : 0,
      cloneFlags: plan.mounts?.clone_flags,
      lateRules: late,
      mountHelper: plan.broker?.mounts !== undefined,
      mounts: plan.mounts?.steps,
      cwd: plan.mounts?.cwd ?? ctx.cwd,
    };
    child = ctx.queuedSpawn ? await spawnQueued(request) : spawn(request);
  } catch (e) {
    roots.forEach(([, fd]) => close(fd));
    throw setupError(e, plan.mounts);
  } finally {
    layerFds.forEach(close);
  }
  for (const m of plan.mounts?.mounts ?? []) {
    audit.emit("mount", `mount.${m.kind}`, {
      pid: child.pid,
      target: m.target,
      ...(m.source ? { source: m.source } : {}),
      ...(m.kind === "bind" ? { read_only: m.read_only ?? false } : {}),
      namespaces: plan.mounts!.namespaces,
    });
  }
  audit.emit("runner", "run.start", {
    pid: child.pid,
    policy: policyName,
    argv0: cmd.argv[0],
    abi: plan.support.abi,
    kernel_abi: plan.support.kernel_abi,
    status: plan.landlock.status,
    dropped: plan.landlock.dropped,
    ...(plan.landlock.stricter.length
      ? { stricter: plan.landlock.stricter }
      : {}),
    ...(plan.implied.length ? { implied: plan.implied } : {}),
    ...(proxy ? { proxy_port: proxy.port } : {}),
  });
  return {
    plan,
    child: { ...child, roots },
    policyName,
    argv0: cmd.argv[0],
    started,
    ...(ctx.observe ? { observe: ctx.observe } : {}),
    ...(proxy ? { proxy } : {}),
    landlock,
  };
}

/** The seccomp plan with the observed calls added to its notifications. */
async function observedSeccomp(seccomp: SeccompPlan): Promise<SeccompPlan> {
  const { calls } = await observerModules();
  const notify = new Set([
    ...seccomp.notify,
    ...calls.observedCalls(seccomp.arch),
  ]);
  return { ...seccomp, notify: [...notify] };
}

/** The fds a run's broker owns: the seccomp listener and the mount helper's. */
export interface BrokerFds {
  listenerFd: number;
  pidfd: number;
  /** -1 without brokered mounts. */
  helperFd: number;
  /**
   * The scratch and export roots, opened before the command started; the
   * broker owns and closes them.
   */
  roots?: [string, number][];
}

/** Closes what a broker owns (not the pidfd, which the run's waiter holds). */
export function closeBrokerFds(fds: Omit<BrokerFds, "pidfd">): void {
  close(fds.listenerFd);
  if (fds.helperFd >= 0) close(fds.helperFd);
}

/** What serves a run's listener: its broker, or an observer around it. */
export type Served =
  | import("../broker/broker.ts").Broker
  | import("../broker/observer.ts").Observer;

/** How a run is observed, with the plan's verdicts for mode "denials". */
export interface Observing extends ObserveOptions {
  landlock: LandlockPlan;
  /** The command's own executable, resolved (its exec is not notified). */
  exec?: string;
}

/**
 * Opens a run's broker, or its observer (with the broker inside, if any);
 * the caller serves it (`serve`, or `handle` on a thread that serves
 * several) and then closes it and its fds. Closes the fds itself if it
 * cannot be opened.
 */
export async function openBroker(
  broker: BrokerPlan | undefined,
  arch: SeccompPlan["arch"],
  fds: BrokerFds,
  audit: AuditSink,
  observe?: Observing,
): Promise<Served> {
  const lib = await brokerModules();
  try {
    // An observer sees every call: the C fast path answers none of them.
    const fast = broker && !observe
      ? lib.plan.fastPath(broker, arch)
      : { prefixes: [], calls: [] };
    const listener = new lib.notify.Listener(fds.listenerFd, fds.pidfd, fast);
    const served = broker
      ? new lib.broker.Broker(
        broker,
        listener,
        audit,
        arch,
        fds.helperFd,
        fds.roots ?? [],
      )
      : undefined;
    if (!observe) {
      if (!served) throw new Error("neither a broker nor an observer to open");
      return served;
    }
    const { observer, verdict } = await observerModules();
    const resolved = observe.mode === "denials"
      ? verdict.resolvePlan(observe.landlock, realPathOrUndefined)
      : undefined;
    return new observer.Observer(listener, arch, {
      mode: observe.mode,
      ...(observe.limit !== undefined ? { limit: observe.limit } : {}),
      ...(resolved
        ? { refuses: (a) => verdict.refusal(resolved, a) !== undefined }
        : {}),
      ...(observe.exec
        ? {
          before: [{
            op: "exec" as const,
            path: observe.exec,
            syscall: "execve",
            rights: ["execute", "read_file"],
          }],
        }
        : {}),
    }, served);
  } catch (e) {
    closeBrokerFds(fds);
    lib.roots.closeRoots(fds.roots ?? []);
    throw e;
  }
}

/** Where `path` leads, or undefined when it does not exist. */
export function realPathOrUndefined(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/**
 * Serves the run's broker or observer on this thread until the command is
 * gone, then closes its fds; returns what an observer recorded. The
 * caller must do nothing else on this thread meanwhile: the loop blocks
 * in synchronous FFI calls.
 */
export async function serveBroker(
  broker: BrokerPlan | undefined,
  arch: SeccompPlan["arch"],
  fds: BrokerFds,
  audit: AuditSink,
  observe?: Observing,
): Promise<AccessLog | undefined> {
  const served = await openBroker(broker, arch, fds, audit, observe);
  const { notify, broker: brokerModule } = await brokerModules();
  const slot = notify.watchRemoteReads();
  const kills = notify.watchdogKills(slot);
  disarmInspectorSignal(); // the awaits above ran the event loop
  try {
    served.serve();
  } finally {
    closeBrokerFds(fds);
  }
  if (notify.watchdogKills(slot) !== kills) {
    throw new brokerModule.BrokerError(
      `broker failed, sandbox killed: reading its memory waited longer than ${notify.REMOTE_READ_DEADLINE_MS} ms (a page held back with userfaultfd?)`,
    );
  }
  return "log" in served ? served.log() : undefined;
}

/** Emits run.exit or run.signal for a reaped command. */
export function finishRun(
  run: StartedRun,
  status: ExitStatus,
  audit: AuditSink,
  forwarded: string[],
): RunResult {
  const common = {
    pid: run.child.pid,
    exit_code: exitCodeOf(status),
    duration_ms: Math.round((performance.now() - run.started) * 1000) / 1000,
    forwarded_signals: forwarded,
  };
  if ("signal" in status) {
    audit.emit("runner", "run.signal", {
      ...common,
      signal: signalName(status.signal),
    });
  } else {
    audit.emit("runner", "run.exit", common);
  }
  return { status, exitCode: exitCodeOf(status) };
}

/**
 * Starts the command under the plan in landlockd's own context, forwards
 * landlockd's signals to it, serves its broker on this thread, waits for
 * it, and reports.
 */
export async function runPlanned(
  plan: SandboxPlan,
  cmd: Command,
  audit: AuditSink,
  policyName: string,
  ctx: Pick<RunContext, "beforeSpawn" | "observe"> = {},
): Promise<RunResult> {
  forwardSignals(FORWARDED_SIGNALS);
  // If Deno has armed its SIGUSR1 inspector by now (its handler comes 500 ms
  // after start), the command must not be able to use it. startPlanned
  // disarms again after its last await, and serveBroker after its own;
  // then this thread stays in synchronous calls until the end.
  disarmInspectorSignal();
  const run = await startPlanned(plan, cmd, audit, policyName, ctx);
  const { child } = run;
  forwardSignalsTo(child.pidfd);
  let status: ExitStatus;
  let accesses: AccessLog | undefined;
  let decisions: ProxyDecisions | undefined;
  try {
    // Nothing else runs on this thread meanwhile: signals are forwarded by
    // the C handler, so the broker and the wait can block it.
    if (plan.broker || ctx.observe) {
      accesses = await serveBroker(
        plan.broker,
        plan.seccomp.arch,
        child,
        audit,
        ctx.observe && {
          ...ctx.observe,
          landlock: run.landlock,
          exec: firstExecutable(executableCandidates(cmd)),
        },
      );
    }
    status = waitChildSync(child.pidfd);
  } finally {
    forwardSignalsTo(-1);
    close(child.pidfd);
    decisions = await run.proxy?.stop();
  }
  const forwarded = FORWARDED_SIGNALS.filter((s) => forwardedCount(s) > 0)
    .map(signalName);
  const result: RunResult = finishRun(run, status, audit, forwarded);
  if (accesses) {
    accesses.cutShort = "signal" in status;
    result.accesses = accesses;
  }
  if (decisions) result.proxy = decisions;
  result.landlock = run.landlock;
  return result;
}
