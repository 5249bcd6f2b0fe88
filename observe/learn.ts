/**
 * `landlockd learn`: turns what the observer saw a command do (an
 * {@link AccessLog}) into the smallest policy under which it does the same
 * again, as commented TOML. Pure: the caller says how each path looks on
 * the host (`probe`), where the command ran and what `$HOME` is.
 *
 * How accesses become rules:
 * - Rights come from the observed operation: read → `read_file` (on a
 *   directory `read_dir`), list → `read_dir`, write → `write_file` and
 *   `truncate`, exec → `execute`; a create or remove is a right on the
 *   directory that holds the entry (`make_reg`, `make_dir`, …,
 *   `remove_file`, `remove_dir`, `refer` for renames and links). A path the
 *   run created, or that is gone when it ends, is granted through the
 *   nearest directory that existed before and still exists: the next run
 *   may name its files differently.
 * - Grouping: system trees (`/usr`, `/lib*`, `/bin`, `/sbin`, `/opt`) by
 *   their directory three levels down (`/usr/lib/python3.11`), read and
 *   execute; `/sys` and `/proc` likewise but read-only; `/etc` and `/dev`
 *   files one by one; the working directory as one rule (`${PWD}`);
 *   under `$HOME` each top directory (`${HOME}/.npm`; below `.cache`,
 *   `.config` and `.local/*`, the program's: `${HOME}/.cache/pip`) as one
 *   rule; any
 *   other directory's files one by one, or as their directory when more
 *   than {@link GROUP_FILES} were touched there. A directory rule that
 *   saw any change gets the whole `rw` group (its next run may create what
 *   this one only rewrote).
 * - Every rule carries a comment with the evidence; a rule an ancestor rule
 *   already covers is dropped, so lint finds nothing to warn about.
 * - TCP binds and connects become `[net]` rules with exactly the ports
 *   seen; UDP and other sockets are listed as comments (Landlock does not
 *   restrict them).
 * - With a base policy, accesses the base already allows are left out and
 *   the result `extends` the base with `[[fs_rule]]`/`[[net_rule]]`: all
 *   of the base's restrictions stay, only what the run needed beyond them is
 *   added.
 *
 * @module
 */

import type { Access, AccessLog } from "./access.ts";
import { FS_GROUPS } from "../policy/groups.ts";
import { isBeneath } from "../policy/paths.ts";
import {
  FILE_RIGHTS,
  FS_RIGHTS,
  type FsRight,
  inBitOrder,
  NET_RIGHTS,
  type NetRight,
} from "../policy/rights.ts";
import { refusal, type ResolvedPlan } from "./verdict.ts";
import type { ProxyDecisions } from "../proxy/record.ts";

/** How a path looks on the host now (as `policy/lint.ts` probes it). */
export type PathKind = "directory" | "file" | "missing";

/** A base policy the learned one extends. */
export interface LearnBase {
  /** The `extends` value: a policy name or a path. */
  ref: string;
  /**
   * The base as this kernel enforces it, its rule paths resolved
   * (observe/verdict.ts `resolvePlan`).
   */
  plan: ResolvedPlan;
}

/** Where and how the command ran, and what to say about it. */
export interface LearnContext {
  /** The working directory (absolute). */
  cwd: string;
  /** `$HOME`, if any. */
  home?: string;
  base?: LearnBase;
  /** How each path looks now; called once per distinct path. */
  probe: (path: string) => PathKind;
  /** The command, for the header. */
  argv?: readonly string[];
  /** How the run ended, for the header, e.g. "exit status 0". */
  ended?: string;
  /**
   * What the base's egress proxy (`[net] allow_hosts`) decided during the
   * run: each host it refused that an entry would admit is learned as an
   * `allow_hosts` entry.
   */
  proxy?: Pick<ProxyDecisions, "refused">;
}

/** One `allow_hosts` entry of the result. */
export interface LearnedHost {
  /** As written: `host:port`. */
  entry: string;
  evidence: string;
}

/** One rule of the result. */
export interface LearnedFsRule {
  /** The absolute path. */
  path: string;
  /** As written: with `${PWD}` or `${HOME}` where that applies. */
  written: string;
  rights: FsRight[];
  evidence: string;
}

