/**
 * `landlockd serve`: accepts clients on a Unix socket, checks who they
 * are, and runs their commands in sandboxes, many at once.
 *
 * Threads: the JS thread accepts, parses and spawns a lone run itself; with
 * other runs active it hands the spawn to the C library's spawner threads
 * and serves them meanwhile (children must come from threads that live as
 * long as the daemon: PR_SET_PDEATHSIG follows the thread that forked).
 * Blocking reads and waits run on the runtime's blocking pool; each
 * brokered run's broker has a Worker of its own.
 *
 * @module
 */

import { type AuditSink, auditToFd } from "../../audit/audit.ts";
import { EXIT, failureStatus } from "../../exit_status.ts";
import type { Source } from "../../policy/diagnostic.ts";
import { degradedWarning, runFailure } from "../../sandbox/report.ts";
import {
  finishRun,
  type SandboxPlan,
  type StartedRun,
  startPlanned,
} from "../../sandbox/run.ts";
import { signalName } from "../../sandbox/signals.ts";
import { landlockSupport, observeSupport } from "../../sandbox/kernel.ts";
import { explainDenials, sectionOrigin } from "../../sandbox/explain.ts";
import { type Denial, denialEvent } from "../../observe/explain.ts";
import type { AccessLog } from "../../observe/access.ts";
import type { ProxyDecisions } from "../../proxy/record.ts";
import { DENIALS_IN_REPLY } from "../protocol.ts";
import { type ExitStatus, waitChildNow } from "../../syscalls/process.ts";
import { SIGKILL, signalPidfd } from "../../syscalls/pidfd.ts";
import { close } from "../../syscalls/sys.ts";
import { VERSION } from "../../version.ts";
import { nonBlocking, teeAudit } from "./audit.ts";
import { BrokerPool } from "./broker_pool.ts";
import { captureStdio, type Output } from "./capture.ts";
import {
  ClientConn,
  PAUSE_READING_BYTES,
  refuseConnection,
} from "./connection.ts";
import {
  checkInterval,
  type Deadlines,
  expired,
  expiredMessage,
} from "./deadlines.ts";
import { type Hardening, inspectorSignalRearmed } from "./harden.ts";
import { IdleCollector } from "./idle_gc.ts";
import { PolicyCache } from "./policies.ts";
import {
  type ConnectionLimits,
  encodeFrame,
  fdsFor,
  type Frame,
  LIMITS,
  parseRequest,
  ProtocolError,
  RequestError,
  type RunMemory,
  type RunRequest,
} from "../protocol.ts";
import { EPOLLIN, Reactor } from "./reactor.ts";
import {
  acceptNow,
  type Peer,
  peerOf,
  shutdownSocket,
} from "../../syscalls/unix_socket.ts";
import { setNonBlocking } from "../../syscalls/fd.ts";

/** Frames of one connection handled in a row before the others' turn. */
const FRAMES_PER_TURN = 8;

/** How the daemon was started. */
export interface DaemonOptions {
  /** A listening Unix stream socket. */
  listenFd: number;
  /** Where it is, for messages and `status` (systemd: as passed). */
  socketPath: string;
  systemd: boolean;
  /** Peers allowed besides the daemon's own uid. */
  allowUids: readonly number[];
  allowGids: readonly number[];
  /** The daemon's audit fd, or -1. */
  auditFd: number;
  hardening: Hardening;
  /** Grace for SIGTERM and SIGINT, in seconds. */
  grace: number;
  /** Connection limits and deadlines other than LIMITS' defaults. */
  limits?: Partial<ConnectionLimits>;
}

/** One run in flight. */
interface ActiveRun {
  key: string;
  id: number;
  conn: ClientConn;
  peer: Peer;
  policy: string;
  argv0: string;
  startedAt: string;
  pid?: number;
  pidfd?: number;
  forwarded: Set<number>;
  killed: boolean;
  done: Promise<void>;
}

