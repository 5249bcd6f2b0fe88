/**
 * The library API: run sandboxed commands through a landlockd daemon over
 * one persistent connection, from Deno or Node. Plain TypeScript over the
 * runtime's own Unix sockets (no FFI), so stdio is captured: stdin is sent
 * with the request and stdout and stderr come back with the exit.
 *
 * @example
 * ```ts ignore
 * import { connect } from "jsr:@landlockd/landlockd";
 * const client = await connect(); // $XDG_RUNTIME_DIR/landlockd.sock
 * const policy = await Deno.readTextFile("policies/ci-default.toml");
 * const r = await client.run({ policy, argv: ["uname", "-r"] });
 * console.log(r.code, new TextDecoder().decode(r.stdout));
 * client.close();
 * ```
 *
 * @module
 */

import type { Denial } from "../observe/explain.ts";
import { EXIT } from "../exit_status.ts";
import { type Trusted, trustedFiles } from "../sandbox/trusted.ts";
import {
  defaultSocketPath,
  encodeFrame,
  type Frame,
  FrameReader,
  ProtocolError,
} from "./protocol.ts";

/**
 * What this process trusts on its next start (landlockd's files, Deno,
 * DENO_DIR, which holds the library when it came from a registry): the
 * daemon refuses a plan that lets the command write it. Nothing when this
 * process may not read its environment or Deno's path: the daemon's own
 * check still applies. `env`: this process's variables (by default read
 * one at a time).
 */
function libraryTrust(
  env: (name: string) => string | undefined = envOf,
): Trusted[] {
  // What it depends on besides this process's fixed paths.
  const key = ["DENO_DIR", "XDG_CACHE_HOME", "HOME", "XDG_RUNTIME_DIR"]
    .map((n) => env(n) ?? "\0").join("\0");
  if (key === trustMemo?.key) return trustMemo.list;
  let list: Trusted[];
  try {
    list = trustedFiles();
  } catch {
    list = [];
  }
  trustMemo = { key, list };
  return list;
}

/** The last list {@link libraryTrust} made, and the variables it read. */
let trustMemo: { key: string; list: Trusted[] } | undefined;

/** What to run. */
export interface RunOptions {
  /** The policy's TOML text, or its text and a name for messages. */
  policy: string | { text: string; name?: string };
  argv: string[];
  /** Default: this process's environment. */
  env?: Record<string, string>;
  /** Default: this process's working directory. */
  cwd?: string;
  /** The command's stdin (at most 1 MiB); default: empty. */
  stdin?: string | Uint8Array;
  /** Sends SIGTERM to the sandbox when aborted. */
  signal?: AbortSignal;
  /** Called once the command has started, with its pid. */
  onStart?: (pid: number) => void;
  /**
   * Observe what Landlock denies the command (`run --explain`): the result
   * carries `denials`. Never grants anything.
   */
  explain?: boolean;
}

/** How a command ended. */
export interface RunOutput {
  /** The exit status as a shell reports it: the code, or 128 + signal. */
  code: number;
  success: boolean;
  /** The signal's name when it was killed by one, e.g. `SIGKILL`. */
  signal?: string;
  pid: number;
  stdout: Uint8Array;
  stderr: Uint8Array;
  /** More than 4 MiB was written; only the first 4 MiB were kept. */
  stdoutTruncated: boolean;
  stderrTruncated: boolean;
  durationMs: number;
  /** `fully_enforced`, `partially_enforced` or `not_enforced`. */
  landlockStatus: string;
  /** Set when best effort dropped part of the policy. */
  warning?: string;
  /**
   * With `explain`: each distinct access Landlock denied, with the
   * refusing section, the missing rights and a rule that allows it (at
   * most 100; docs/explain.md).
   */
  denials?: Denial[];
  /** With `explain`: distinct denials not in `denials` (over 100, or not recorded). */
  denialsOmitted?: number;
  /** With `explain`, where the daemon's kernel cannot observe: why. */
  explainUnavailable?: string;
}

