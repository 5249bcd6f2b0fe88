/**
 * `run --explain`: turns the accesses the plan refused (AccessLog, mode
 * "denials") into denials with their cause and fix, printed on stderr
 * after the command exits and emitted as `denial` audit events. Pure.
 *
 * @module
 */

import type { Access, AccessLog } from "./access.ts";
import { parentOf, refusal, type ResolvedPlan } from "./verdict.ts";
import type { ProxyDecision } from "../proxy/record.ts";
import { errnoName } from "../syscalls/errno.ts";

/**
 * What was refused: an access the observer saw, or (`proxy`) a connection
 * the egress proxy refused.
 */
export type DenialOp = Access["op"] | "proxy" | "udp";

/** One distinct access the plan refused, with what would allow it. */
export interface Denial {
  op: DenialOp;
  path?: string;
  port?: number;
  /** `proxy`: the host asked for. */
  host?: string;
  /** `proxy`: why the proxy refused it. */
  reason?: string;
  /** The system call observed; `connect` for the proxy (its method aside). */
  syscall: string;
  /** `proxy`: the request's method, `CONNECT` or e.g. `GET`. */
  method?: string;
  count: number;
  /** The refusing section: `fs_layer[0]` or `net`. */
  section: string;
  /** Index of the refusing Landlock layer in the plan (not for `proxy`). */
  layer?: number;
  /** Where that section was written, `file:line`. */
  origin?: string;
  /** The Landlock rights missing there (empty for `proxy`). */
  missing: string[];
  /** A TOML snippet that allows it, to add to that section. */
  fix: string;
}

/** How many denial blocks are printed; the rest are counted. */
export const SHOWN_DENIALS = 20;

const OPS: Record<DenialOp, string> = {
  read: "open for reading",
  write: "open for writing",
  create: "create",
  remove: "remove",
  exec: "execute",
  list: "list directory",
  bind: "bind TCP port",
  connect: "connect to TCP port",
  socket: "socket",
  proxy: "connect via proxy",
  udp: "udp send",
};

/** The operation as the report names it, e.g. `open for reading`. */
export function operationLabel(op: DenialOp): string {
  return OPS[op];
}

/**
 * What a denial names: its path, its TCP port, or the destination's
 * host:port (the proxy's, the broker's UDP and TCP refusals).
 */
export function denialTarget(d: Denial): string {
  return d.op === "proxy" || d.op === "udp" || d.host !== undefined
    ? hostPort(d.host ?? "?", d.port)
    : d.path ?? String(d.port);
}

/** The rights a create or remove needs are granted on the directory. */
const ON_DIRECTORY = (op: DenialOp) => op === "create" || op === "remove";

const q = (s: string) => JSON.stringify(s);

/** The narrowest rule that allows the access: the file, or its directory. */
export function fixFor(
  a: Pick<Access, "op" | "path" | "port">,
  section: string,
  missing: readonly string[],
): string {
  const rights = `[${missing.map(q).join(", ")}]`;
  if (section === "net") {
    return `[[net.rule]]\nport = ${a.port}\nallowed_access = ${rights}`;
  }
  const path = ON_DIRECTORY(a.op) ? parentOf(a.path!) : a.path!;
  return `[[fs_layer.rule]]\npath = ${q(path)}\nallowed_access = ${rights}`;
}

/**
 * The denials in a log, each with its refusing layer and fix; `origin`
 * names where a section was written. Accesses the plan allows (a log
 * recorded in mode "all") are left out.
 */
export function denialsOf(
  log: AccessLog,
  plan: ResolvedPlan,
  origin: (section: string) => string | undefined,
): Denial[] {
  const out: Denial[] = [];
  for (const a of log.accesses) {
    const r = refusal(plan, a);
    if (!r) continue;
    const where = origin(r.section);
    out.push({
      op: a.op,
      ...(a.path !== undefined ? { path: a.path } : {}),
      ...(a.port !== undefined ? { port: a.port } : {}),
      syscall: a.syscall,
      count: a.count,
      section: r.section,
      layer: r.layer,
      ...(where ? { origin: where } : {}),
      missing: r.missing,
      fix: fixFor(a, r.section, r.missing),
    });
  }
  return out;
}