/** Who a connection belongs to. */
interface Client {
  conn: ClientConn;
  peer: Peer;
  runs: Map<number, ActiveRun>;
  /** Frames read and not yet handled (reading pauses while replies wait). */
  backlog: Frame[];
  /** The peer has closed its side. */
  eof: boolean;
  /** Over a connection limit: the owner or root, for `status` and `stop`. */
  control: boolean;
  /** Whether it still holds its slot (see #uncount). */
  counted: boolean;
  /** Set once the connection is ending. */
  gone?: Promise<void>;
  /** What its runs last sent of the fields a run may reuse (its alone). */
  memory: RunMemory;
}

/** A daemon serving one listening socket until it is stopped. */
export class Daemon {
  readonly #opts: DaemonOptions;
  readonly #audit: AuditSink;
  readonly #policies = new PolicyCache();
  readonly #brokers = new BrokerPool();
  /**
   * The JS thread may wait on the reactor's fds itself when every active
   * run is only waiting for its command to exit (see Reactor).
   */
  readonly #reactor = new Reactor(() =>
    this.#runs.size === this.#parked && this.#waiting.size === 0 &&
    this.#stopping === undefined
  );
  /** Runs waiting for their exit that need nothing but the reactor. */
  #parked = 0;
  readonly #runs = new Map<string, ActiveRun>();
  readonly #idleGc = new IdleCollector(() => this.#runs.size > 0);
  readonly #clients = new Set<Client>();
  readonly #started = Date.now();
  readonly #uid = Deno.uid() ?? 0;
  readonly #stopWaiters: { conn: ClientConn; id: number }[] = [];
  readonly #limits: ConnectionLimits & Deadlines;
  /** Open connections per peer uid, control connections not counted. */
  readonly #perUid = new Map<number, number>();
  #control = 0;
  #normal = 0;
  /** Connections with frames left for a later turn. */
  readonly #waiting = new Set<Client>();
  #serial = 0;
  #stopping: Promise<void> | undefined;
  #stopNow: (() => void) | undefined;
  #totals = {
    connections: 0,
    refused: 0,
    runs_started: 0,
    runs_finished: 0,
    runs_failed: 0,
    protocol_errors: 0,
  };

  constructor(opts: DaemonOptions) {
    this.#opts = opts;
    this.#limits = {
      connections: LIMITS.connections,
      connectionsPerUid: LIMITS.connectionsPerUid,
      frameTimeout: LIMITS.frameTimeout,
      idleTimeout: LIMITS.idleTimeout,
      writeTimeout: LIMITS.writeTimeout,
      ...opts.limits,
    };
    setNonBlocking(opts.listenFd);
    this.#audit = opts.auditFd >= 0
      ? auditToFd(opts.auditFd)
      : { emit() {}, close() {} };
  }

  /** Accepts clients until stopped; resolves with the exit code. */
  async serve(): Promise<number> {
    const support = landlockSupport();
    this.#audit.emit("daemon", "daemon.listen", {
      pid: Deno.pid,
      uid: this.#uid,
      socket: this.#opts.socketPath,
      systemd: this.#opts.systemd,
      version: VERSION,
      abi: support.abi,
      allow_uids: [...this.#opts.allowUids],
      allow_gids: [...this.#opts.allowGids],
      no_new_privs: this.#opts.hardening.no_new_privs,
      seccomp_deny: this.#opts.hardening.seccomp_deny,
    });
    const onSignal = () => {
      if (this.#stopping) this.#stopNow?.();
      else this.stop(this.#opts.grace, false, "signal");
    };
    Deno.addSignalListener("SIGTERM", onSignal);
    Deno.addSignalListener("SIGINT", onSignal);
    this.#reactor.add(this.#opts.listenFd, EPOLLIN, () => this.#accept());
    // Deno's SIGUSR1 inspector must stay off (see daemon/harden.ts).
    const watchdog = setInterval(() => {
      if (inspectorSignalRearmed()) {
        this.#audit.emit("daemon", "daemon.error", {
          message: "a SIGUSR1 handler was installed again; ignored it",
        });
      }
    }, 500);
    const deadlines = setInterval(
      () => this.#deadlines(),
      checkInterval(this.#limits),
    );
    await this.#reactor.run();
    clearInterval(watchdog);
    clearInterval(deadlines);
    await this.#stopping;
    Deno.removeSignalListener("SIGTERM", onSignal);
    Deno.removeSignalListener("SIGINT", onSignal);
    return EXIT.OK;
  }

  /** Takes every waiting connection. */
  #accept(): void {
    for (;;) {
      let fd: number;
      try {
        fd = acceptNow(this.#opts.listenFd);
      } catch (e) {
        // EMFILE and the like: say so, and stop watching the socket for a
        // moment (it stays readable, so the reactor would spin).
        this.#audit.emit("daemon", "daemon.error", {
          message: (e as Error).message,
        });
        this.#reactor.remove(this.#opts.listenFd);
        setTimeout(() => {
          if (this.#stopping) return;
          this.#reactor.add(this.#opts.listenFd, EPOLLIN, () => this.#accept());
        }, 100);
        return;
      }
      if (fd < 0) return;
      if (this.#stopping) close(fd);
      else this.#connection(fd);
    }
  }

  /**
   * Why a new connection of `peer` is over a limit, or undefined. Each
   * uid has its own limit below the global one, so no one uid can fill
   * the daemon; the daemon's uid and root then still get a control slot.
   */
  #overLimit(peer: Peer): string | undefined {
    const { connections, connectionsPerUid } = this.#limits;
    if (this.#normal >= connections) {
      return `the daemon has ${connections} connections open; try again later`;
    }
    if ((this.#perUid.get(peer.uid) ?? 0) >= connectionsPerUid) {
      return `uid ${peer.uid} has ${connectionsPerUid} connections open, the limit per uid; try again later`;
    }
    return undefined;
  }

  /**
   * Whether a control slot is free, freeing one if need be: the oldest
   * control connection with no request in hand makes way, so a flood of
   * connections by the daemon's own uid cannot keep `stop` out.
   */
  #controlSlot(): boolean {
    if (this.#control < LIMITS.controlConnections) return true;
    for (const client of this.#clients) {
      if (!client.control || client.gone || client.backlog.length) continue;
      client.conn.send(encodeFrame({
        type: "error",
        error: "limit",
        message: "a newer control connection took this one's slot",
        exit_code: EXIT.DAEMON,
      }));
      this.#uncount(client);
      this.#disconnect(client);
      return true;
    }
    return false;
  }

  /** Checks every connection's deadlines (daemon/deadlines.ts). */
  #deadlines(): void {
    const now = performance.now();
    for (const client of this.#clients) {
      const { conn } = client;
      // A control connection is for one quick question.
      const limits = client.control
        ? { ...this.#limits, idleTimeout: this.#limits.frameTimeout }
        : this.#limits;
      const why = expired(
        {
          partialSince: conn.partialSince,
          lastActive: conn.lastActive,
          lastWrite: conn.lastWrite,
          queued: conn.queued,
          busy: client.runs.size + client.backlog.length,
        },
        limits,
        now,
      );
      if (!why || (client.gone && why !== "write")) continue;
      if (why === "write") {
        conn.shutdown(); // the peer does not read: nothing more is sent
      } else {
        conn.send(encodeFrame({
          type: "error",
          error: "timeout",
          message: expiredMessage(why, limits),
          exit_code: EXIT.DAEMON,
        }));
      }
      this.#audit.emit("daemon", "daemon.request", {
        peer_pid: client.peer.pid,
        peer_uid: client.peer.uid,
        type: "invalid",
        accepted: false,
        error: expiredMessage(why, limits),
      });
      this.#disconnect(client);
    }
  }

  /**
   * Resolves with the exit status once the reactor sees `pidfd` ready.
   * `parked`: until then the run needs nothing else (no broker, no proxy),
   * so it does not keep the JS thread from waiting on the reactor.
   */
  #exited(pidfd: number, parked: boolean): Promise<ExitStatus> {
    return new Promise((resolve, reject) => {
      this.#reactor.add(pidfd, EPOLLIN, () => {
        let status: ExitStatus | undefined;
        try {
          status = waitChildNow(pidfd);
          if (status === undefined) return;
        } catch (e) {
          this.#reactor.remove(pidfd);
          if (parked) this.#parked--;
          return reject(e);
        }
        this.#reactor.remove(pidfd);
        if (parked) this.#parked--;
        resolve(status);
      });
      if (parked) this.#parked++; // once the reactor watches it
    });
  }

  /** Refuses new runs, lets active ones finish for `grace` s, kills the rest. */
  stop(
    grace: number,
    now: boolean,
    reason: "request" | "signal",
  ): Promise<void> {
    if (this.#stopping) {
      if (now) this.#stopNow?.();
      return this.#stopping;
    }
    this.#reactor.remove(this.#opts.listenFd);
    shutdownSocket(this.#opts.listenFd);
    this.#audit.emit("daemon", "daemon.stop", {
      reason,
      grace_s: grace,
      now,
      active: this.#runs.size,
    });
    let killed = 0;
    const killAll = () => {
      for (const run of this.#runs.values()) {
        if (this.#kill(run)) killed++;
      }
    };
    this.#stopping = (async () => {
      const active = this.#runs.size;
      let timer: ReturnType<typeof setTimeout> | undefined;
      const forced = new Promise<void>((resolve) => {
        this.#stopNow = () => {
          killAll();
          resolve();
        };
        if (now) this.#stopNow();
        else timer = setTimeout(this.#stopNow, grace * 1000);
      });
      // Wait for every run, killing them at the deadline.
      await Promise.race([this.#allDone(), forced]);
      await this.#allDone();
      clearTimeout(timer);
      this.#audit.emit("daemon", "daemon.exit", {
        reason,
        grace_s: grace,
        active_at_stop: active,
        killed,
        runs_started: this.#totals.runs_started,
        uptime_s: this.#uptime(),
      });
      for (const w of this.#stopWaiters) {
        await w.conn.send(encodeFrame({ type: "stopped", id: w.id, killed }));
      }
      for (const client of this.#clients) client.conn.shutdown();
      this.#brokers.close();
      this.#idleGc.close();
      this.#reactor.stop();
    })();
    return this.#stopping;
  }

  async #allDone(): Promise<void> {
    while (this.#runs.size) {
      await Promise.all([...this.#runs.values()].map((r) => r.done));
    }
  }

  #uptime(): number {
    return Math.round((Date.now() - this.#started) / 100) / 10;
  }

  #allowed(peer: Peer): boolean {
    if (peer.uid === this.#uid || peer.uid === 0) return true;
    if (this.#opts.allowUids.includes(peer.uid)) return true;
    return [peer.gid, ...peer.groups].some((g) =>
      this.#opts.allowGids.includes(g)
    );
  }

  #connection(fd: number): void {
    this.#totals.connections++;
    let peer: Peer;
    try {
      peer = peerOf(fd);
    } catch {
      close(fd);
      return;
    }
    const allowed = this.#allowed(peer);
    this.#audit.emit("daemon", "daemon.peer", {
      peer_pid: peer.pid,
      peer_uid: peer.uid,
      peer_gid: peer.gid,
      allowed,
    });
    if (!allowed) {
      this.#totals.refused++;
      refuseConnection(
        fd,
        encodeFrame({
          type: "error",
          error: "refused",
          message:
            `uid ${peer.uid} may not use this landlockd daemon (it serves uid ${this.#uid}; see serve --allow-uid and --allow-gid)`,
          exit_code: EXIT.DAEMON,
        }),
      );
      return;
    }
    const over = this.#overLimit(peer);
    const control = over !== undefined &&
      (peer.uid === this.#uid || peer.uid === 0) && this.#controlSlot();
    if (over !== undefined && !control) {
      this.#totals.refused++;
      refuseConnection(
        fd,
        encodeFrame({
          type: "error",
          error: "limit",
          message: over,
          exit_code: EXIT.DAEMON,
        }),
      );
      return;
    }
    if (control) this.#control++;
    else {
      this.#normal++;
      this.#perUid.set(peer.uid, (this.#perUid.get(peer.uid) ?? 0) + 1);
    }
    const client: Client = {
      conn: undefined as unknown as ClientConn,
      peer,
      runs: new Map(),
      backlog: [],
      eof: false,
      control,
      counted: true,
      memory: {},
    };
    client.conn = new ClientConn(fd, this.#reactor, {
      readable: () => this.#readable(client),
      drained: () => {
        if (!client.conn.isReading) this.#work(client);
      },
      overflow: () => this.#disconnect(client),
    });
    this.#clients.add(client);
  }

  /** The client's socket is ready: handle its frames, or its departure. */
  #readable(client: Client): void {
    const { conn, peer } = client;
    try {
      // A hang-up while reading is paused: the peer is gone.
      if (!conn.isReading) return this.#disconnect(client);
      const { frames, eof } = conn.readNow();
      client.backlog.push(...frames);
      client.eof ||= eof;
      this.#work(client);
    } catch (e) {
      // A frame that cannot be read: say why, then end this connection only.
      this.#totals.protocol_errors++;
      const code = e instanceof ProtocolError ? e.code : "protocol";
      this.#audit.emit("daemon", "daemon.request", {
        peer_pid: peer.pid,
        peer_uid: peer.uid,
        type: "invalid",
        accepted: false,
        error: (e as Error).message,
      });
      conn.send(encodeFrame({
        type: "error",
        error: code,
        message: (e as Error).message,
        exit_code: EXIT.DAEMON,
      }));
      this.#disconnect(client);
    }
  }

  /**
   * Handles the frames read, one at a time; while more than
   * PAUSE_READING_BYTES of replies wait, reading pauses until they are
   * written. fds that no frame took are closed once no frame is half-read.
   */
  #work(client: Client): void {
    const { conn } = client;
    let handled = 0;
    while (client.backlog.length && !conn.closed) {
      if (conn.queued > PAUSE_READING_BYTES) return conn.reading(false);
      if (handled++ === FRAMES_PER_TURN) {
        // Others' turn: the rest waits, and so does reading.
        conn.reading(false);
        return this.#later(client);
      }
      this.#request(client, client.backlog.shift()!);
    }
    if (!conn.closed && conn.partial === 0) conn.dropFds();
    if (!conn.closed) conn.reading(true);
    if (client.eof || conn.closed) this.#disconnect(client);
  }

  /** Continues `client`'s backlog after the other connections' turns. */
  #later(client: Client): void {
    this.#waiting.add(client);
    if (this.#waiting.size > 1) return;
    setTimeout(() => {
      const turn = [...this.#waiting];
      this.#waiting.clear();
      for (const c of turn) if (!c.gone) this.#work(c);
    }, 0);
  }

  /**
   * Ends a connection: replies already queued are written (within the
   * write deadline), its sandboxes are killed, then its fd is closed.
   */
  #disconnect(client: Client): void {
    if (client.gone) return;
    const { conn } = client;
    conn.end();
    client.backlog.length = 0;
    client.gone = (async () => {
      await conn.flush();
      conn.shutdown();
      for (const run of client.runs.values()) this.#kill(run);
      await Promise.all([...client.runs.values()].map((r) => r.done));
      this.#clients.delete(client);
      this.#uncount(client);
      conn.release();
      this.#idleGc.touch();
    })();
  }

  /** Gives back the slot a connection took (once). */
  #uncount(client: Client): void {
    if (!client.counted) return;
    client.counted = false;
    if (client.control) return void this.#control--;
    this.#normal--;
    const n = (this.#perUid.get(client.peer.uid) ?? 1) - 1;
    if (n > 0) this.#perUid.set(client.peer.uid, n);
    else this.#perUid.delete(client.peer.uid);
  }

  /** Handles one frame; never throws (a bad frame ends the connection). */
  #request(client: Client, frame: Frame): void {
    const { conn, peer } = client;
    let req;
    try {
      req = parseRequest(frame, client.memory);
    } catch (e) {
      if (!(e instanceof RequestError)) throw e;
      this.#totals.protocol_errors++;
      this.#audit.emit("daemon", "daemon.request", {
        peer_pid: peer.pid,
        peer_uid: peer.uid,
        type: typeof frame.header.type === "string"
          ? frame.header.type
          : "invalid",
        ...(e.id !== undefined ? { id: e.id } : {}),
        accepted: false,
        error: e.message,
      });
      conn.send(encodeFrame({
        type: "error",
        ...(e.id !== undefined ? { id: e.id } : {}),
        error: e.code,
        message: e.message,
        exit_code: EXIT.DAEMON,
      }));
      // A malformed request leaves the stream's state unknown (fds may be
      // queued for it): end the connection, keep the daemon serving.
      conn.end();
      return;
    }
    const refuse = (error: string, message: string) => {
      this.#audit.emit("daemon", "daemon.request", {
        peer_pid: peer.pid,
        peer_uid: peer.uid,
        type: req.type,
        id: req.id,
        accepted: false,
        error: message,
      });
      conn.send(encodeFrame({
        type: "error",
        id: req.id,
        error,
        message,
        exit_code: EXIT.DAEMON,
      }));
    };
    if (client.control && req.type !== "status" && req.type !== "stop") {
      if (req.type === "run") conn.dropFds();
      return refuse(
        "limit",
        "the daemon is at its connection limit: this connection may only ask for status and stop",
      );
    }
    switch (req.type) {
      case "status":
        conn.send(
          encodeFrame({ type: "status", id: req.id, ...this.status(peer) }),
        );
        return;
      case "stop":
        if (peer.uid !== this.#uid && peer.uid !== 0) {
          return refuse(
            "refused",
            `only uid ${this.#uid} or root may stop this daemon`,
          );
        }
        this.#audit.emit("daemon", "daemon.request", {
          peer_pid: peer.pid,
          peer_uid: peer.uid,
          type: "stop",
          id: req.id,
          accepted: true,
        });
        conn.send(
          encodeFrame({
            type: "stopping",
            id: req.id,
            active: this.#runs.size,
          }),
        );
        this.#stopWaiters.push({ conn, id: req.id });
        this.stop(req.grace, req.now, "request");
        return;
      case "signal": {
        const run = client.runs.get(req.id);
        if (run?.pidfd !== undefined && !run.killed) {
          signalPidfd(run.pidfd, req.signal);
          run.forwarded.add(req.signal);
        }
        return;
      }
      case "run": {
        const fds = conn.takeFds(fdsFor(req));
        if (!fds) {
          refuse(
            "protocol",
            `a run with stdio "fds" needs ${
              fdsFor(req)
            } file descriptors passed with its frame (SCM_RIGHTS)`,
          );
          conn.end();
          return;
        }
        if (this.#stopping) {
          fds.forEach(close);
          return refuse(
            "stopping",
            "the daemon is stopping and starts no new runs",
          );
        }
        if (client.runs.has(req.id)) {
          fds.forEach(close);
          return refuse(
            "protocol",
            `id ${req.id} is already in use on this connection`,
          );
        }
        if (client.runs.size >= LIMITS.runsPerConnection) {
          fds.forEach(close);
          return refuse(
            "limit",
            `more than ${LIMITS.runsPerConnection} runs in flight on one connection`,
          );
        }
        this.#audit.emit("daemon", "daemon.request", {
          peer_pid: peer.pid,
          peer_uid: peer.uid,
          type: "run",
          id: req.id,
          accepted: true,
          policy: req.policy.name,
          argv0: req.argv[0],
        });
        const run: ActiveRun = {
          key: `${++this.#serial}`,
          id: req.id,
          conn,
          peer,
          policy: req.policy.name,
          argv0: req.argv[0],
          startedAt: new Date().toISOString(),
          forwarded: new Set(),
          killed: false,
          done: Promise.resolve(),
        };
        client.runs.set(req.id, run);
        this.#runs.set(run.key, run);
        run.done = this.#run(run, req, fds, frame.body).finally(() => {
          client.runs.delete(req.id);
          this.#runs.delete(run.key);
          conn.lastActive = performance.now();
          this.#idleGc.touch();
        });
        return;
      }
    }
  }

  /** Kills a run's sandbox; true if a signal was sent. */
  #kill(run: ActiveRun): boolean {
    run.killed = true;
    if (run.pidfd === undefined) return false;
    return signalPidfd(run.pidfd, SIGKILL);
  }

  async #run(
    run: ActiveRun,
    req: RunRequest,
    fds: number[],
    stdin: Uint8Array,
  ): Promise<void> {
    const { conn } = run;
    const source: Source = { name: req.policy.name, text: req.policy.text };
    const [stdio, auditFd] = req.stdio === "fds"
      ? [fds.slice(0, 3) as [number, number, number], fds[3] ?? -1]
      : [undefined, -1];
    // A client's audit fd never blocks the daemon: a pipe its client does
    // not read loses events instead (O_NONBLOCK; no effect on files).
    const clientAudit = auditFd >= 0 && nonBlocking(auditFd) ? auditFd : -1;
    const auditFds = [this.#opts.auditFd, clientAudit].filter((fd) => fd >= 0);
    const jobId = req.env.LANDLOCKD_JOB_ID || undefined;
    // A root daemon runs another user's commands as that user.
    const ids = this.#uid === 0 && run.peer.uid !== 0
      ? { uid: run.peer.uid, gid: run.peer.gid, groups: run.peer.groups }
      : undefined;
    const audit = teeAudit(auditFds.map(auditToFd), jobId);
    // --explain: observed where this kernel can; said so where it cannot.
    const cannotExplain = req.explain ? observeSupport() : undefined;
    const observe = req.explain && cannotExplain === undefined
      ? { mode: "denials" as const }
      : undefined;
    let capture;
    let started: StartedRun | undefined;
    try {
      let plan: SandboxPlan;
      try {
        plan = await this.#policies.plan(source, req.env, ids, req.trust);
        if (req.stdio === "capture") {
          capture = captureStdio(stdin, this.#reactor);
        }
        started = await startPlanned(
          plan,
          { argv: req.argv, path: req.env.PATH },
          audit,
          source.name,
          {
            env: req.env,
            cwd: req.cwd,
            stdio: stdio ?? capture!.child,
            sigIgnore: req.sig_ignore,
            ids,
            ...(observe ? { observe } : {}),
            // With other runs active, the JS thread serves them while this
            // child sets up and executes; a lone run spawns right here (a
            // thread hop would only add to its latency).
            queuedSpawn: this.#runs.size > 1,
          },
        );
      } finally {
        stdio?.forEach(close);
        capture?.child.forEach(close);
      }
      this.#totals.runs_started++;
      const { child } = started;
      run.pid = child.pid;
      run.pidfd = child.pidfd;
      if (run.killed) this.#kill(run); // the client left while we started
      const warning = degradedWarning(plan);
      // `reuse`: this daemon reads a run's `reuse` (docs/protocol.md).
      const startedFields = {
        pid: child.pid,
        landlock: {
          status: plan.landlock.status,
          abi: plan.support.abi,
          dropped: plan.landlock.dropped,
        },
        ...(warning ? { warning } : {}),
        ...(cannotExplain
          ? { explain: `--explain cannot explain here: ${cannotExplain}` }
          : {}),
        reuse: true,
      };
      // A quiet run's start is told with its exit: one frame, one wake-up.
      if (!req.quiet) {
        conn.send(
          encodeFrame({ type: "started", id: req.id, ...startedFields }),
        );
      }
      const broker = plan.broker || observe
        ? this.#brokers.serve({
          ...(plan.broker ? { broker: plan.broker } : {}),
          ...(observe
            ? { observe: { ...observe, landlock: started.landlock } }
            : {}),
          arch: plan.seccomp.arch,
          fds: child,
          auditFds,
          jobId,
          ids,
        })
        : Promise.resolve(undefined);
      // A broker that fails kills its sandbox (which could not go on
      // without answers); the run is still reaped before it is reported.
      let brokerFailure: Error | undefined;
      let accesses: AccessLog | undefined;
      let decisions: ProxyDecisions | undefined;
      const brokerDone = broker.then((log) => {
        accesses = log;
      }, (e: Error) => {
        brokerFailure = e;
        this.#kill(run);
      });
      let status: ExitStatus;
      try {
        status = await this.#exited(
          child.pidfd,
          !plan.broker && !observe && !started.proxy,
        );
        await brokerDone;
        // Its connections' net.* events come before run.exit.
        decisions = await started.proxy?.stop();
      } finally {
        close(child.pidfd);
        run.pidfd = undefined;
      }
      if (brokerFailure) throw brokerFailure;
      const result = finishRun(
        started,
        status,
        audit,
        [...run.forwarded].map(signalName),
      );
      this.#totals.runs_finished++;
      let explained: Record<string, unknown> | undefined;
      if (observe && accesses) {
        if ("signal" in status) accesses.cutShort = true;
        const denials = explainDenials(
          accesses,
          started.landlock,
          sectionOrigin(source),
          decisions,
        );
        for (const d of denials) audit.emit("runner", "denial", denialEvent(d));
        explained = explainReply(denials, accesses);
      }
      const outputs = capture ? await capture.outputs : undefined;
      await this.#sendExit(
        conn,
        req.id,
        status,
        result.exitCode,
        started,
        outputs,
        req.quiet ? { ...startedFields, ...explained } : explained,
      );
    } catch (e) {
      this.#totals.runs_failed++;
      const failure = runFailure(e, source) ??
        {
          message: `internal error: ${(e as Error).message}`,
          kind: "setup",
        };
      await capture?.outputs;
      await conn.send(encodeFrame({
        type: "error",
        id: req.id,
        error: "run",
        message: failure.message,
        exit_code: failureStatus(failure.kind),
      }));
    } finally {
      await started?.proxy?.stop();
      if (auditFd >= 0) close(auditFd);
    }
  }

  #sendExit(
    conn: ClientConn,
    id: number,
    status: ExitStatus,
    exitCode: number,
    started: StartedRun,
    outputs?: [Output, Output],
    extra?: Record<string, unknown>,
  ): Promise<void> {
    const header: Record<string, unknown> = {
      type: "exit",
      id,
      code: exitCode,
      ...extra,
      ...("signal" in status ? { signal: signalName(status.signal) } : {}),
      duration_ms: Math.round((performance.now() - started.started) * 1000) /
        1000,
    };
    if (!outputs) return conn.send(encodeFrame(header));
    const [out, err] = outputs;
    const body = new Uint8Array(out.bytes.length + err.bytes.length);
    body.set(out.bytes);
    body.set(err.bytes, out.bytes.length);
    return conn.send(encodeFrame({
      ...header,
      stdout_len: out.bytes.length,
      stderr_len: err.bytes.length,
      stdout_truncated: out.truncated,
      stderr_truncated: err.truncated,
    }, body));
  }

  /**
   * What `landlockd status` prints. A `viewer` other than the daemon's
   * user and root sees only the runs of its own uid.
   */
  status(viewer?: Peer): Record<string, unknown> {
    const seesAll = !viewer || viewer.uid === this.#uid || viewer.uid === 0;
    const support = landlockSupport();
    return {
      pid: Deno.pid,
      uid: this.#uid,
      version: VERSION,
      socket: this.#opts.socketPath,
      systemd: this.#opts.systemd,
      uptime_s: this.#uptime(),
      stopping: this.#stopping !== undefined,
      landlock_abi: support.abi,
      kernel_abi: support.kernel_abi,
      no_new_privs: this.#opts.hardening.no_new_privs,
      seccomp_deny: this.#opts.hardening.seccomp_deny,
      allow_uids: [...this.#opts.allowUids],
      allow_gids: [...this.#opts.allowGids],
      active: [...this.#runs.values()].filter((r) =>
        seesAll || r.peer.uid === viewer.uid
      ).map((r) => ({
        pid: r.pid ?? null,
        policy: r.policy,
        argv0: r.argv0,
        started_at: r.startedAt,
        peer_uid: r.peer.uid,
      })),
      totals: { ...this.#totals, clients: this.#clients.size },
      policy_cache: this.#policies.stats(),
      brokers: this.#brokers.stats(),
      memory: { ...memoryMib(), idle_collections: this.#idleGc.collections },
    };
  }
}

/**
 * The exit reply's fields for an explained run: the first denials, and
 * how many distinct ones it leaves out (beyond the reply's list, or never
 * recorded because the record was full).
 */
function explainReply(
  denials: readonly Denial[],
  log: AccessLog,
): Record<string, unknown> {
  return {
    denials: denials.slice(0, DENIALS_IN_REPLY),
    denials_omitted: Math.max(0, denials.length - DENIALS_IN_REPLY),
    denials_dropped: log.dropped,
    denials_limit: log.limit ?? 0,
  };
}

/**
 * The daemon's memory in MiB: resident set, and the JS heap's part of it
 * (what V8 holds, what it uses, and buffers outside the heap).
 */
function memoryMib(): Record<string, number> {
  const m = Deno.memoryUsage();
  const mib = (n: number) => Math.round(n / 10485.76) / 100;
  return {
    rss: mib(m.rss),
    heap_total: mib(m.heapTotal),
    heap_used: mib(m.heapUsed),
    external: mib(m.external),
  };
}
