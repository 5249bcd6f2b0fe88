/**
 * landlockd's egress proxy for `[net] allow_hosts`: an HTTP proxy on
 * 127.0.0.1 (CONNECT tunnels and plain-HTTP forwarding) that admits a
 * request only when its host and port match a rule, resolves the name
 * itself, refuses non-public addresses a rule does not list, and connects
 * to the very address it checked. Landlock lets the command connect to
 * this proxy's port and nothing else (beyond `[[net.rule]]` ports).
 *
 * Streams with backpressure (one bounded buffer per direction, each write
 * awaited before the next read), bounds connections, and closes a
 * connection whose request head is slow or whose tunnel is idle.
 *
 * @module
 */

import {
  admitHost,
  formatIp,
  type HostRule,
  parseIp,
  usableAddresses,
} from "../policy/hosts.ts";
import type { Resolver } from "./resolve.ts";

/** Limits of one run's proxy. */
export interface ProxyLimits {
  /** Connections open at once; more are answered 503 and closed. */
  maxConnections: number;
  /** Milliseconds to receive a whole request head (slowloris). */
  headTimeoutMs: number;
  /** Milliseconds a connection may stay without traffic either way. */
  idleTimeoutMs: number;
  /** Milliseconds to resolve the name, and again to connect. */
  connectTimeoutMs: number;
  /** Bytes of request line and headers. */
  maxHeadBytes: number;
}

/** The defaults (docs/egress.md). */
export const DEFAULT_LIMITS: ProxyLimits = {
  maxConnections: 256,
  headTimeoutMs: 10_000,
  idleTimeoutMs: 300_000,
  connectTimeoutMs: 10_000,
  maxHeadBytes: 16 * 1024,
};

/** Receives `net.allow` and `net.deny` events. */
export type ProxyAudit = (
  event: string,
  fields: Record<string, unknown>,
) => void;

/** A direction's buffer: small at first, large once a read fills it. */
const SMALL_BUFFER = 64 * 1024;
const LARGE_BUFFER = 1024 * 1024;
/** Large buffers a proxy may hold at once (32 MiB); the rest stay small. */
const LARGE_BUFFERS = 32;
const encoder = new TextEncoder();
const decoder = new TextDecoder();
const ESTABLISHED = encoder.encode(
  "HTTP/1.1 200 Connection established\r\n\r\n",
);

/** A request head, as far as the proxy reads it. */
interface Head {
  method: string;
  target: string;
  headers: [string, string][];
  /** Bytes after the head, already read: the body's or tunnel's start. */
  rest: Uint8Array;
  size: number;
}

/** A refusal: status, and the body's explanation. */
class Refusal extends Error {
  constructor(
    readonly status: number,
    message: string,
    readonly suggest?: string,
    readonly host?: string,
    readonly port?: number,
  ) {
    super(message);
  }
}

const REASONS: Record<number, string> = {
  400: "Bad Request",
  403: "Forbidden",
  408: "Request Timeout",
  431: "Request Header Fields Too Large",
  502: "Bad Gateway",
  503: "Service Unavailable",
  504: "Gateway Timeout",
};

function response(status: number, body: string): Uint8Array {
  const b = encoder.encode(body);
  return encoder.encode(
    `HTTP/1.1 ${status} ${REASONS[status] ?? "Error"}\r\n` +
      `Content-Type: text/plain; charset=utf-8\r\nContent-Length: ${b.length}\r\n` +
      `Connection: close\r\nX-Landlockd: egress-proxy\r\n\r\n${body}`,
  );
}

