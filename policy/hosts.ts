/**
 * `[net] allow_hosts`: the host rules of the egress proxy, and the decisions
 * made from them. Pure: parsing, matching, address classes. The proxy
 * (proxy/proxy.ts) resolves names and connects; this module says whether
 * it may.
 *
 * An entry is `host[:port]`, `*.suffix[:port]`, an IP address
 * (`192.0.2.7[:port]`, `[2001:db8::1][:port]`) or an address range
 * (`10.0.0.0/8[:port]`, `[fd00::/8][:port]`), optionally behind `http://`
 * or `https://`. The port defaults to 443, or 80 after `http://`.
 *
 * @module
 */

/** What a rule matches. */
export type HostRuleKind = "name" | "suffix" | "range";

/** One parsed `allow_hosts` entry. */
export interface HostRule {
  /** The entry as written. */
  text: string;
  kind: HostRuleKind;
  /** The lowercase name, the suffix without `*.`, or the range's address. */
  host: string;
  port: number;
  /** For `range`: the network address's bytes and the prefix length. */
  net?: { bytes: number[]; prefix: number };
}

/** The form an entry must have, for error messages. */
export const HOST_RULE_FORM =
  'expected "host[:port]", "*.suffix[:port]", an IP address or range ("10.0.0.0/8[:port]", "[fd00::/8][:port]"), optionally after "http://" or "https://"';

const LABEL = /^(?!-)[a-z0-9_-]{1,63}(?<!-)$/;

/** Whether `name` (lowercase, no trailing dot) is a DNS name we accept. */
export function isHostName(name: string): boolean {
  if (name.length === 0 || name.length > 253) return false;
  const labels = name.split(".");
  // An all-numeric last label would read as an IPv4 address to resolvers.
  if (/^[0-9]+$/.test(labels[labels.length - 1])) return false;
  return labels.every((l) => LABEL.test(l));
}

/** The 4 bytes of a dotted-quad IPv4 address, or undefined. */
export function parseIpv4(text: string): number[] | undefined {
  const parts = text.split(".");
  if (parts.length !== 4) return undefined;
  const out: number[] = [];
  for (const p of parts) {
    if (!/^(0|[1-9][0-9]{0,2})$/.test(p)) return undefined;
    const n = Number(p);
    if (n > 255) return undefined;
    out.push(n);
  }
  return out;
}

/** The 16 bytes of an IPv6 address (no zone, no brackets), or undefined. */
export function parseIpv6(text: string): number[] | undefined {
  if (!/^[0-9a-fA-F:.]+$/.test(text) || text.length > 45) return undefined;
  const halves = text.split("::");
  if (halves.length > 2) return undefined;
  const groups = (s: string): number[] | undefined => {
    if (s === "") return [];
    const out: number[] = [];
    const parts = s.split(":");
    for (let i = 0; i < parts.length; i++) {
      const p = parts[i];
      if (i === parts.length - 1 && p.includes(".")) {
        const v4 = parseIpv4(p);
        if (!v4) return undefined;
        out.push((v4[0] << 8) | v4[1], (v4[2] << 8) | v4[3]);
      } else if (/^[0-9a-fA-F]{1,4}$/.test(p)) out.push(parseInt(p, 16));
      else return undefined;
    }
    return out;
  };
  const head = groups(halves[0]);
  const tail = halves.length === 2 ? groups(halves[1]) : [];
  if (!head || !tail) return undefined;
  const missing = 8 - head.length - tail.length;
  if (halves.length === 2 ? missing < 1 : missing !== 0) return undefined;
  const words = [...head, ...Array(missing).fill(0), ...tail];
  return words.flatMap((w) => [w >> 8, w & 0xff]);
}

/** An address's bytes (4 or 16), from either notation, or undefined. */
export function parseIp(text: string): number[] | undefined {
  return parseIpv4(text) ?? parseIpv6(text);
}

/** The canonical text of an address (`::ffff:a.b.c.d` stays IPv6). */
export function formatIp(bytes: readonly number[]): string {
  if (bytes.length === 4) return bytes.join(".");
  const words: string[] = [];
  for (let i = 0; i < 16; i += 2) {
    words.push(((bytes[i] << 8) | bytes[i + 1]).toString(16));
  }
  return words.join(":").replace(/(^|:)0(:0)+(:|$)/, "::").replace(
    /:{3,}/,
    "::",
  );
}

function inNet(
  addr: readonly number[],
  net: readonly number[],
  prefix: number,
): boolean {
  if (addr.length !== net.length) return false;
  for (let bit = 0; bit < prefix; bit++) {
    const i = bit >> 3;
    const mask = 0x80 >> (bit & 7);
    if ((addr[i] & mask) !== (net[i] & mask)) return false;
  }
  return true;
}