/** One port rule of the result. */
export interface LearnedNetRule {
  port: number;
  rights: NetRight[];
  evidence: string;
}

/** The learned policy: its rules and its text. */
export interface Learned {
  fs: LearnedFsRule[];
  net: LearnedNetRule[];
  /** `[net] allow_hosts` entries (with a base that has a proxy). */
  hosts: LearnedHost[];
  /** Comment lines (without `#`) about what needs no rule. */
  notes: string[];
  toml: string;
}

/** Directory trees of the system: grouped, read and execute. */
export const SYSTEM_TREES = [
  "/usr",
  "/lib",
  "/lib32",
  "/lib64",
  "/libx32",
  "/bin",
  "/sbin",
  "/opt",
];

/** Trees of kernel state: grouped, read only. */
const KERNEL_TREES = ["/sys"];

/** Directories under $HOME that hold other programs' directories. */
const SHARED_HOME_DIRS = [".cache", ".config", ".local"];

/** Files in one directory beyond which they are granted as the directory. */
export const GROUP_FILES = 8;

/** The fs rights a learned layer handles: every right up to ABI 3. */
export const LEARNED_HANDLED: readonly FsRight[] = (Object.keys(
  FS_RIGHTS,
) as FsRight[]).filter((r) => FS_RIGHTS[r].abi <= 3);

const RX: readonly FsRight[] = FS_GROUPS.rx;
const RO: readonly FsRight[] = FS_GROUPS.ro;
const RW: readonly FsRight[] = FS_GROUPS.rw;
const CHANGES: readonly FsRight[] = RW.filter((r) => !RO.includes(r));

function parentOf(path: string): string {
  const i = path.lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}

function depth(path: string): number {
  return path === "/" ? 0 : path.split("/").length - 1;
}

/** The first `n` components of `path`: ("/usr/lib/x/y", 2) → "/usr/lib". */
function prefix(path: string, n: number): string {
  return "/" + path.split("/").slice(1, n + 1).join("/");
}

/** What the command did to one entry, as the verb of an evidence comment. */
type Verb =
  | "read"
  | "listed"
  | "written"
  | "executed"
  | "created"
  | "removed";

const VERB_OF: Record<string, Verb> = {
  read: "read",
  list: "listed",
  write: "written",
  exec: "executed",
  create: "created",
  remove: "removed",
};

/** Rights a create needs in the entry's directory, by the syscall seen. */
function createRights(syscall: string): FsRight[] {
  if (syscall.startsWith("mkdir")) return ["make_dir"];
  if (syscall.startsWith("symlink")) return ["make_sym"];
  if (syscall.startsWith("mknod")) {
    return ["make_reg", "make_fifo", "make_sock"];
  }
  if (syscall === "bind") return ["make_sock"];
  if (syscall.startsWith("rename") || syscall.startsWith("link")) {
    return ["make_reg", "refer"];
  }
  return ["make_reg"];
}

/** Rights a remove needs in the entry's directory. */
function removeRights(syscall: string, wasDir: boolean): FsRight[] {
  if (syscall === "rmdir") return ["remove_dir"];
  const out: FsRight[] = [wasDir ? "remove_dir" : "remove_file"];
  if (syscall.startsWith("rename")) out.push("refer");
  return out;
}

/**
 * The rights the observer says the access needs (it saw the flags: a
 * truncating open, the kind of node mknod made), when it says so; else the
 * rights are derived here from the operation and the syscall.
 */
function observedRights(a: Access): FsRight[] | undefined {
  if (!a.rights) return undefined;
  const named = a.rights;
  const rights = named.filter((r): r is FsRight => Object.hasOwn(FS_RIGHTS, r));
  return rights.length ? rights : undefined;
}

/** One access, reduced to rights on a target path. */
interface Need {
  /** The entry the command named. */
  path: string;
  verb: Verb;
  /** Where the rights go: the entry, or a directory above it. */
  target: string;
  rights: FsRight[];
}