/** The daemon refused the request or could not start the command. */
export class DaemonError extends Error {
  override name = "DaemonError";
  constructor(
    message: string,
    /** `refused`, `policy`-like `run`, `protocol`, `limit`, `stopping`, `closed` */
    readonly kind: string,
    /** What `landlockd run` would have exited with. */
    readonly exitCode: number,
  ) {
    super(message);
  }
}

interface Transport {
  write(bytes: Uint8Array): Promise<void>;
  close(): void;
}

type Pending = {
  resolve: (frame: Frame) => void;
  reject: (e: Error) => void;
  onStart?: (frame: Frame) => void;
};

/** What a run sends that the daemon may remember for the next one. */
interface RunFields {
  policy: { name: string; text: string };
  env: Record<string, string>;
  trust: Trusted[];
}

/**
 * The header of a run: each of policy, env and trust in full, or, once the
 * daemon has said it reads `reuse` (docs/protocol.md), named in `reuse`
 * when it equals what this connection last sent in full. `sent` is that
 * record, updated here: it must follow the order frames are written in.
 */
function runHeader(
  fields: RunFields,
  rest: Record<string, unknown>,
  sent: Partial<RunFields>,
  daemonReuses: boolean,
): Record<string, unknown> {
  const reuse: string[] = [];
  const header: Record<string, unknown> = { type: "run" };
  const { policy, env, trust } = fields;
  if (
    daemonReuses && sent.policy?.text === policy.text &&
    sent.policy.name === policy.name
  ) {
    reuse.push("policy");
  } else {
    header.policy = sent.policy = policy;
  }
  if (daemonReuses && sent.env && sameEnv(sent.env, env)) reuse.push("env");
  else header.env = sent.env = env;
  if (daemonReuses && sent.trust && sameTrust(sent.trust, trust)) {
    reuse.push("trust");
  } else header.trust = sent.trust = trust;
  if (reuse.length) header.reuse = reuse;
  return Object.assign(header, rest);
}

function sameTrust(a: Trusted[], b: Trusted[]) {
  return a === b || JSON.stringify(a) === JSON.stringify(b);
}

function sameEnv(a: Record<string, string>, b: Record<string, string>) {
  if (a === b) return true;
  let n = 0;
  for (const k in b) {
    if (a[k] !== b[k] || !Object.hasOwn(a, k)) return false;
    n++;
  }
  return n === Object.keys(a).length;
}

/** One connection to a daemon; runs may overlap on it. */
export class Client {
  readonly #pending = new Map<number, Pending>();
  #reader = new FrameReader();
  #transport!: Transport;
  #path = "";
  #nextId = 1;
  #closed: Error | undefined;
  /** The daemon on this connection reads a run's `reuse`. */
  #daemonReuses = false;
  /** What this connection's runs last sent in full (see runHeader). */
  #sent: Partial<RunFields> = {};