/** Non-public address ranges, by name: refused unless listed. */
const SPECIAL_TEXT: [string, string, number][] = [
  ["unspecified", "0.0.0.0", 8],
  ["private", "10.0.0.0", 8],
  ["shared (CGNAT)", "100.64.0.0", 10],
  ["loopback", "127.0.0.0", 8],
  ["link-local", "169.254.0.0", 16],
  ["private", "172.16.0.0", 12],
  ["IETF protocol assignments", "192.0.0.0", 24],
  ["private", "192.168.0.0", 16],
  ["benchmarking", "198.18.0.0", 15],
  ["multicast", "224.0.0.0", 4],
  ["reserved", "240.0.0.0", 4],
  ["unspecified", "::", 128],
  ["loopback", "::1", 128],
  ["IPv4-mapped", "::ffff:0:0", 96],
  ["NAT64", "64:ff9b::", 96],
  ["unique local (private)", "fc00::", 7],
  ["link-local", "fe80::", 10],
  ["site-local", "fec0::", 10],
  ["multicast", "ff00::", 8],
];

/**
 * {@link SPECIAL_TEXT} parsed, on first use: parsing it when the module
 * loads cost every direct run (which loads this module for its policy
 * checks but asks for no range) three RegExp compilations, ~0.3 ms.
 */
let special: { name: string; net: number[]; prefix: number }[] | undefined;

/**
 * The name of the non-public range `addr` is in (loopback, private,
 * link-local, …), or undefined for a public address.
 */
export function specialRange(addr: readonly number[]): string | undefined {
  special ??= SPECIAL_TEXT.map(([name, net, prefix]) => ({
    name,
    net: parseIp(net)!,
    prefix,
  }));
  return special.find((s) => inNet(addr, s.net, s.prefix))?.name;
}

/**
 * Parses one `allow_hosts` entry; a string is what is wrong with it.
 */
export function parseHostRule(text: string): HostRule | string {
  let rest = text.trim().toLowerCase();
  if (rest !== text.toLowerCase()) return "remove the spaces";
  let port = 443;
  const scheme = /^([a-z][a-z0-9+.-]*):\/\//.exec(rest);
  if (scheme) {
    if (scheme[1] !== "http" && scheme[1] !== "https") {
      return `unknown scheme "${
        scheme[1]
      }://": only http:// (port 80) and https:// (port 443)`;
    }
    if (scheme[1] === "http") port = 80;
    rest = rest.slice(scheme[0].length);
  }
  if (rest.endsWith("/")) rest = rest.slice(0, -1);
  if (
    rest.includes("/") && !/^\[?[0-9a-f:.]+\/[0-9]+\]?(:[0-9]+)?$/.test(rest)
  ) {
    return "a host cannot have a path";
  }
  if (rest.includes("@")) return "a host cannot have a user name";
  let host = rest;
  const bracket = /^\[([^\]]*)\](?::([^:]*))?$/.exec(rest);
  if (bracket) {
    host = bracket[1];
    if (bracket[2] !== undefined) {
      const p = parsePort(bracket[2]);
      if (typeof p === "string") return p;
      port = p;
    }
  } else if (rest.includes(":")) {
    if (rest.indexOf(":") !== rest.lastIndexOf(":")) {
      return "write an IPv6 address in brackets: [2001:db8::1]:443";
    }
    const [h, p] = rest.split(":");
    const parsed = parsePort(p);
    if (typeof parsed === "string") return parsed;
    host = h;
    port = parsed;
  }
  if (host.endsWith(".")) host = host.slice(0, -1);
  const slash = host.indexOf("/");
  if (slash >= 0) {
    const bytes = parseIp(host.slice(0, slash));
    const prefixText = host.slice(slash + 1);
    if (!bytes) return `"${host.slice(0, slash)}" is not an IP address`;
    const max = bytes.length * 8;
    if (!/^[0-9]{1,3}$/.test(prefixText) || Number(prefixText) > max) {
      return `the prefix length must be 0 to ${max}`;
    }
    const prefix = Number(prefixText);
    if (!isNetAddress(bytes, prefix)) {
      return `"${host}" has bits set after the prefix; write ${
        formatIp(maskTo(bytes, prefix))
      }/${prefix}`;
    }
    return {
      text,
      kind: "range",
      host: formatIp(bytes),
      port,
      net: { bytes, prefix },
    };
  }
  const ip = parseIp(host);
  if (ip) {
    return {
      text,
      kind: "range",
      host: formatIp(ip),
      port,
      net: { bytes: ip, prefix: ip.length * 8 },
    };
  }
  if (host.startsWith("*.")) {
    const suffix = host.slice(2);
    if (!isHostName(suffix) || !suffix.includes(".")) {
      return `"*.${suffix}": the suffix must be a domain name with at least two labels`;
    }
    return { text, kind: "suffix", host: suffix, port };
  }
  if (host.includes("*")) {
    return 'a wildcard is only allowed as "*." at the start';
  }
  if (!isHostName(host)) return `"${host}" is not a valid host name`;
  return { text, kind: "name", host, port };
}