/** `host:port`, with an IPv6 literal in brackets. */
function hostPort(host: string, port?: number): string {
  const h = host.includes(":") ? `[${host}]` : host;
  return port === undefined ? h : `${h}:${port}`;
}

/**
 * The egress proxy's refusals as denials (`[net] allow_hosts`), each with
 * the `allow_hosts` entry that would admit it. Refusals that no entry
 * would fix (a malformed request, a connection limit, an unreachable
 * server) are left out: they are not the policy's.
 */
export function proxyDenials(
  refused: readonly ProxyDecision[],
  origin: (section: string) => string | undefined,
): Denial[] {
  const where = origin("net");
  return refused.filter((r) =>
    r.status === 403 && r.host !== undefined && r.suggest
  ).map((r) => ({
    op: "proxy" as const,
    host: r.host!,
    ...(r.port !== undefined ? { port: r.port } : {}),
    reason: r.reason ?? "not allowed",
    syscall: "connect",
    ...(r.method ? { method: r.method } : {}),
    count: r.count,
    section: "net",
    ...(where ? { origin: where } : {}),
    missing: [],
    fix: `allow_hosts = [${q(r.suggest!)}]`,
  }));
}

/**
 * `[net] udp = "dns"`: the datagram destinations the broker refused, as
 * denials (`host` is the address). Only `udp = "allow"` admits them.
 */
export function udpDenials(
  udp: NonNullable<AccessLog["udp"]>,
  origin: (section: string) => string | undefined,
): Denial[] {
  const where = origin("net");
  return udp.map((u) => ({
    op: "udp" as const,
    host: u.ip,
    port: u.port,
    reason:
      `udp = "dns" sends datagrams only to the nameservers of /etc/resolv.conf, port 53`,
    syscall: u.syscall,
    count: u.count,
    section: "net",
    ...(where ? { origin: where } : {}),
    missing: [],
    fix: `udp = "allow"`,
  }));
}

/**
 * `[net] allow_hosts`: the TCP connects the broker refused (anything but
 * the egress proxy and the `[[net.rule]]` ports), as `connect` denials
 * with the destination in `host`. The rule that lets such a connect
 * through is a `[[net.rule]]` for its port (any host, around the proxy);
 * the report also names the `allow_hosts` entry, for a program that can
 * use the proxy instead.
 */
export function tcpDenials(
  tcp: NonNullable<AccessLog["tcp"]>,
  origin: (section: string) => string | undefined,
): Denial[] {
  const where = origin("net");
  return tcp.map((t) => ({
    op: "connect" as const,
    host: t.ip,
    port: t.port,
    reason: `${
      errnoName(t.errno)
    }: with allow_hosts, TCP connects go only to the egress proxy (HTTPS_PROXY) and the ports of [[net.rule]]`,
    syscall: "connect",
    count: t.count,
    section: "net",
    ...(where ? { origin: where } : {}),
    missing: ["connect_tcp"],
    fix: fixFor({ op: "connect", port: t.port }, "net", ["connect_tcp"]),
  }));
}

/** `[[fs_layer]] #0` or `[net]`. */
function sectionName(section: string): string {
  const m = /^fs_layer\[(\d+)\]$/.exec(section);
  return m ? `[[fs_layer]] #${m[1]}` : `[${section}]`;
}

/** Denials that the same rule would allow, shown as one block. */
export interface DenialGroup {
  first: Denial;
  /** Every path or port in the group, in the order first seen. */
  targets: string[];
  /** Times the group's accesses were seen, in total. */
  count: number;
}

/** Groups denials by operation, refusing section and fix. */
export function groupDenials(denials: readonly Denial[]): DenialGroup[] {
  const groups = new Map<string, DenialGroup>();
  for (const d of denials) {
    // Each of the proxy's refusals is its own block: its host and reason.
    const key = [d.op, d.section, d.fix, d.host ?? "", d.reason ?? ""].join(
      "\0",
    );
    const target = denialTarget(d);
    const g = groups.get(key);
    if (g) {
      g.targets.push(target);
      g.count += d.count;
    } else groups.set(key, { first: d, targets: [target], count: d.count });
  }
  return [...groups.values()];
}

/** How many paths of one group are named before "and N more". */
const NAMED_PER_GROUP = 3;