/** A group of needs that becomes one rule. */
interface Group {
  path: string;
  /** Directory rule (true) or file rule. */
  dir: boolean;
  /** Give the whole `rw` group when anything changed. */
  widenWrites: boolean;
  rights: Set<FsRight>;
  /** Distinct entries per verb. */
  seen: Map<Verb, Set<string>>;
}

/**
 * Whether the base refuses `right` at `target` (observe/verdict.ts decides,
 * as for --explain). A right to create, remove or reparent entries is
 * asked for an entry inside `target`, the others for `target` itself.
 */
function baseRefuses(
  base: ResolvedPlan,
  target: string,
  right: FsRight,
): boolean {
  const onEntry = FILE_RIGHTS.includes(right) || right === "read_dir";
  const path = onEntry ? target : `${target === "/" ? "" : target}/\0`;
  return refusal(base, { path, rights: [right] }) !== undefined;
}

/** Learns a policy from `log`. */
export function learnPolicy(log: AccessLog, ctx: LearnContext): Learned {
  const kinds = new Map<string, PathKind>();
  const kind = (p: string): PathKind => {
    let k = kinds.get(p);
    if (k === undefined) {
      k = ctx.probe(p);
      // /proc/<pid> of a process that has exited is gone now, but the next
      // run has its own: count it as there.
      if (k === "missing" && isBeneath(p, "/proc") && p !== "/proc") {
        k = "file";
      }
      kinds.set(p, k);
    }
    return k;
  };
  const files = log.accesses.filter((a) => a.path !== undefined);
  // Entries the run created: their rights go to the directory above them.
  const created = new Map<string, string>(); // path → syscall
  for (const a of files) {
    if (a.op === "create") created.set(a.path!, a.syscall);
  }
  const createdDirs = new Set(
    [...created].filter(([, s]) => s.startsWith("mkdir")).map(([p]) => p),
  );
  /** The nearest directory above `path` that existed before the run and still does. */
  const stableDir = (path: string): string => {
    let dir = parentOf(path);
    while (dir !== "/" && (created.has(dir) || kind(dir) !== "directory")) {
      dir = parentOf(dir);
    }
    return dir;
  };
  /** Where the rights on `path` itself go. */
  const stableTarget = (path: string): { target: string; dir: boolean } => {
    if (!created.has(path) && kind(path) !== "missing") {
      return { target: path, dir: kind(path) === "directory" };
    }
    return { target: stableDir(path), dir: true };
  };

  let missing = 0;
  let unnamable = 0;
  const needs: Need[] = [];
  for (const a of files) {
    const path = a.path!;
    if (path.includes("${")) {
      // A policy path expands ${NAME}: this one would name another path.
      unnamable++;
      continue;
    }
    const verb = VERB_OF[a.op];
    if (!verb) continue;
    if (a.op === "create") {
      needs.push({
        path,
        verb,
        target: stableDir(path),
        rights: observedRights(a) ?? createRights(a.syscall),
      });
      continue;
    }
    if (a.op === "remove") {
      needs.push({
        path,
        verb,
        target: stableDir(path),
        rights: observedRights(a) ??
          removeRights(a.syscall, createdDirs.has(path)),
      });
      continue;
    }
    const gone = !created.has(path) && kind(path) === "missing";
    if (gone && (a.op === "read" || a.op === "exec" || a.op === "list")) {
      // Not there before or after: the lookup fails before Landlock looks
      // (ENOENT), so no rule can matter. (A path removed by the run was
      // seen being removed, and its directory gets the rights below.)
      const removed = files.some((b) => b.op === "remove" && b.path === path);
      if (!removed) {
        missing++;
        continue;
      }
    }
    const stable = stableTarget(path);
    const { target } = stable;
    const dir = stable.dir || a.op === "list";
    const isDir = kind(path) === "directory" || createdDirs.has(path);
    const rights: FsRight[] = observedRights(a) ??
      (a.op === "read"
        ? [isDir ? "read_dir" : "read_file"]
        : a.op === "list"
        ? ["read_dir"]
        : a.op === "write"
        ? ["write_file", "truncate"]
        : ["execute"]);
    // A file rule takes only the rights that apply to files.
    needs.push({
      path,
      verb,
      target,
      rights: dir ? rights : rights.filter((r) => FILE_RIGHTS.includes(r)),
    });
  }

  // With a base, only what it does not already allow.
  const base = ctx.base?.plan;
  const beyond = base
    ? needs.map((n) => ({
      ...n,
      rights: n.rights.filter((r) => baseRefuses(base, n.target, r)),
    })).filter((n) => n.rights.length)
    : needs;

  const groups = groupNeeds(beyond, ctx, kind);
  const fs = finishRules(groups, ctx, base);
  const net = netRules(log.accesses, base);
  const notes = socketNotes(log.accesses);
  if (missing) {
    notes.push(
      `${missing} path${
        missing > 1 ? "s" : ""
      } the command looked for did not exist; they need no rule`,
    );
  }
  if (unnamable) {
    notes.push(
      `${unnamable} path${unnamable > 1 ? "s" : ""} containing "\${" ${
        unnamable > 1 ? "were" : "was"
      } left out: a policy path would expand it as a variable`,
    );
  }
  if (base && !base.layers.some((l) => l.net.size)) {
    const tcp = log.accesses.filter((a) =>
      a.op === "bind" || a.op === "connect"
    ).length;
    if (tcp) notes.push("the base does not restrict TCP: no port rules needed");
  }
  const hosts = ctx.base ? hostEntries(ctx.proxy) : [];
  return {
    fs,
    net,
    hosts,
    notes,
    toml: render(log, ctx, fs, net, notes, hosts),
  };
}

