/**
 * What `[net] handled_access_net`, `udp` and `raw` mean when a policy
 * leaves them out: the one place their defaults are decided. Pure.
 *
 * @module
 */

import { allowHostsSet } from "./hosts.ts";
import type { NetRight } from "./rights.ts";
import type { Policy } from "./schema.ts";

/**
 * The parts of a `[net]` table {@link handledNet} reads: a validated one,
 * a document as written, or a merged one not yet validated (extends).
 */
export interface NetTable {
  handled_access_net?: readonly NetRight[];
  rule?: unknown;
  udp?: unknown;
  raw?: unknown;
  allow_hosts?: unknown;
}

/**
 * The TCP operations Landlock handles for a `[net]` table (none without
 * one). `handled_access_net` when the table sets it; otherwise
 * `["connect_tcp"]` where the table says something about TCP
 * (`[[net.rule]]` or `allow_hosts`) or nothing at all (an empty `[net]`
 * means "no network", as it always has), and none where it sets only
 * `udp` and/or `raw`: refusing UDP must not cost every TCP connect.
 * With `allow_hosts`, `connect_tcp` is handled whatever the list says
 * (connects go to the proxy).
 */
export function handledNet(net: NetTable | undefined): NetRight[] {
  if (net === undefined) return [];
  const proxied = net.allow_hosts !== undefined;
  if (net.handled_access_net !== undefined) {
    const listed = [...net.handled_access_net];
    return proxied && !listed.includes("connect_tcp")
      ? [...listed, "connect_tcp"]
      : listed;
  }
  const aboutTcp = net.rule !== undefined || proxied;
  const socketsOnly = net.udp !== undefined || net.raw !== undefined;
  return aboutTcp || !socketsOnly ? ["connect_tcp"] : [];
}

/** The socket rules a run enforces. */
export interface SocketRules {
  /** IPv4/IPv6 datagram sockets: any, none, or UDP to the nameservers. */
  udp: "allow" | "deny" | "dns";
  /** Raw, SOCK_PACKET, AF_PACKET and AF_XDP sockets. */
  raw: boolean;
}

/**
 * The rules for a policy's `[net]` table (undefined without one).
 * With `allow_hosts`, both default to closed: the proxy resolves names, so
 * nothing in the sandbox needs DNS, and a datagram or raw socket would go
 * around the proxy. Otherwise, today's behaviour: both allowed (lint notes
 * UDP is unrestricted when `[net]` restricts TCP).
 */
export function socketRules(net: Policy["net"]): SocketRules {
  const closed = net !== undefined && allowHostsSet({ net });
  const udp = net?.udp ?? (closed ? "deny" : "allow");
  // A raw IPPROTO_UDP socket sends UDP too (root, CAP_NET_RAW): where UDP
  // is restricted, raw sockets are refused unless the policy says raw.
  return { udp, raw: net?.raw ?? (udp === "allow" && !closed) };
}

/**
 * Whether a `[net]` table restricts anything: TCP (see {@link handledNet}),
 * UDP or raw sockets. `udp = "allow"` or `raw = true` alone does not.
 */
export function netRestricts(net: NetTable): boolean {
  const sockets = socketRules(net as Policy["net"]);
  return handledNet(net).length > 0 || sockets.udp !== "allow" ||
    !sockets.raw;
}

/** Why a `[net]` table that {@link netRestricts} rejects restricts nothing. */
export const NET_RESTRICTS_NOTHING =
  '[net] restricts nothing here: udp = "allow" and raw = true are the defaults, and TCP is restricted only by handled_access_net, [[net.rule]] or allow_hosts';

/**
 * Why `[seccomp] allow = ["io_uring"]` cannot go with this policy's `[net]`,
 * or undefined when it can. IORING_OP_SOCKET makes sockets without
 * socket(2) (UDP, raw, MPTCP) and IORING_OP_CONNECT connects without
 * connect(2), which the broker must see for allow_hosts: a run refuses
 * the combination (sandbox/seccomp.ts), and lint says so as an error.
 */
export function ioUringConflict(
  policy: Pick<Policy, "net" | "seccomp">,
): string | undefined {
  if (!(policy.seccomp?.allow ?? []).includes("io_uring")) return undefined;
  const sockets = socketRules(policy.net);
  const needs = [
    ...(sockets.udp !== "allow" ? [`udp = "${sockets.udp}"`] : []),
    ...(!sockets.raw ? ["raw = false"] : []),
    ...(policy.net && allowHostsSet({ net: policy.net })
      ? ["allow_hosts"]
      : []),
  ];
  return needs.length
    ? `[net] ${
      needs[0]
    } cannot be enforced with io_uring allowed (io_uring makes sockets and connects seccomp does not see); remove "io_uring" from [seccomp] allow`
    : undefined;
}

/** Capability numbers (linux/capability.h) {@link droppedCapabilities} names. */
export const CAPABILITIES = {
  CAP_NET_ADMIN: 12,
  CAP_NET_RAW: 13,
  CAP_SYS_MODULE: 16,
  CAP_SYS_PTRACE: 19,
  CAP_SYS_ADMIN: 21,
  CAP_BPF: 39,
} as const;

/** A capability a restricting `[net]` takes from the command. */
export type DroppedCapability = keyof typeof CAPABILITIES;

/**
 * The capabilities the command loses, before exec and for good (bounding
 * set too), when the policy's `[net]` restricts anything
 * ({@link netRestricts}); none otherwise. Root with them rewrites where
 * the checked traffic goes: CAP_NET_ADMIN adds netfilter NAT rules (a
 * datagram the broker let through to the nameserver, or the proxy's
 * connects, redirected elsewhere), routes and tunnels; CAP_BPF or
 * CAP_SYS_ADMIN attach cgroup programs that rewrite connect and sendmsg
 * addresses; CAP_SYS_MODULE loads protocol modules. CAP_NET_RAW goes too
 * where `raw = false`.
 */
export function droppedCapabilities(
  net: Policy["net"],
): DroppedCapability[] {
  if (net === undefined || !netRestricts(net)) return [];
  const dropped: DroppedCapability[] = [
    "CAP_NET_ADMIN",
    "CAP_SYS_MODULE",
    "CAP_SYS_ADMIN",
    "CAP_BPF",
  ];
  if (!socketRules(net).raw) dropped.splice(1, 0, "CAP_NET_RAW");
  return dropped;
}

/**
 * {@link droppedCapabilities}, plus CAP_SYS_PTRACE where the command has no
 * Landlock domain (no layer: a kernel without Landlock, ABI 0). Landlock
 * refuses tracing a process outside the domain; without one, root's
 * CAP_SYS_PTRACE seizes landlockd (non-dumpable, but the capability
 * overrides that), which holds every capability and no filter, and takes
 * its descriptors with pidfd_getfd (tests/attacks/net_caps_escape_test.ts).
 * Without CAP_SYS_PTRACE, the kernel refuses root tracing a process whose
 * capabilities are not a subset of its own, so it cannot trace landlockd.
 */
export function droppedCapabilitiesFor(
  net: Policy["net"],
  landlockLayers: number,
): DroppedCapability[] {
  const dropped = droppedCapabilities(net);
  if (dropped.length && landlockLayers === 0) dropped.push("CAP_SYS_PTRACE");
  return dropped;
}

/** The mask ffi/spawn.c takes (bit n: capability n). */
export function capabilityMask(caps: readonly DroppedCapability[]): bigint {
  return caps.reduce((m, c) => m | (1n << BigInt(CAPABILITIES[c])), 0n);
}
