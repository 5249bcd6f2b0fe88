/**
 * The denials of an explained run (observe/explain.ts) with the plan's
 * rule paths resolved on this machine and each section's `file:line`:
 * shared by a direct run (cli/explain.ts) and the daemon.
 *
 * @module
 */

import type { AccessLog } from "../observe/access.ts";
import {
  type Denial,
  denialsOf,
  proxyDenials,
  tcpDenials,
  udpDenials,
} from "../observe/explain.ts";
import type { ProxyDecisions } from "../proxy/record.ts";
import { resolvePlan } from "../observe/verdict.ts";
import type { Source } from "../policy/diagnostic.ts";
import { indexLines, lineOf } from "../policy/locate.ts";
import { ruleOrigins } from "../policy/origins.ts";
import type { LandlockPlan } from "../policy/plan.ts";
import type { Policy } from "../policy/schema.ts";
import { realPathOrUndefined } from "./run.ts";

/**
 * Where a section (`fs_layer[0]`, `net`) was written, as `file:line`: from
 * the merged policy's origins when it extends others, else from the text.
 */
export function sectionOrigin(
  source: Pick<Source, "name" | "text">,
  policy?: Policy,
): (section: string) => string | undefined {
  const origins = policy ? ruleOrigins(policy) : undefined;
  let lines: Map<string, number> | undefined;
  return (section) => {
    const known = origins?.[section];
    if (known) return known;
    const m = /^fs_layer\[(\d+)\]$/.exec(section);
    const path = m ? ["fs_layer", Number(m[1])] : [section];
    lines ??= indexLines(source.text);
    const line = lineOf(lines, path);
    return line === undefined ? undefined : `${source.name}:${line}`;
  };
}

/**
 * The denials in an explained run's log, then the egress proxy's
 * refusals (`[net] allow_hosts`), when it had a proxy. The UDP broker's
 * refusals (datagrams under `[net] udp = "dns"`, TCP connects under
 * `allow_hosts`) come with the log.
 */
export function explainDenials(
  log: AccessLog,
  landlock: LandlockPlan,
  origin: (section: string) => string | undefined,
  proxy?: ProxyDecisions,
): Denial[] {
  return [
    ...denialsOf(log, resolvePlan(landlock, realPathOrUndefined), origin),
    ...udpDenials(log.udp ?? [], origin),
    ...tcpDenials(log.tcp ?? [], origin),
    ...(proxy ? proxyDenials(proxy.refused, origin) : []),
  ];
}
