/**
 * `[net] udp = "dns"`, the pure part: which file is the sandbox's
 * /etc/resolv.conf, the nameservers it names, and whether a socket address
 * is one of them on port 53. The broker (broker/udp.ts) asks this for
 * every destination of `connect`, `sendto`, `sendmsg` and `sendmmsg` on an
 * IPv4/IPv6 datagram socket.
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";

export const AF_UNSPEC = 0;
export const AF_INET = 2;
export const AF_INET6 = 10;
export const DNS_PORT = 53;

/** What the broker needs for `udp = "dns"`. */
export interface UdpPlan {
  /** The file the nameservers were read from, as `--dry-run` shows it. */
  resolv_conf: string;
  /** Canonical addresses ({@link canonicalIp}) a datagram may go to. */
  nameservers: string[];
  /** The errno a refused destination gets (the policy's `[seccomp] errno`). */
  errno: number;
}

/**
 * Whether `control` (a msghdr's control buffer, 64-bit layout) holds a
 * socket-level (SOL_SOCKET) control message: SO_MARK, SO_PRIORITY and the
 * like, which the kernel checks against the capabilities of the caller,
 * the broker, not the command. A malformed buffer counts as none: the
 * kernel refuses it itself (EINVAL).
 */
export function hasSocketLevelControl(control: Uint8Array): boolean {
  return controlMessages(control).some(([level]) => level === SOL_SOCKET);
}

/**
 * Whether `control` holds a control message that routes the datagram
 * through another host first: an IPv4 source route (IP_RETOPTS, the
 * options of one send) or an IPv6 routing header (IPV6_RTHDR,
 * IPV6_2292RTHDR). The kernel then sends the packet to the route's first
 * hop, any host, and writes the checked address into the option. Any
 * IP_RETOPTS counts: the options are rarely used, and parsing them here
 * would be a second parser to keep in step with the kernel's.
 */
export function hasRoutingControl(control: Uint8Array): boolean {
  return controlMessages(control).some(([level, type]) =>
    (level === IPPROTO_IP && type === IP_RETOPTS) ||
    (level === IPPROTO_IPV6 &&
      (type === IPV6_RTHDR || type === IPV6_2292RTHDR))
  );
}

/**
 * The (level, type) of each control message in `control` (a msghdr's
 * control buffer, 64-bit layout), walked as the kernel walks it. A
 * malformed message ends the list: the kernel refuses the buffer itself
 * (EINVAL).
 */
function controlMessages(control: Uint8Array): [number, number][] {
  const view = new DataView(
    control.buffer,
    control.byteOffset,
    control.byteLength,
  );
  const out: [number, number][] = [];
  for (let off = 0; off + 16 <= control.length;) {
    const len = Number(view.getBigUint64(off, true));
    if (len < 16 || len > control.length - off) break;
    out.push([view.getInt32(off + 8, true), view.getInt32(off + 12, true)]);
    off += (len + 7) & ~7;
  }
  return out;
}

const SOL_SOCKET = 1;
const IPPROTO_IP = 0;
const IPPROTO_IPV6 = 41;
const IP_RETOPTS = 7;
const IPV6_2292RTHDR = 5;
const IPV6_RTHDR = 57;

/**
 * `[net] allow_hosts`: where a TCP `connect` may go. Landlock's rule for
 * the proxy's port allows that port on every address (Landlock has no
 * address rules), so a listener on another host at the same port number
 * would be reachable past the proxy; the broker lets TCP connects reach
 * the proxy only on 127.0.0.1.
 */
export interface TcpPlan {
  /** The proxy's port: 0 until the proxy listens (sandbox/run.ts sets it). */
  proxy_port: number;
  /** `[[net.rule]]` ports that allow `connect_tcp`: every host, by policy. */
  rule_ports: number[];
}

/**
 * What the broker does with a TCP `connect` to `to`: perform it itself
 * (the proxy on 127.0.0.1, or AF_UNSPEC, which only dissolves), continue
 * it (a `[[net.rule]]` port: Landlock decides, and any host is allowed
 * there anyway), or refuse it: EACCES, Landlock's own errno, or
 * EAFNOSUPPORT for a family that is not the socket's (as the kernel).
 */
export function tcpDecision(
  to: Destination,
  plan: TcpPlan,
): "perform" | "continue" | "refuse" | "bad family" {
  if (to.family === "unspec") return "perform";
  if (to.family !== "inet") return "bad family";
  if (to.port === plan.proxy_port && plan.proxy_port !== 0) {
    return to.ip === "127.0.0.1" ? "perform" : "refuse";
  }
  return plan.rule_ports.includes(to.port) ? "continue" : "refuse";
}

/**
 * Where the sandbox's /etc/resolv.conf is: a host file, or a path to
 * resolve inside a root directory, as the sandbox does after the pivot.
 */
export interface ResolvConf {
  /** The `[runtime] root` the path is resolved in (symlinks stay inside). */
  root?: string;
  path: string;
}

