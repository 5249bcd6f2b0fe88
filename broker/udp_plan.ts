/**
 * The broker's `[net] udp = "dns"` plan: the nameservers, read from the
 * file that is the sandbox's /etc/resolv.conf when the run is planned
 * (before the command starts, so the command cannot add one).
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";
import { socketRules } from "../policy/net_sockets.ts";
import {
  nameservers,
  type ResolvConf,
  resolvConfPath,
  type UdpPlan,
} from "./udp_rules.ts";
import { readInRoot } from "../syscalls/fs_read.ts";

/** The plan, or undefined unless `udp = "dns"`. */
export function planUdp(policy: Policy): UdpPlan | undefined {
  if (socketRules(policy.net).udp !== "dns") return undefined;
  const where = resolvConfPath(policy);
  return {
    resolv_conf: where
      ? where.root ? `${where.path} in ${where.root}` : where.path
      : "(none: a tmpfs hides /etc)",
    nameservers: nameservers(where && read(where)),
    errno: policy.seccomp?.errno ?? 1,
  };
}

/**
 * The file's text, or undefined when it cannot be read: the sandbox's
 * resolver cannot read it either, and falls back as `nameservers` does.
 */
function read(where: ResolvConf): string | undefined {
  if (where.root) return readInRoot(where.root, where.path);
  try {
    return Deno.readTextFileSync(where.path);
  } catch {
    return undefined;
  }
}