/** Parses `host:port` or `[v6]:port`; `defaultPort` when there is none. */
export function parseAuthority(
  authority: string,
  defaultPort?: number,
): { host: string; port: number } | undefined {
  const m = /^(?:\[([0-9a-fA-F:.]+)\]|([^:\[\]@/?#\s]+))(?::([0-9]{1,5}))?$/
    .exec(authority);
  if (!m) return undefined;
  const host = (m[1] ?? m[2]).toLowerCase();
  if (m[1] && !parseIp(m[1])) return undefined;
  const port = m[3] !== undefined ? Number(m[3]) : defaultPort;
  if (port === undefined || port < 1 || port > 65535) return undefined;
  return { host, port };
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/** Parses the head's text; throws Refusal(400) for anything unusual. */
export function parseHead(text: string): Omit<Head, "rest" | "size"> {
  const lines = text.split("\r\n");
  const m = /^([A-Z]+) ([^\s]+) HTTP\/1\.[01]$/.exec(lines[0]);
  if (!m) throw new Refusal(400, "malformed request line");
  const headers: [string, string][] = [];
  for (const line of lines.slice(1)) {
    if (/[\r\n\0]/.test(line)) throw new Refusal(400, "stray CR, LF or NUL");
    if (/^[ \t]/.test(line)) throw new Refusal(400, "folded header lines");
    const c = line.indexOf(":");
    const name = line.slice(0, c);
    if (c <= 0 || !TOKEN.test(name)) {
      throw new Refusal(400, "malformed header line");
    }
    headers.push([name.toLowerCase(), line.slice(c + 1).trim()]);
  }
  return { method: m[1], target: m[2], headers };
}

/** Where a request goes, and the head to send there (plain HTTP). */
export interface Destination {
  host: string;
  port: number;
  tunnel: boolean;
  /** Plain HTTP: the rewritten head for the origin server. */
  upstreamHead?: string;
}

const HOP_BY_HOP = [
  "connection",
  "proxy-connection",
  "proxy-authorization",
  "proxy-authenticate",
  "keep-alive",
  "te",
  "trailer",
  "upgrade",
];

/**
 * The destination of a parsed request. CONNECT takes `host:port`; other
 * methods take an absolute `http://` URL. A `Host` header must name the
 * same host and port; there must be at most one.
 */
export function destinationOf(head: Omit<Head, "rest" | "size">): Destination {
  const hosts = head.headers.filter(([n]) => n === "host");
  if (hosts.length > 1) throw new Refusal(400, "more than one Host header");
  const matches = (d: { host: string; port: number }, defaultPort: number) => {
    if (!hosts.length) return true;
    const h = parseAuthority(hosts[0][1], defaultPort);
    return h !== undefined && h.host.replace(/\.$/, "") ===
        d.host.replace(/\.$/, "") &&
      h.port === d.port;
  };
  if (head.method === "CONNECT") {
    const d = parseAuthority(head.target);
    if (!d) {
      throw new Refusal(400, "CONNECT needs host:port as its target");
    }
    if (!matches(d, d.port)) {
      throw new Refusal(
        400,
        "the Host header does not match the CONNECT target",
      );
    }
    return { ...d, tunnel: true };
  }
  const m = /^http:\/\/([^/?#]*)([^#]*)$/i.exec(head.target);
  if (!m) {
    throw new Refusal(
      400,
      /^https:/i.test(head.target)
        ? "https:// URLs go through CONNECT"
        : "a proxy request needs an absolute http:// URL",
    );
  }
  const d = parseAuthority(m[1], 80);
  if (!d) throw new Refusal(400, "malformed host in the URL");
  if (!matches(d, 80)) {
    throw new Refusal(400, "the Host header does not match the URL");
  }
  const path = m[2] === "" ? "/" : m[2].startsWith("?") ? `/${m[2]}` : m[2];
  const listed = new Set(
    head.headers.filter(([n]) => n === "connection").flatMap(([, v]) =>
      v.toLowerCase().split(",").map((s) => s.trim())
    ),
  );
  const kept = head.headers.filter(([n]) =>
    !HOP_BY_HOP.includes(n) && !listed.has(n)
  );
  if (!hosts.length) kept.unshift(["host", m[1]]);
  const upstreamHead = `${head.method} ${path} HTTP/1.1\r\n` +
    kept.map(([n, v]) => `${n}: ${v}\r\n`).join("") +
    "connection: close\r\n\r\n";
  return { ...d, tunnel: false, upstreamHead };
}

function findHeadEnd(buf: Uint8Array, len: number): number {
  for (let i = 3; i < len; i++) {
    if (
      buf[i] === 10 && buf[i - 1] === 13 && buf[i - 2] === 10 &&
      buf[i - 3] === 13
    ) return i + 1;
  }
  return -1;
}

interface Tracked {
  conn: Deno.TcpConn;
  upstream?: Deno.TcpConn;
  /** When the head must be complete; 0 once it is. */
  headDeadline: number;
  lastActivity: number;
  closed: boolean;
  /** Why the sweep closed it, for the audit event. */
  timedOut?: "head" | "idle";
}

function closeQuietly(c: Deno.Conn | undefined): void {
  try {
    c?.close();
  } catch {
    // already closed
  }
}

async function writeAll(conn: Deno.Conn, data: Uint8Array): Promise<void> {
  let off = 0;
  while (off < data.length) off += await conn.write(data.subarray(off));
}

/** One run's proxy. */
export class EgressProxy {
  readonly #listener: Deno.TcpListener;
  readonly #active = new Set<Tracked>();
  readonly #pending = new Set<Promise<void>>();
  readonly #timer: ReturnType<typeof setInterval>;
  #stopped = false;
  #large = 0;

  constructor(
    readonly rules: readonly HostRule[],
    readonly resolve: Resolver,
    readonly audit: ProxyAudit,
    readonly limits: ProxyLimits = DEFAULT_LIMITS,
  ) {
    this.#listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
    const tick = Math.max(
      50,
      Math.min(1000, limits.headTimeoutMs / 4, limits.idleTimeoutMs / 4),
    );
    this.#timer = setInterval(() => this.#sweep(), tick);
    this.#accept();
  }

  /** The port the proxy listens on (127.0.0.1). */
  get port(): number {
    return this.#listener.addr.port;
  }

  /** Connections open now. */
  get active(): number {
    return this.#active.size;
  }

  async #accept(): Promise<void> {
    while (!this.#stopped) {
      let conn: Deno.TcpConn;
      try {
        conn = await this.#listener.accept();
      } catch {
        if (this.#stopped) return;
        continue; // EMFILE and the like: try the next one
      }
      if (this.#active.size >= this.limits.maxConnections) {
        const started = performance.now();
        const body =
          `landlockd egress proxy: more than ${this.limits.maxConnections} connections at once\n`;
        const p = writeAll(conn, response(503, body)).catch(() => {})
          .finally(() => closeQuietly(conn));
        this.#deny(started, 503, "connection limit reached", 0, body.length);
        this.#track(p);
        continue;
      }
      const now = performance.now();
      const t: Tracked = {
        conn,
        headDeadline: now + this.limits.headTimeoutMs,
        lastActivity: now,
        closed: false,
      };
      this.#active.add(t);
      this.#track(
        this.#handle(t).catch(() => {}).finally(() => {
          this.#close(t);
          this.#active.delete(t);
        }),
      );
    }
  }

  #track(p: Promise<void>): void {
    this.#pending.add(p);
    p.finally(() => this.#pending.delete(p));
  }

  #close(t: Tracked): void {
    if (t.closed) return;
    t.closed = true;
    closeQuietly(t.conn);
    closeQuietly(t.upstream);
  }

  #sweep(): void {
    const now = performance.now();
    for (const t of this.#active) {
      if (t.headDeadline && now > t.headDeadline) {
        t.timedOut = "head";
        this.#close(t);
      } else if (now - t.lastActivity > this.limits.idleTimeoutMs) {
        t.timedOut = "idle";
        this.#close(t);
      }
    }
  }

  #deny(
    started: number,
    status: number,
    reason: string,
    up: number,
    down: number,
    extra: Record<string, unknown> = {},
  ): void {
    this.audit("net.deny", {
      ...extra,
      status,
      reason,
      bytes_up: up,
      bytes_down: down,
      duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
    });
  }

  async #readHead(t: Tracked): Promise<Head> {
    const buf = new Uint8Array(this.limits.maxHeadBytes);
    let len = 0;
    while (true) {
      if (len === buf.length) {
        throw new Refusal(431, "the request head is too large");
      }
      const n = await t.conn.read(buf.subarray(len));
      if (n === null) {
        throw new Refusal(400, "the connection ended in the head");
      }
      t.lastActivity = performance.now();
      len += n;
      const end = findHeadEnd(buf, len);
      if (end >= 0) {
        t.headDeadline = 0;
        const text = decoder.decode(buf.subarray(0, end - 4));
        return {
          ...parseHead(text),
          rest: buf.slice(end, len),
          size: len,
        };
      }
    }
  }

  async #handle(t: Tracked): Promise<void> {
    const started = performance.now();
    let head: Head | undefined;
    let dest: Destination | undefined;
    try {
      head = await this.#readHead(t);
      dest = destinationOf(head);
      const address = await this.#check(dest.host, dest.port);
      t.upstream = await this.#connect(address.ip, dest.port);
      if (t.closed) { // stopped, or timed out, while connecting
        closeQuietly(t.upstream);
        return;
      }
      t.upstream.setNoDelay(true);
      t.conn.setNoDelay(true);
      const first = dest.tunnel
        ? head.rest
        : concat(encoder.encode(dest.upstreamHead!), head.rest);
      if (dest.tunnel) {
        await writeAll(t.conn, ESTABLISHED);
      }
      const counts = await this.#relay(t, first);
      this.audit("net.allow", {
        host: dest.host,
        port: dest.port,
        address: address.text,
        method: head.method,
        rule: address.rule,
        bytes_up: counts.up,
        bytes_down: counts.down,
        duration_ms: Math.round((performance.now() - started) * 1000) / 1000,
      });
    } catch (e) {
      if (!(e instanceof Refusal)) {
        if (t.timedOut === "head") {
          this.#deny(
            started,
            408,
            `the request head did not arrive within ${this.limits.headTimeoutMs} ms`,
            0,
            0,
          );
        }
        if (t.closed && !head) return; // closed by the sweep or stop
        throw e;
      }
      const host = e.host ?? dest?.host;
      const port = e.port ?? dest?.port;
      const body = e.status === 403
        ? `landlockd egress proxy: ${e.message}; to allow it, add "${e.suggest}" to [net] allow_hosts\n`
        : `landlockd egress proxy: ${e.message}\n`;
      const bytes = response(e.status, body);
      await writeAll(t.conn, bytes).catch(() => {});
      this.#deny(started, e.status, e.message, head?.size ?? 0, bytes.length, {
        ...(host !== undefined ? { host } : {}),
        ...(port !== undefined ? { port } : {}),
        ...(head ? { method: head.method } : {}),
        ...(e.suggest ? { suggest: e.suggest } : {}),
      });
    }
  }

  /** Decides on host:port; the address to connect to, or a Refusal. */
  async #check(
    host: string,
    port: number,
  ): Promise<{ ip: string; text: string; rule: string }> {
    const bare = host.replace(/\.$/, "");
    const admitted = admitHost(this.rules, bare, port);
    if (!admitted.ok) {
      throw new Refusal(403, admitted.reason, admitted.suggest, bare, port);
    }
    if (admitted.literal) {
      const text = formatIp(admitted.literal);
      return { ip: text, text, rule: admitted.rule.text };
    }
    let addresses: number[][];
    let timer: ReturnType<typeof setTimeout> | undefined;
    try {
      addresses = await Promise.race([
        this.resolve(bare),
        new Promise<never>((_, reject) => {
          timer = setTimeout(
            () => reject(new Refusal(504, `resolving ${bare} timed out`)),
            this.limits.connectTimeoutMs,
          );
        }),
      ]);
    } catch (e) {
      if (e instanceof Refusal) throw e;
      throw new Refusal(502, `cannot resolve ${bare}: ${(e as Error).message}`);
    } finally {
      clearTimeout(timer);
    }
    if (!addresses.length) throw new Refusal(502, `${bare} does not resolve`);
    const { usable, refused } = usableAddresses(
      this.rules,
      admitted.rule,
      port,
      addresses,
    );
    if (!usable.length) {
      const r = refused[0];
      const suggest = r.address.includes(":")
        ? `[${r.address}]:${port}`
        : `${r.address}:${port}`;
      throw new Refusal(
        403,
        `${bare} resolves to ${r.address} (${r.range}), and "${admitted.rule.text}" reaches public addresses only (list the exact name, or the address or its range)`,
        suggest,
        bare,
        port,
      );
    }
    // The first usable address: connected to as checked, never re-resolved.
    const text = formatIp(usable[0]);
    return { ip: text, text, rule: admitted.rule.text };
  }

  async #connect(ip: string, port: number): Promise<Deno.TcpConn> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () =>
          reject(
            new Refusal(504, `connecting to ${ip} port ${port} timed out`),
          ),
        this.limits.connectTimeoutMs,
      );
    });
    const attempt = Deno.connect({ hostname: ip, port, transport: "tcp" });
    try {
      return await Promise.race([attempt, timeout]);
    } catch (e) {
      attempt.then((c) => c.close(), () => {});
      if (e instanceof Refusal) throw e;
      throw new Refusal(
        502,
        `cannot connect to ${ip} port ${port}: ${(e as Error).message}`,
      );
    } finally {
      clearTimeout(timer);
    }
  }

  /** Copies both ways until both ends are done; the byte counts. */
  async #relay(
    t: Tracked,
    first: Uint8Array,
  ): Promise<{ up: number; down: number }> {
    const client = t.conn;
    const server = t.upstream!;
    if (first.length) await writeAll(server, first);
    const [up, down] = await Promise.all([
      this.#pump(t, client, server),
      this.#pump(t, server, client),
    ]);
    return { up: up + first.length, down };
  }

  /**
   * One direction of #relay; the bytes it copied. Each write is awaited
   * before the next read, and takes a view of the bytes the read filled
   * (no copy in the proxy).
   */
  async #pump(t: Tracked, from: Deno.Conn, to: Deno.Conn): Promise<number> {
    let bytes = 0;
    let buf = new Uint8Array(SMALL_BUFFER);
    let large = false;
    try {
      while (true) {
        const n = await from.read(buf);
        if (n === null) break;
        t.lastActivity = performance.now();
        bytes += n;
        await writeAll(to, n === buf.length ? buf : buf.subarray(0, n));
        // A bulk transfer: fewer, larger reads, within the proxy's budget.
        if (!large && n === buf.length && this.#large < LARGE_BUFFERS) {
          this.#large++;
          large = true;
          buf = new Uint8Array(LARGE_BUFFER);
        }
      }
      await to.closeWrite().catch(() => {});
    } catch {
      this.#close(t); // one side failed: end both
    } finally {
      if (large) this.#large--;
    }
    return bytes;
  }

  /** Stops accepting, closes every connection, waits for their events. */
  async stop(): Promise<void> {
    if (this.#stopped) return;
    this.#stopped = true;
    clearInterval(this.#timer);
    try {
      this.#listener.close();
    } catch {
      // closed already
    }
    for (const t of this.#active) this.#close(t);
    await Promise.allSettled([...this.#pending]);
  }
}

function concat(a: Uint8Array, b: Uint8Array): Uint8Array {
  const out = new Uint8Array(a.length + b.length);
  out.set(a);
  out.set(b, a.length);
  return out;
}

/** The variables that point the command at the proxy. */
export function proxyEnvironment(port: number): Record<string, string> {
  const url = `http://127.0.0.1:${port}`;
  return {
    HTTPS_PROXY: url,
    HTTP_PROXY: url,
    ALL_PROXY: url,
    https_proxy: url,
    http_proxy: url,
    all_proxy: url,
    NO_PROXY: "",
    no_proxy: "",
  };
}