function groupNeeds(
  needs: Need[],
  ctx: LearnContext,
  kind: (p: string) => PathKind,
): Group[] {
  const cwd = ctx.cwd.replace(/\/+$/, "") || "/";
  const useCwd = cwd !== "/" &&
    !SYSTEM_TREES.some((t) => isBeneath(t, cwd) || isBeneath(cwd, t)) &&
    !["/etc", "/dev", "/proc", "/sys"].some((t) => isBeneath(cwd, t));
  const home = ctx.home?.replace(/\/+$/, "");
  const useHome = home !== undefined && home !== "" && home !== "/" &&
    !SYSTEM_TREES.some((t) => isBeneath(home, t));

  const groups = new Map<string, Group>();
  const add = (
    path: string,
    dir: boolean,
    widenWrites: boolean,
    n: Need,
    base: readonly FsRight[] = [],
  ) => {
    let g = groups.get(path);
    if (!g) {
      g = { path, dir, widenWrites, rights: new Set(base), seen: new Map() };
      groups.set(path, g);
    }
    n.rights.forEach((r) => g!.rights.add(r));
    if (!g.seen.has(n.verb)) g.seen.set(n.verb, new Set());
    g.seen.get(n.verb)!.add(n.path);
  };

  // Files of "other" directories, collected first: one by one, or as their
  // directory when there are many.
  const loose = new Map<string, Need[]>();
  const targetIsDir = (n: Need) => kind(n.target) === "directory";

  for (const n of needs) {
    const t = n.target;
    if (useCwd && isBeneath(t, cwd)) {
      add(cwd, true, true, n);
      continue;
    }
    const sys = SYSTEM_TREES.find((root) => isBeneath(t, root));
    const kern = KERNEL_TREES.find((root) => isBeneath(t, root));
    if (sys || kern) {
      const rights = sys ? RX : RO;
      const d = depth(t);
      if (d > 3) add(prefix(t, 3), true, false, n, rights);
      else if (targetIsDir(n)) add(t, true, false, n, rights);
      else if (d >= 3) add(parentOf(t), true, false, n, rights);
      else add(t, false, false, n);
      continue;
    }
    if (isBeneath(t, "/proc")) {
      // /proc/<pid> differs on every run: the whole of /proc, as seen.
      add("/proc", true, false, n);
      continue;
    }
    if (useHome && isBeneath(t, home!) && t !== home) {
      // ~/.cache, ~/.config and ~/.local hold many programs' directories
      // (and Deno's cache, which landlockd refuses to let a command
      // write): the program's directory below them is the top.
      const first = prefix(t, depth(home!) + 1);
      const extra = first === `${home}/.local` ? 2 : SHARED_HOME_DIRS.some(
          (d) => first === `${home}/${d}`,
        )
        ? 1
        : 0;
      const top = prefix(t, Math.min(depth(t), depth(home!) + 1 + extra));
      if (top === t && !targetIsDir(n)) add(t, false, false, n);
      else add(top, true, true, n);
      continue;
    }
    if (targetIsDir(n)) {
      add(t, true, true, n);
      continue;
    }
    const dir = parentOf(t);
    loose.set(dir, [...loose.get(dir) ?? [], n]);
  }
  for (const [dir, list] of loose) {
    const distinct = new Set(list.map((n) => n.target));
    // /etc and /dev themselves stay one by one; their subdirectories and
    // other directories are grouped when crowded.
    const crowded = distinct.size > GROUP_FILES && dir !== "/etc" &&
      dir !== "/dev" && dir !== "/";
    for (const n of list) {
      if (crowded) add(dir, true, false, n);
      else add(n.target, false, false, n);
    }
  }
  return [...groups.values()];
}