function maskTo(bytes: readonly number[], prefix: number): number[] {
  return bytes.map((b, i) => {
    const bits = Math.max(0, Math.min(8, prefix - i * 8));
    return b & (0xff << (8 - bits)) & 0xff;
  });
}

function isNetAddress(bytes: readonly number[], prefix: number): boolean {
  return maskTo(bytes, prefix).every((b, i) => b === bytes[i]);
}

function parsePort(p: string): number | string {
  if (!/^[0-9]{1,5}$/.test(p)) return `"${p}" is not a port number`;
  const n = Number(p);
  if (n < 1 || n > 65535) return `port ${n} is out of range (1 to 65535)`;
  return n;
}

/** Whether `text` is a valid `allow_hosts` entry (the schema's check). */
export function isHostRule(text: string): boolean {
  return typeof parseHostRule(text) !== "string";
}

/** Parses every entry; throws on the first invalid one (validated input). */
export function parseHostRules(texts: readonly string[]): HostRule[] {
  return texts.map((t) => {
    const r = parseHostRule(t);
    if (typeof r === "string") throw new Error(`allow_hosts "${t}": ${r}`);
    return r;
  });
}

/**
 * Whether a policy sets `[net] allow_hosts` (even to an empty list): then
 * TCP connects go only through landlockd's proxy. Other defaults that
 * follow from it (UDP, raw sockets) key on this.
 */
export function allowHostsSet(
  policy: { net?: { allow_hosts?: readonly string[] } },
): boolean {
  return policy.net?.allow_hosts !== undefined;
}

/** What the proxy may do with a request for `host:port`. */
export type Admission =
  | { ok: true; rule: HostRule; literal?: number[] }
  | { ok: false; reason: string; suggest: string };

/** The rule to suggest for a refused host (what to add to allow_hosts). */
export function suggestRule(host: string, port: number): string {
  const h = parseIpv6(host) ? `[${host}]` : host;
  return port === 443 ? h : `${h}:${port}`;
}

/**
 * Whether a request for `host:port` (as the client named it: a name or an
 * IP literal, without brackets) is admitted by a rule, before resolution.
 */
export function admitHost(
  rules: readonly HostRule[],
  host: string,
  port: number,
): Admission {
  const name = host.toLowerCase().replace(/\.$/, "");
  const suggest = suggestRule(name, port);
  const literal = parseIp(name);
  if (literal) {
    const rule = rules.find((r) =>
      r.kind === "range" && r.port === port &&
      inNet(literal, r.net!.bytes, r.net!.prefix)
    );
    if (rule) return { ok: true, rule, literal };
    return {
      ok: false,
      reason: `${suggest} is an IP address no allow_hosts range lists`,
      suggest,
    };
  }
  if (!isHostName(name)) {
    return { ok: false, reason: `"${host}" is not a valid host name`, suggest };
  }
  const rule =
    rules.find((r) =>
      r.kind === "name" && r.host === name && r.port === port
    ) ??
      rules.find((r) =>
        r.kind === "suffix" && r.port === port && name.endsWith(`.${r.host}`)
      );
  if (rule) return { ok: true, rule };
  return {
    ok: false,
    reason: `${name}:${port} is not in [net] allow_hosts`,
    suggest,
  };
}

/**
 * Which of the addresses a name resolved to the proxy may connect to,
 * for a request admitted by `rule`. A public address always; a loopback,
 * private or link-local one (DNS rebinding) only when the rule names the
 * host exactly, or a range rule on the same port lists the address.
 */
export function usableAddresses(
  rules: readonly HostRule[],
  rule: HostRule,
  port: number,
  addresses: readonly number[][],
): { usable: number[][]; refused: { address: string; range: string }[] } {
  const usable: number[][] = [];
  const refused: { address: string; range: string }[] = [];
  for (const a of addresses) {
    const range = specialRange(a);
    const listed = rule.kind === "name" || rule.kind === "range" ||
      rules.some((r) =>
        r.kind === "range" && r.port === port &&
        inNet(a, r.net!.bytes, r.net!.prefix)
      );
    if (!range || listed) usable.push(a);
    else refused.push({ address: formatIp(a), range });
  }
  return { usable, refused };
}