/**
 * The file that is the sandbox's /etc/resolv.conf: the source of a
 * `[mount] bind` onto it (or onto /etc), else /etc/resolv.conf inside
 * `[runtime] root`, else the host's. Undefined when a `[mount] tmpfs`
 * hides /etc (the sandbox then has none).
 */
export function resolvConfPath(policy: Policy): ResolvConf | undefined {
  const binds = policy.mount?.bind ?? [];
  const file = binds.findLast((b) => b.target === "/etc/resolv.conf");
  if (file) return { path: file.source };
  const etc = binds.findLast((b) => b.target === "/etc" || b.target === "/");
  if (etc) {
    return {
      path: `${etc.source.replace(/\/$/, "")}${
        etc.target === "/" ? "/etc" : ""
      }/resolv.conf`,
    };
  }
  if ((policy.mount?.tmpfs ?? []).some((t) => t === "/etc" || t === "/")) {
    return undefined;
  }
  const root = policy.runtime?.root;
  return root
    ? { root, path: "/etc/resolv.conf" }
    : { path: "/etc/resolv.conf" };
}

/**
 * The nameservers of a resolv.conf text, canonical. Like glibc, a file
 * without any (or no file) means the local machine, 127.0.0.1.
 */
export function nameservers(text: string | undefined): string[] {
  const out: string[] = [];
  for (const line of (text ?? "").split("\n")) {
    const [key, value] = line.replace(/[#;].*/, "").trim().split(/\s+/);
    if (key !== "nameserver" || !value) continue;
    const ip = canonicalIp(value.replace(/%.*/, ""));
    if (ip && !out.includes(ip)) out.push(ip);
  }
  return out.length ? out : ["127.0.0.1"];
}

/** An IPv4 address as four bytes, or undefined. */
function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const bytes = parts.map((p) => /^\d{1,3}$/.test(p) ? Number(p) : 256);
  return bytes.every((b) => b <= 255) ? bytes : undefined;
}

/** An IPv6 address as sixteen bytes, or undefined. */
function parseIpv6(text: string): number[] | undefined {
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const items = s.split(":");
    for (const [i, g] of items.entries()) {
      if (i === items.length - 1 && g.includes(".")) {
        const v4 = parseIpv4(g);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(g)) out.push(parseInt(g, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const fill = 8 - head.length - tail.length;
  if (halves.length === 2 ? fill < 1 : fill !== 0) return undefined;
  const words = [
    ...head,
    ...Array(halves.length === 2 ? fill : 0).fill(0),
    ...tail,
  ];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** Canonical text of 4 or 16 address bytes; IPv4-mapped IPv6 as IPv4. */
function canonicalBytes(bytes: readonly number[]): string {
  const mapped = bytes.length === 16 &&
    bytes.slice(0, 10).every((b) => b === 0) && bytes[10] === 0xff &&
    bytes[11] === 0xff;
  if (bytes.length === 4 || mapped) return bytes.slice(-4).join(".");
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return words.join(":");
}

/** An IP address in one spelling per address, or undefined if not one. */
export function canonicalIp(text: string): string | undefined {
  const bytes = text.includes(":") ? parseIpv6(text) : parseIpv4(text);
  return bytes ? canonicalBytes(bytes) : undefined;
}

/** A socket address the sandbox passed, decoded. */
export type Destination =
  | { family: "unspec" }
  | { family: "inet"; ip: string; port: number }
  | { family: "other"; sa_family: number }
  | { family: "invalid" };

/** Decodes a `struct sockaddr` of `bytes.length` (its addrlen) bytes. */
export function decodeSockaddr(bytes: Uint8Array): Destination {
  if (bytes.length < 2) return { family: "invalid" };
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.length);
  const family = view.getUint16(0, true);
  if (family === AF_UNSPEC) return { family: "unspec" };
  if (family === AF_INET) {
    if (bytes.length < 16) return { family: "invalid" };
    return {
      family: "inet",
      ip: canonicalBytes([...bytes.subarray(4, 8)]),
      port: view.getUint16(2, false),
    };
  }
  if (family === AF_INET6) {
    if (bytes.length < 24) return { family: "invalid" };
    return {
      family: "inet",
      ip: canonicalBytes([...bytes.subarray(8, 24)]),
      port: view.getUint16(2, false),
    };
  }
  return { family: "other", sa_family: family };
}

/**
 * Whether a datagram may go to `to`: a nameserver on port 53. `connect`
 * to AF_UNSPEC dissolves an association and sends nothing, so it is
 * allowed; a send to AF_UNSPEC is not (an IPv4 socket reads it as
 * AF_INET).
 */
export function dnsAllows(
  to: Destination,
  plan: Pick<UdpPlan, "nameservers">,
  call: "connect" | "send",
): boolean {
  if (to.family === "unspec") return call === "connect";
  return to.family === "inet" && to.port === DNS_PORT &&
    plan.nameservers.includes(to.ip);
}
