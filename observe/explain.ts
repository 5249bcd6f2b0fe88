/**
 * `run --explain`: turns the accesses the plan refused (AccessLog, mode
 * "denials") into denials with their cause and fix, printed on stderr
 * after the command exits and emitted as `denial` audit events. Pure.
 *
 * @module
 */

import type { Access, AccessLog } from "./access.ts";
import { parentOf, refusal, type ResolvedPlan } from "./verdict.ts";

/** One distinct access the plan refused, with what would allow it. */
export interface Denial {
  op: Access["op"];
  path?: string;
  port?: number;
  syscall: string;
  count: number;
  /** The refusing section: `fs_layer[0]` or `net`. */
  section: string;
  /** Index of the refusing Landlock layer in the plan. */
  layer: number;
  /** Where that section was written, `file:line`. */
  origin?: string;
  /** The Landlock rights missing there. */
  missing: string[];
  /** A TOML snippet that allows it, to add to that section. */
  fix: string;
}

/** How many denial blocks are printed; the rest are counted. */
export const SHOWN_DENIALS = 20;

const OPS: Record<Access["op"], string> = {
  read: "open for reading",
  write: "open for writing",
  create: "create",
  remove: "remove",
  exec: "execute",
  list: "list directory",
  bind: "bind TCP port",
  connect: "connect to TCP port",
  socket: "socket",
};

/** The rights a create or remove needs are granted on the directory. */
const ON_DIRECTORY = (op: Access["op"]) => op === "create" || op === "remove";

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
    const key = [d.op, d.section, d.fix].join("\0");
    const target = d.path ?? String(d.port);
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
    ...(d.port !== undefined ? { port: d.port } : {}),
    syscall: d.syscall,
    count: d.count,
    section: d.section,
    layer: d.layer,
    ...(d.origin ? { origin: d.origin } : {}),
    missing: d.missing,
    fix: d.fix,
  };
}