/**
 * The stderr report: one block per denial (denials one rule would allow
 * share a block), capped at `shown` blocks.
 */
export function formatDenials(
  denials: readonly Denial[],
  log: Pick<AccessLog, "dropped" | "limit">,
  shown = SHOWN_DENIALS,
): string {
  if (!denials.length && !log.dropped) {
    return "landlockd: --explain: Landlock denied nothing this run observed\n";
  }
  const groups = groupDenials(denials);
  const lines: string[] = [];
  const n = denials.length;
  lines.push(
    `landlockd: --explain: ${n} distinct access${n === 1 ? "" : "es"} denied`,
  );
  for (const g of groups.slice(0, shown)) {
    const d = g.first;
    const times = g.count === 1 ? "once" : `${g.count} times`;
    const named = g.targets.slice(0, NAMED_PER_GROUP).join(", ");
    const more = g.targets.length > NAMED_PER_GROUP
      ? ` and ${g.targets.length - NAMED_PER_GROUP} more`
      : "";
    lines.push("");
    if (d.op === "proxy") {
      lines.push(
        `denied: ${OPS[d.op]} ${named} (${d.method ?? "request"}, ${times})`,
      );
      lines.push(
        `  refused by the egress proxy ([net] allow_hosts${
          d.origin ? ` at ${d.origin}` : ""
        }): ${d.reason}`,
      );
      lines.push("  to allow it, add the entry to [net] allow_hosts:");
      lines.push(`    ${d.fix}`);
      continue;
    }
    if (d.op === "connect" && d.host !== undefined) {
      lines.push(
        `denied: ${OPS[d.op]} ${named}${more} (${d.syscall}, ${times})`,
      );
      lines.push(
        `  refused by the broker ([net] allow_hosts${
          d.origin ? ` at ${d.origin}` : ""
        }): ${d.reason}`,
      );
      lines.push(
        "  to allow direct connects to this port (any host, not through the proxy), add to [net]:",
      );
      for (const l of d.fix.split("\n")) lines.push(`    ${l}`);
      lines.push(
        "  or, if the program can use the proxy, add the entry to [net] allow_hosts:",
      );
      lines.push(`    allow_hosts = [${q(hostPort(d.host, d.port))}]`);
      continue;
    }
    if (d.op === "udp") {
      lines.push(
        `denied: ${OPS[d.op]} ${named}${more} (${d.syscall}, ${times})`,
      );
      lines.push(
        `  refused by the broker ([net] udp${
          d.origin ? ` at ${d.origin}` : ""
        }): ${d.reason}`,
      );
      lines.push("  to allow it (all UDP, any destination), set in [net]:");
      lines.push(`    ${d.fix}`);
      continue;
    }
    lines.push(`denied: ${OPS[d.op]} ${named}${more} (${d.syscall}, ${times})`);
    lines.push(
      `  refused by ${sectionName(d.section)}${
        d.origin ? ` at ${d.origin}` : ""
      }: missing ${d.missing.join(", ")}`,
    );
    lines.push(
      `  to allow it, add to ${
        d.section === "net" ? "[net]" : "that [[fs_layer]]"
      }:`,
    );
    for (const l of d.fix.split("\n")) lines.push(`    ${l}`);
  }
  if (groups.length > shown) {
    lines.push("", `${groups.length - shown} more not shown`);
  }
  if (log.dropped) {
    lines.push(
      "",
      `${log.dropped} more distinct denied accesses were not recorded (the record keeps ${log.limit})`,
    );
  }
  return lines.join("\n") + "\n";
}

/** The fields of a `denial` audit event. */
export function denialEvent(d: Denial): Record<string, unknown> {
  return {
    operation: d.op,
    ...(d.path !== undefined ? { path: d.path } : {}),
    ...(d.host !== undefined ? { host: d.host } : {}),
    ...(d.port !== undefined ? { port: d.port } : {}),
    ...(d.reason !== undefined ? { reason: d.reason } : {}),
    syscall: d.syscall,
    ...(d.method !== undefined ? { method: d.method } : {}),
    count: d.count,
    section: d.section,
    ...(d.layer !== undefined ? { layer: d.layer } : {}),
    ...(d.origin ? { origin: d.origin } : {}),
    missing: d.missing,
    fix: d.fix,
  };
}