const COUNTED: Record<Verb, [string, string]> = {
  read: ["read", "read"],
  listed: ["listed", "listed"],
  written: ["written", "written"],
  executed: ["executed", "executed"],
  created: ["created", "created"],
  removed: ["removed", "removed"],
};

function evidence(g: Group): string {
  const parts: string[] = [];
  for (const verb of Object.keys(COUNTED) as Verb[]) {
    const seen = g.seen.get(verb);
    if (!seen) continue;
    if (!g.dir) {
      parts.push(verb);
      continue;
    }
    const n = seen.size;
    const noun = verb === "listed" ? "director" : "file";
    const plural = verb === "listed"
      ? (n > 1 ? "ies" : "y")
      : (n > 1 ? "s" : "");
    parts.push(`${n} ${noun}${plural} ${verb}`);
  }
  return g.dir
    ? `${parts.join(", ")} ${g.path === "/" ? "in" : "under"} ${g.path}`
    : `${parts.join(", ")}: ${g.path}`;
}

function finishRules(
  groups: Group[],
  ctx: LearnContext,
  base: ResolvedPlan | undefined,
): LearnedFsRule[] {
  const rules = groups.map((g) => {
    let rights = [...g.rights];
    if (g.widenWrites && rights.some((r) => CHANGES.includes(r))) {
      rights = [...rights, ...RW];
    }
    if (!g.dir) rights = rights.filter((r) => FILE_RIGHTS.includes(r));
    if (base) rights = rights.filter((r) => baseRefuses(base, g.path, r));
    return {
      path: g.path,
      written: written(g.path, ctx),
      rights: inBitOrder(FS_RIGHTS, rights),
      evidence: evidence(g),
    };
  }).filter((r) => r.rights.length);
  // Ancestors first; a rule loses what an ancestor rule already grants.
  rules.sort((a, b) => depth(a.path) - depth(b.path) || cmp(a.path, b.path));
  const kept: LearnedFsRule[] = [];
  for (const r of rules) {
    const above = kept.filter((k) => isBeneath(r.path, k.path));
    const rights = r.rights.filter((x) =>
      !above.some((k) => k.rights.includes(x))
    );
    if (!rights.length) {
      // Say where its evidence went.
      const at = above[above.length - 1];
      at.evidence += `; ${r.evidence}`;
      continue;
    }
    kept.push({ ...r, rights });
  }
  return kept.sort((a, b) => cmp(a.path, b.path));
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** The path as written: `${PWD}` or `${HOME}` where it lies beneath them. */
function written(path: string, ctx: LearnContext): string {
  const sub = (root: string | undefined, name: string): string | undefined => {
    const r = root?.replace(/\/+$/, "");
    if (!r || r === "/" || !isBeneath(path, r)) return undefined;
    return `\${${name}}${path.slice(r.length)}`;
  };
  return sub(ctx.cwd, "PWD") ?? sub(ctx.home, "HOME") ?? path;
}

/**
 * The hosts the proxy refused that an `allow_hosts` entry admits (403
 * with a suggestion), one entry each, in the order first refused.
 */
function hostEntries(proxy: LearnContext["proxy"]): LearnedHost[] {
  const by = new Map<string, { count: number; reason: string }>();
  for (const r of proxy?.refused ?? []) {
    if (r.status !== 403 || !r.suggest) continue;
    const e = by.get(r.suggest) ?? { count: 0, reason: r.reason ?? "" };
    e.count += r.count;
    by.set(r.suggest, e);
  }
  return [...by].map(([entry, e]) => ({
    entry,
    evidence: `refused by the egress proxy ${e.count} time${
      e.count > 1 ? "s" : ""
    }: ${e.reason}`,
  }));
}

function netRules(accesses: Access[], base: ResolvedPlan | undefined) {
  const ports = new Map<number, Map<NetRight, number>>();
  for (const a of accesses) {
    if ((a.op !== "bind" && a.op !== "connect") || a.port === undefined) {
      continue;
    }
    const right: NetRight = a.op === "bind" ? "bind_tcp" : "connect_tcp";
    if (base && !refusal(base, { port: a.port, rights: [right] })) continue;
    const m = ports.get(a.port) ?? new Map<NetRight, number>();
    m.set(right, (m.get(right) ?? 0) + a.count);
    ports.set(a.port, m);
  }
  return [...ports].sort(([a], [b]) => a - b).map(([port, m]) => ({
    port,
    rights: inBitOrder(NET_RIGHTS, m.keys()),
    evidence: [...m].map(([r, n]) =>
      `${r === "bind_tcp" ? "bound" : "connected to"} ${n} time${
        n > 1 ? "s" : ""
      }`
    ).join(", "),
  }));
}

/**
 * `udp` and `raw` for the learned `[net]`: closed unless the run used
 * them (seccomp enforces both; Landlock covers neither).
 */
function datagramKeys(accesses: Access[]): string[] {
  const used = new Set(
    accesses.filter((a) => a.op === "socket").map((a) => a.socket ?? ""),
  );
  const udp = used.has("inet/dgram") || used.has("inet6/dgram");
  const raw = [...used].some((s) =>
    s === "inet/raw" || s === "inet6/raw" || s.startsWith("packet/") ||
    s === "inet/type-10" || s === "inet6/type-10"
  );
  return [
    udp
      ? `udp = "allow" # the run used UDP (see the notes at the end)`
      : `udp = "deny" # the run used no UDP`,
    raw
      ? `raw = true # the run used raw or packet sockets`
      : `raw = false # the run used no raw or packet sockets`,
  ];
}

/** Comments for sockets Landlock does not restrict. */
function socketNotes(accesses: Access[]): string[] {
  const by = new Map<string, { count: number; ports: Set<number> }>();
  for (const a of accesses) {
    if (a.op !== "socket") continue;
    const key = a.socket ?? "unknown";
    const e = by.get(key) ?? { count: 0, ports: new Set<number>() };
    e.count += a.count;
    if (a.port !== undefined) e.ports.add(a.port);
    by.set(key, e);
  }
  return [...by].sort(([a], [b]) => cmp(a, b)).map(([socket, e]) =>
    `${socket} socket used ${e.count} time${e.count > 1 ? "s" : ""}${
      e.ports.size
        ? ` (port ${[...e.ports].sort((a, b) => a - b).join(", ")})`
        : ""
    }: Landlock does not restrict it, so no rule is written`
  );
}

/** Right lists as groups where they are exactly one (`rw` + `execute`). */
export function compactRights(rights: readonly FsRight[]): string[] {
  for (const name of ["rw", "rx", "ro"] as const) {
    const g = FS_GROUPS[name];
    if (g.every((r) => rights.includes(r))) {
      return [name, ...rights.filter((r) => !g.includes(r))];
    }
  }
  return [...rights];
}

/**
 * A TOML basic string. JSON's escapes are TOML's; DEL, which JSON leaves
 * as it is and TOML refuses, is escaped too. Names come from the command
 * (it chooses what it creates): none can end the string.
 */
const str = (s: string) => JSON.stringify(s).replace(/\x7f/g, "\\u007f");

/**
 * Text for a `#` comment: control characters (a newline would end the
 * comment and make the rest of a file name TOML) written as `\xNN`.
 */
export function commentText(s: string): string {
  let out = "";
  for (const c of s) {
    const code = c.charCodeAt(0);
    out += code < 0x20 || code === 0x7f
      ? `\\x${code.toString(16).padStart(2, "0")}`
      : c;
  }
  return out;
}

/** Items separated by ", " in lines of at most `width`, each indented. */
function wrap(items: string[], indent: string, width: number): string[] {
  const lines: string[] = [];
  let line = "";
  for (const item of items) {
    const next = line ? `${line} ${item},` : `${indent}${item},`;
    if (line && next.length > width) {
      lines.push(line);
      line = `${indent}${item},`;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}
const list = (items: readonly string[]) => `[${items.map(str).join(", ")}]`;

function render(
  log: AccessLog,
  ctx: LearnContext,
  fs: LearnedFsRule[],
  net: LearnedNetRule[],
  notes: string[],
  hosts: LearnedHost[] = [],
): string {
  const out: string[] = [];
  const argv = ctx.argv?.map((a) => /^[\w@%+=:,./-]+$/.test(a) ? a : str(a))
    .join(" ");
  out.push(
    `# Learned by landlockd learn${argv ? ` from: ${commentText(argv)}` : ""}`,
  );
  if (ctx.ended) {
    out.push(`# The command ended with ${commentText(ctx.ended)}.`);
  }
  if (log.cutShort) {
    out.push(
      "# CUT SHORT: the run was killed before the command finished, so this",
      "# policy holds only what the command did until then.",
    );
  }
  if (log.dropped) {
    out.push(
      `# INCOMPLETE: the record was full; ${log.dropped} more distinct access${
        log.dropped > 1 ? "es were" : " was"
      } not kept.`,
    );
  }
  out.push(
    ctx.base
      ? `# It extends ${
        commentText(str(ctx.base.ref))
      }: every restriction of the base stays; the rules below add only what the run needed beyond it.`
      : "# Review it before use: it allows what this run did, nothing else.",
  );
  out.push("", "version = 1");
  if (ctx.base) {
    out.push(`extends = ${str(ctx.base.ref)}`);
    for (const r of fs) {
      out.push("", `# ${commentText(r.evidence)}`, "[[fs_rule]]");
      out.push(`path = ${str(r.written)}`);
      out.push(`allowed_access = ${list(compactRights(r.rights))}`);
    }
    for (const r of net) {
      out.push("", `# ${commentText(r.evidence)}`, "[[net_rule]]");
      out.push(`port = ${r.port}`, `allowed_access = ${list(r.rights)}`);
    }
    if (hosts.length) {
      // Added to the base's allow_hosts (extends merges the lists).
      out.push("", "[net]", "allow_hosts = [");
      for (const h of hosts) {
        out.push(`  # ${commentText(h.evidence)}`, `  ${str(h.entry)},`);
      }
      out.push("]");
    }
  } else {
    out.push(
      "",
      "[[fs_layer]]",
      `handled_access_fs = [`,
      ...wrap(LEARNED_HANDLED.map(str), "  ", 80),
      "]",
    );
    for (const r of fs) {
      out.push("", `  # ${commentText(r.evidence)}`, "  [[fs_layer.rule]]");
      out.push(`  path = ${str(r.written)}`);
      out.push(`  allowed_access = ${list(compactRights(r.rights))}`);
    }
    out.push(
      "",
      "# TCP: only the ports the command used.",
      "[net]",
      `handled_access_net = ${list(["bind_tcp", "connect_tcp"])}`,
      ...datagramKeys(log.accesses),
    );
    for (const r of net) {
      out.push("", `  # ${commentText(r.evidence)}`, "  [[net.rule]]");
      out.push(`  port = ${r.port}`, `  allowed_access = ${list(r.rights)}`);
    }
  }
  if (notes.length) {
    out.push("", ...notes.map((n) => `# ${commentText(n)}`));
  }
  return out.join("\n") + "\n";
}
