/**
 * What `[net] udp` and `[net] raw` mean when a policy leaves them out: the
 * one place their defaults are decided. Pure.
 *
 * @module
 */

import { allowHostsSet } from "./hosts.ts";
import type { Policy } from "./schema.ts";

/** The socket rules a run enforces. */
export interface SocketRules {
  /** IPv4/IPv6 datagram sockets: any, none, or UDP to the nameservers. */
  udp: "allow" | "deny" | "dns";
  /** Raw, SOCK_PACKET and AF_PACKET sockets. */
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
  return {
    udp: net?.udp ?? (closed ? "deny" : "allow"),
    raw: net?.raw ?? !closed,
  };
}
