/**
 * The daemon's wire protocol (docs/protocol.md): frames, limits and the
 * checks a request must pass. Pure: shared by the daemon, the command-line
 * client and the library client, and free of FFI so Node can load it.
 *
 * @module
 */

/** Every message carries `v`; a daemon answers other versions with an error. */
export const PROTOCOL_VERSION = 1;

/** Size limits; a message over any of them is refused (docs/protocol.md). */
export const LIMITS = {
  /** JSON header of one frame, in bytes. */
  header: 1 << 20,
  /** Binary body of one frame (captured stdin, stdout + stderr), in bytes. */
  body: 9 << 20,
  /** Policy text, in bytes. */
  policy: 256 << 10,
  /** Number of argv items; their total size is bounded by `header`. */
  argv: 4096,
  /** Number of environment variables. */
  env: 4096,
  /** Entries of a run's `trust` list. */
  trust: 64,
  /** A path (cwd, policy name), in bytes. */
  path: 4096,
  /** Captured stdin, in bytes. */
  stdin: 1 << 20,
  /** Captured stdout or stderr, each, in bytes. */
  output: 4 << 20,
  /** Runs in flight on one connection. */
  runsPerConnection: 256,
  /** Connections open at once (`serve --max-connections`). */
  connections: 1024,
  /** Connections one uid may have open at once (`serve --max-connections-per-uid`). */
  connectionsPerUid: 256,
  /**
   * Connections over either limit that the daemon's own uid and root still
   * get: they may ask for `status` and `stop`, nothing else.
   */
  controlConnections: 8,
  /** fds received and waiting for their frame, per connection. */
  queuedFds: 8,
  /** Replies waiting for a peer that does not read, in bytes. */
  outbox: 32 << 20,
  /** Seconds to complete a frame once its first byte arrived (`serve --frame-timeout`). */
  frameTimeout: 10,
  /** Seconds a connection may be idle: no run, no partial frame (`serve --idle-timeout`). */
  idleTimeout: 60,
  /** Seconds a peer may leave replies unread before it is disconnected. */
  writeTimeout: 30,
} as const;

/** The connection limits a daemon can be started with. */
export interface ConnectionLimits {
  connections: number;
  connectionsPerUid: number;
  frameTimeout: number;
  idleTimeout: number;
}

/** `$XDG_RUNTIME_DIR/landlockd.sock`, or undefined when that is unset. */
export function defaultSocketPath(
  env: (name: string) => string | undefined,
): string | undefined {
  const dir = env("XDG_RUNTIME_DIR");
  return dir ? `${dir.replace(/\/+$/, "")}/landlockd.sock` : undefined;
}

/** Frame prefix: header length and body length, u32 little-endian each. */
export const PREFIX = 8;

/** A decoded frame. */
export interface Frame {
  header: Record<string, unknown>;
  body: Uint8Array;
}

/** The peer broke the protocol; the connection cannot continue. */
export class ProtocolError extends Error {
  override name = "ProtocolError";
  constructor(message: string, readonly code: "protocol" | "limit") {
    super(message);
  }
}

const encoder = new TextEncoder();
const decoder = new TextDecoder("utf-8", { fatal: true });

/** Encodes one frame. */
export function encodeFrame(
  header: Record<string, unknown>,
  body: Uint8Array = new Uint8Array(),
): Uint8Array<ArrayBuffer> {
  const json = encoder.encode(
    JSON.stringify({ v: PROTOCOL_VERSION, ...header }),
  );
  const out = new Uint8Array(PREFIX + json.length + body.length);
  const view = new DataView(out.buffer);
  view.setUint32(0, json.length, true);
  view.setUint32(4, body.length, true);
  out.set(json, PREFIX);
  out.set(body, PREFIX + json.length);
  return out;
}

/**
 * Splits a byte stream into frames. Lengths are checked before anything
 * is buffered, so an oversized frame costs its prefix, not its size.
 */
export class FrameReader {
  /** Bytes received and not yet part of a returned frame, in order. */
  #chunks: Uint8Array[] = [];
  #size = 0;
  /** Bytes the frame at the front needs in all, once its prefix is known. */
  #need = PREFIX;