  /** Feeds bytes from the transport. */
  #receive(bytes: Uint8Array) {
    let frames: Frame[];
    try {
      frames = this.#reader.push(bytes);
    } catch (e) {
      this.#fail(e as ProtocolError);
      this.#transport.close();
      return;
    }
    for (const frame of frames) {
      const id = frame.header.id as number | undefined;
      const waiter = id === undefined ? undefined : this.#pending.get(id);
      if (frame.header.type === "error" && id === undefined) {
        this.#fail(errorOf(frame));
        continue;
      }
      if (frame.header.reuse === true) this.#daemonReuses = true;
      if (!waiter) continue;
      if (frame.header.type === "started" || frame.header.type === "stopping") {
        waiter.onStart?.(frame);
        continue;
      }
      this.#pending.delete(id!);
      if (frame.header.type === "error") waiter.reject(errorOf(frame));
      else waiter.resolve(frame);
    }
  }

  #fail(e: Error) {
    this.#closed ??= e;
    for (const w of this.#pending.values()) w.reject(e);
    this.#pending.clear();
  }

  async #request(
    header: Record<string, unknown> | (() => Record<string, unknown>),
    body?: Uint8Array,
    onStart?: (frame: Frame) => void,
  ): Promise<Frame> {
    // The daemon closes idle connections (docs/protocol.md): connect again.
    if (
      this.#closed instanceof DaemonError && this.#closed.kind === "timeout"
    ) {
      await this.#open();
    }
    if (this.#closed) throw this.#closed;
    const id = this.#nextId++;
    const reply = new Promise<Frame>((resolve, reject) => {
      this.#pending.set(id, { resolve, reject, onStart });
    });
    // A run's header is made here, with no await before its write: what
    // it reuses is what the frames written before it sent.
    const h = typeof header === "function" ? header() : header;
    await this.#transport.write(encodeFrame({ ...h, id }, body));
    return await reply;
  }

  /** Runs one command; resolves when it has exited. */
  async run(opts: RunOptions): Promise<RunOutput> {
    const policy = typeof opts.policy === "string"
      ? { name: "(library)", text: opts.policy }
      : { name: opts.policy.name ?? "(library)", text: opts.policy.text };
    const stdin = typeof opts.stdin === "string"
      ? new TextEncoder().encode(opts.stdin)
      : opts.stdin;
    let pid = 0;
    let started: Frame | undefined;
    let abort: (() => void) | undefined;
    const id = this.#nextId;
    const own = opts.env ? undefined : processEnv();
    const fields: RunFields = {
      policy,
      env: opts.env ?? own!,
      trust: libraryTrust(own && ((n) => own[n])),
    };
    // Nothing waits for the start: the daemon may tell it with the exit.
    const quiet = !opts.onStart && !opts.signal;
    const rest = {
      argv: opts.argv,
      cwd: opts.cwd ?? processCwd(),
      stdio: "capture",
      ...(opts.explain ? { explain: true } : {}),
      ...(quiet ? { quiet: true } : {}),
    };
    const frame = await this.#request(
      () => runHeader(fields, rest, this.#sent, this.#daemonReuses),
      stdin,
      (f) => {
        started = f;
        pid = f.header.pid as number;
        opts.onStart?.(pid);
        if (opts.signal) {
          abort = () => this.#signal(id, "SIGTERM");
          if (opts.signal.aborted) abort();
          else opts.signal.addEventListener("abort", abort, { once: true });
        }
      },
    ).finally(() => {
      if (abort) opts.signal?.removeEventListener("abort", abort);
    });
    const h = frame.header;
    // A quiet run's exit carries what `started` would have.
    if (!started && typeof h.pid === "number") {
      started = frame;
      pid = h.pid;
    }
    const outLen = h.stdout_len as number;
    const landlock = started?.header.landlock as
      | { status?: string }
      | undefined;
    return {
      code: h.code as number,
      success: h.code === 0,
      ...(typeof h.signal === "string" ? { signal: h.signal } : {}),
      pid,
      stdout: frame.body.subarray(0, outLen),
      stderr: frame.body.subarray(outLen, outLen + (h.stderr_len as number)),
      stdoutTruncated: h.stdout_truncated === true,
      stderrTruncated: h.stderr_truncated === true,
      durationMs: h.duration_ms as number,
      landlockStatus: landlock?.status ?? "unknown",
      ...(typeof started?.header.warning === "string"
        ? { warning: started.header.warning }
        : {}),
      ...(Array.isArray(h.denials)
        ? {
          denials: h.denials as Denial[],
          denialsOmitted: Number(h.denials_omitted ?? 0) +
            Number(h.denials_dropped ?? 0),
        }
        : {}),
      ...(typeof started?.header.explain === "string"
        ? { explainUnavailable: started.header.explain }
        : {}),
    };
  }

  #signal(id: number, signal: string) {
    if (this.#closed) return;
    this.#transport.write(encodeFrame({ type: "signal", id, signal })).catch(
      () => {},
    );
  }

  /** The daemon's status (see `landlockd status`). */
  async status(): Promise<Record<string, unknown>> {
    const { header } = await this.#request({ type: "status" });
    const { v: _v, type: _t, id: _i, ...rest } = header;
    return rest;
  }

  /**
   * Asks the daemon to stop: no new runs, active ones get `grace` seconds
   * (or are killed at once with `now`). Resolves when it has stopped.
   */
  async stop(
    opts: { grace?: number; now?: boolean } = {},
  ): Promise<{ killed: number }> {
    try {
      const { header } = await this.#request({
        type: "stop",
        grace: opts.grace ?? 10,
        now: opts.now ?? false,
      });
      return { killed: header.killed as number };
    } catch (e) {
      // The daemon may exit before its reply is read.
      if (e instanceof DaemonError && e.kind === "closed") {
        return { killed: -1 };
      }
      throw e;
    }
  }

  /** Closes the connection; the daemon kills runs still in flight. */
  close(): void {
    this.#fail(new DaemonError("the connection is closed", "closed", 3));
    this.#transport.close();
  }

  /** @internal */
  static async open(path: string): Promise<Client> {
    const client = new Client();
    client.#path = path;
    await client.#open();
    return client;
  }

  async #open(): Promise<void> {
    const reader = new FrameReader();
    const closed = () => {
      if (this.#reader !== reader) return; // an earlier connection's end
      this.#fail(
        new DaemonError("the daemon closed the connection", "closed", 3),
      );
    };
    const onData = (b: Uint8Array) => {
      if (this.#reader === reader) this.#receive(b);
    };
    const transport = "Deno" in globalThis
      ? await denoTransport(this.#path, onData, closed)
      : await nodeTransport(this.#path, onData, closed);
    this.#reader = reader;
    this.#transport = transport;
    this.#closed = undefined;
    // A new connection remembers nothing, and may reach another daemon.
    this.#daemonReuses = false;
    this.#sent = {};
  }
}

function errorOf(frame: Frame): DaemonError {
  const h = frame.header;
  return new DaemonError(
    String(h.message ?? "the daemon reported an error"),
    String(h.error ?? "protocol"),
    typeof h.exit_code === "number" ? h.exit_code : EXIT.DAEMON,
  );
}

// deno-lint-ignore no-explicit-any
const g = globalThis as any;

function processEnv(): Record<string, string> {
  return g.Deno ? g.Deno.env.toObject() : { ...g.process.env };
}

function envOf(name: string): string | undefined {
  return g.Deno ? g.Deno.env.get(name) : g.process.env[name];
}

function processCwd(): string {
  return g.Deno ? g.Deno.cwd() : g.process.cwd();
}

async function denoTransport(
  path: string,
  onData: (b: Uint8Array) => void,
  onClose: () => void,
): Promise<Transport> {
  const conn: Deno.UnixConn = await Deno.connect({ transport: "unix", path });
  (async () => {
    const buf = new Uint8Array(64 << 10);
    try {
      for (;;) {
        const n = await conn.read(buf);
        if (n === null) break;
        onData(buf.subarray(0, n));
      }
    } catch {
      // reset or closed by us
    }
    onClose();
  })();
  let writing = Promise.resolve();
  return {
    write(bytes) {
      writing = writing.then(async () => {
        let at = 0;
        while (at < bytes.length) at += await conn.write(bytes.subarray(at));
      });
      return writing;
    },
    close() {
      try {
        conn.close();
      } catch {
        // already closed
      }
    },
  };
}

async function nodeTransport(
  path: string,
  onData: (b: Uint8Array) => void,
  onClose: () => void,
): Promise<Transport> {
  const net = await import("node:net");
  const socket = net.createConnection(path);
  await new Promise<void>((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  socket.on("data", (b: Uint8Array) => onData(new Uint8Array(b)));
  socket.on("close", onClose);
  socket.on("error", () => {});
  return {
    write: (bytes) =>
      new Promise((resolve, reject) =>
        socket.write(bytes, (e?: Error | null) => e ? reject(e) : resolve())
      ),
    close: () => socket.destroy(),
  };
}

/**
 * Connects to a daemon, by default at `$XDG_RUNTIME_DIR/landlockd.sock`.
 * Rejects with the runtime's error when nothing listens there.
 */
export function connect(path?: string): Promise<Client> {
  const where = path ?? defaultSocketPath(envOf);
  if (!where) {
    return Promise.reject(
      new DaemonError(
        "no socket path: XDG_RUNTIME_DIR is not set; pass the daemon's socket path",
        "closed",
        3,
      ),
    );
  }
  return Client.open(where);
}
