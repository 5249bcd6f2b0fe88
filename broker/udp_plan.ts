/**
 * The broker's `[net] udp = "dns"` plan: the nameservers, read from the
 * file that is the sandbox's /etc/resolv.conf when the run is planned
 * (before the command starts, so the command cannot add one).
 *
 * @module
 */

import type { Policy } from "../policy/schema.ts";
import { socketRules } from "../policy/net_sockets.ts";
import { nameservers, resolvConfPath, type UdpPlan } from "./udp_rules.ts";

/** The plan, or undefined unless `udp = "dns"`. */
export function planUdp(policy: Policy): UdpPlan | undefined {
  if (socketRules(policy.net).udp !== "dns") return undefined;
  const path = resolvConfPath(policy);
  let text: string | undefined;
  if (path) {
    try {
      text = Deno.readTextFileSync(path);
    } catch (e) {
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  return {
    resolv_conf: path ?? "(none: a tmpfs hides /etc)",
    nameservers: nameservers(text),
    errno: policy.seccomp?.errno ?? 1,
  };
}