  /** Appends bytes; returns the frames now complete. Throws ProtocolError. */
  push(bytes: Uint8Array): Frame[] {
    if (bytes.length) {
      this.#chunks.push(bytes.slice());
      this.#size += bytes.length;
    }
    const frames: Frame[] = [];
    // Joining waits until a whole frame is here: a large frame arriving in
    // many reads is copied once, not once per read.
    while (this.#size >= this.#need) {
      const joined = this.#join();
      if (this.#need === PREFIX) {
        this.#need = PREFIX + frameLength(joined);
        continue;
      }
      const view = new DataView(joined.buffer, joined.byteOffset, PREFIX);
      const headerLen = view.getUint32(0, true);
      frames.push({
        header: parseHeader(joined.subarray(PREFIX, PREFIX + headerLen)),
        body: joined.slice(PREFIX + headerLen, this.#need),
      });
      this.#chunks = joined.length > this.#need
        ? [joined.subarray(this.#need)]
        : [];
      this.#size = joined.length - this.#need;
      this.#need = PREFIX;
    }
    return frames;
  }

  /** Makes the buffered bytes one chunk and returns it. */
  #join(): Uint8Array {
    if (this.#chunks.length === 1) return this.#chunks[0];
    const joined = new Uint8Array(this.#size);
    let at = 0;
    for (const c of this.#chunks) {
      joined.set(c, at);
      at += c.length;
    }
    this.#chunks = [joined];
    return joined;
  }

  /** Bytes of an incomplete frame still waiting. */
  get pending(): number {
    return this.#size;
  }
}

/** Header plus body length from a frame's prefix; throws over the limits. */
function frameLength(prefix: Uint8Array): number {
  const view = new DataView(prefix.buffer, prefix.byteOffset, PREFIX);
  const headerLen = view.getUint32(0, true);
  const bodyLen = view.getUint32(4, true);
  if (headerLen > LIMITS.header) {
    throw new ProtocolError(
      `frame header of ${headerLen} bytes is over the limit of ${LIMITS.header}`,
      "limit",
    );
  }
  if (bodyLen > LIMITS.body) {
    throw new ProtocolError(
      `frame body of ${bodyLen} bytes is over the limit of ${LIMITS.body}`,
      "limit",
    );
  }
  return headerLen + bodyLen;
}

function parseHeader(bytes: Uint8Array): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(decoder.decode(bytes));
  } catch {
    throw new ProtocolError("frame header is not UTF-8 JSON", "protocol");
  }
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    throw new ProtocolError("frame header is not a JSON object", "protocol");
  }
  return value as Record<string, unknown>;
}

/** A request to start a command. */
export interface RunRequest {
  type: "run";
  id: number;
  /** The policy's text and a name for messages; the daemon opens no path. */
  policy: { name: string; text: string };
  argv: string[];
  env: Record<string, string>;
  cwd: string;
  /**
   * `fds`: the client's stdin, stdout and stderr (and, with `audit_fd`, an
   * audit fd) travel with this frame as SCM_RIGHTS. `capture`: the frame's
   * body is stdin, and the exit reply carries stdout and stderr.
   */
  stdio: "fds" | "capture";
  audit_fd: boolean;
  /** Signals the client ignores (bit n-1 for signal n), as hex. */
  sig_ignore: bigint;
  /**
   * Observe what Landlock denies the command and report it in the exit
   * reply (`run --explain`, docs/explain.md).
   */
  explain: boolean;
  /**
   * What the client trusts on its next start (its policy file and bases,
   * its landlockd, Deno and DENO_DIR): the daemon refuses a plan that lets
   * the command write any of them, as a direct run does. Only adds
   * refusals, so the client is taken at its word.
   */
  trust: TrustedPath[];
  /**
   * The client wants no `started` reply: its fields come with `exit`
   * (a client that neither signals the run nor waits for its start).
   */
  quiet: boolean;
}

/**
 * The run fields a client may send once per connection and then name in a
 * later run's `reuse` instead of sending again (docs/protocol.md).
 */
export const REUSABLE = ["policy", "env", "trust"] as const;

/** One of {@link REUSABLE}. */
export type Reusable = typeof REUSABLE[number];

/**
 * What one connection's run requests last sent of each reusable field,
 * already checked. Belongs to that connection alone, and ends with it.
 */
export interface RunMemory {
  policy?: { name: string; text: string };
  env?: Record<string, string>;
  trust?: TrustedPath[];
}

/** One entry of {@link RunRequest.trust} (sandbox/self_write.ts `Trusted`). */
export interface TrustedPath {
  path: string;
  /** The directory and everything beneath it, or just this object. */
  tree: boolean;
  /** What to call it in the refusal. */
  what: string;
  /** What to do about it. */
  hint: string;
}

/** How many denials an exit reply lists; the rest are counted. */
export const DENIALS_IN_REPLY = 100;

/** A signal for a run of this connection. */
export interface SignalRequest {
  type: "signal";
  id: number;
  signal: number;
}

/** Every request a client can send. */
export type Request =
  | RunRequest
  | SignalRequest
  | { type: "status"; id: number }
  | { type: "stop"; id: number; grace: number; now: boolean };

/** Signals a client may relay (by name in the protocol). */
export const RELAYED_SIGNALS: Record<string, number> = {
  SIGHUP: 1,
  SIGINT: 2,
  SIGQUIT: 3,
  SIGKILL: 9,
  SIGUSR1: 10,
  SIGUSR2: 12,
  SIGTERM: 15,
};

/** A request that fails its checks; `id` is set when it could be read. */
export class RequestError extends Error {
  override name = "RequestError";
  constructor(
    message: string,
    readonly code: "protocol" | "limit",
    readonly id?: number,
  ) {
    super(message);
  }
}

/** UTF-8 length, encoding only strings that could be over `max`. */
const overLimit = (s: string, max: number) =>
  s.length * 3 > max && encoder.encode(s).length > max;

/**
 * Checks a frame as a request; throws RequestError naming the field.
 * `memory` is the connection's {@link RunMemory}: a run's `reuse` reads
 * it, and each reusable field a run sends is kept in it (once checked,
 * whatever then becomes of the run), in the order the frames came. Without
 * it, a run that names `reuse` is refused.
 */
export function parseRequest(frame: Frame, memory?: RunMemory): Request {
  const h = frame.header;
  const id = Number.isSafeInteger(h.id) && (h.id as number) >= 0
    ? h.id as number
    : undefined;
  const fail = (message: string, code: "protocol" | "limit" = "protocol") => {
    throw new RequestError(message, code, id);
  };
  if (h.v !== PROTOCOL_VERSION) {
    fail(
      `protocol version ${
        JSON.stringify(h.v)
      } is not supported; this daemon speaks version ${PROTOCOL_VERSION}`,
    );
  }
  if (id === undefined) fail("id: expected a non-negative integer");
  const str = (key: string, value: unknown, max: number): string => {
    if (typeof value !== "string") fail(`${key}: expected a string`);
    if (overLimit(value as string, max)) {
      fail(`${key}: longer than the limit of ${max} bytes`, "limit");
    }
    if ((value as string).includes("\0")) {
      fail(`${key}: contains a NUL byte`);
    }
    return value as string;
  };
  const noBody = () => {
    if (frame.body.length) fail(`a ${h.type} request has no body`);
  };
  switch (h.type) {
    case "status":
      noBody();
      return { type: "status", id: id! };
    case "stop": {
      noBody();
      const grace = h.grace ?? 10;
      if (typeof grace !== "number" || !(grace >= 0) || grace > 86400) {
        fail("grace: expected seconds, from 0 to 86400");
      }
      if (h.now !== undefined && typeof h.now !== "boolean") {
        fail("now: expected true or false");
      }
      return { type: "stop", id: id!, grace: grace as number, now: !!h.now };
    }
    case "signal": {
      noBody();
      const signal = typeof h.signal === "string"
        ? RELAYED_SIGNALS[h.signal]
        : undefined;
      if (signal === undefined) {
        fail(
          `signal: expected one of ${Object.keys(RELAYED_SIGNALS).join(", ")}`,
        );
      }
      return { type: "signal", id: id!, signal: signal! };
    }
    case "run":
      return parseRun(h, frame.body, id!, fail, str, memory);
    default:
      return fail(
        `type: expected "run", "signal", "status" or "stop", got ${
          JSON.stringify(h.type)
        }`,
      );
  }
}

function parseRun(
  h: Record<string, unknown>,
  body: Uint8Array,
  id: number,
  fail: (message: string, code?: "protocol" | "limit") => never,
  str: (key: string, value: unknown, max: number) => string,
  memory: RunMemory | undefined,
): RunRequest {
  const reuse = new Set<Reusable>();
  if (h.reuse !== undefined) {
    if (!Array.isArray(h.reuse)) {
      fail(`reuse: expected an array of ${REUSABLE.join(", ")}`);
    }
    for (const r of h.reuse as unknown[]) {
      if (!REUSABLE.includes(r as Reusable) || reuse.has(r as Reusable)) {
        fail(
          `reuse: expected distinct items of ${REUSABLE.join(", ")}, got ${
            JSON.stringify(r)
          }`,
        );
      }
      reuse.add(r as Reusable);
    }
  }
  // A reused field is the one this connection's memory holds; sending it
  // as well would leave two meanings.
  const reused = <K extends Reusable>(key: K): RunMemory[K] | undefined => {
    if (!reuse.has(key)) return undefined;
    if (h[key] !== undefined) fail(`${key}: sent and named in reuse`);
    const kept = memory?.[key];
    if (kept === undefined) {
      fail(`reuse: no earlier run on this connection sent ${key}`);
    }
    return kept;
  };
  const policy = reused("policy") ?? checkPolicy(h.policy, fail, str);
  if (!Array.isArray(h.argv) || h.argv.length === 0) {
    fail("argv: expected a non-empty array of strings");
  }
  const argv = h.argv as unknown[];
  if (argv.length > LIMITS.argv) {
    fail(`argv: more than ${LIMITS.argv} items`, "limit");
  }
  argv.forEach((a, i) => str(`argv[${i}]`, a, LIMITS.header));
  const env = reused("env") ?? checkEnv(h.env, fail, str);
  const cwd = str("cwd", h.cwd, LIMITS.path);
  if (!cwd.startsWith("/")) fail("cwd: expected an absolute path");
  if (h.stdio !== "fds" && h.stdio !== "capture") {
    fail('stdio: expected "fds" or "capture"');
  }
  if (h.stdio === "fds" && body.length) {
    fail('a run with stdio "fds" has no body');
  }
  if (body.length > LIMITS.stdin) {
    fail(`stdin: longer than the limit of ${LIMITS.stdin} bytes`, "limit");
  }
  if (h.audit_fd !== undefined && typeof h.audit_fd !== "boolean") {
    fail("audit_fd: expected true or false");
  }
  if (h.audit_fd && h.stdio !== "fds") {
    fail('audit_fd: only with stdio "fds"');
  }
  if (h.explain !== undefined && typeof h.explain !== "boolean") {
    fail("explain: expected true or false");
  }
  if (h.quiet !== undefined && typeof h.quiet !== "boolean") {
    fail("quiet: expected true or false");
  }
  const sigIgnore = h.sig_ignore ?? "0";
  if (typeof sigIgnore !== "string" || !/^[0-9a-f]{1,16}$/.test(sigIgnore)) {
    fail("sig_ignore: expected up to 16 lower-case hex digits");
  }
  const trusted = reused("trust") ?? checkTrust(h.trust, fail, str);
  if (memory) {
    if (!reuse.has("policy")) memory.policy = policy;
    if (!reuse.has("env")) memory.env = env;
    if (!reuse.has("trust")) memory.trust = trusted;
  }
  return {
    type: "run",
    id,
    policy,
    argv: argv as string[],
    env,
    cwd,
    stdio: h.stdio as "fds" | "capture",
    audit_fd: !!h.audit_fd,
    sig_ignore: BigInt(`0x${sigIgnore}`),
    explain: h.explain === true,
    trust: trusted,
    quiet: h.quiet === true,
  };
}

type Fail = (message: string, code?: "protocol" | "limit") => never;
type Str = (key: string, value: unknown, max: number) => string;

function checkPolicy(
  value: unknown,
  fail: Fail,
  str: Str,
): { name: string; text: string } {
  const policy = value as Record<string, unknown> | undefined;
  if (policy === null || typeof policy !== "object") {
    fail("policy: expected an object {name, text}");
  }
  return {
    name: str("policy.name", policy!.name, LIMITS.path),
    text: str("policy.text", policy!.text, LIMITS.policy),
  };
}

function checkEnv(value: unknown, fail: Fail, str: Str) {
  if (value === null || typeof value !== "object" || Array.isArray(value)) {
    fail("env: expected an object of strings");
  }
  const env = value as Record<string, unknown>;
  const keys = Object.keys(env);
  if (keys.length > LIMITS.env) {
    fail(`env: more than ${LIMITS.env} variables`, "limit");
  }
  for (const k of keys) {
    if (k === "" || k.includes("=") || k.includes("\0")) {
      fail(`env: ${JSON.stringify(k)} is not a variable name`);
    }
    str(`env.${k}`, env[k], LIMITS.header);
  }
  return env as Record<string, string>;
}

function checkTrust(value: unknown, fail: Fail, str: Str): TrustedPath[] {
  const trust = value ?? [];
  if (!Array.isArray(trust)) {
    fail("trust: expected an array of {path, tree, what, hint}");
  }
  if (trust.length > LIMITS.trust) {
    fail(`trust: more than ${LIMITS.trust} items`, "limit");
  }
  return (trust as unknown[]).map((t, i): TrustedPath => {
    if (t === null || typeof t !== "object" || Array.isArray(t)) {
      fail(`trust[${i}]: expected an object {path, tree, what, hint}`);
    }
    const e = t as Record<string, unknown>;
    const path = str(`trust[${i}].path`, e.path, LIMITS.path);
    if (!path.startsWith("/")) {
      fail(`trust[${i}].path: expected an absolute path`);
    }
    if (typeof e.tree !== "boolean") {
      fail(`trust[${i}].tree: expected true or false`);
    }
    return {
      path,
      tree: e.tree as boolean,
      what: str(`trust[${i}].what`, e.what, LIMITS.path),
      hint: str(`trust[${i}].hint`, e.hint, LIMITS.path),
    };
  });
}

/** How many fds a run request carries. */
export function fdsFor(req: RunRequest): number {
  return req.stdio === "fds" ? (req.audit_fd ? 4 : 3) : 0;
}
