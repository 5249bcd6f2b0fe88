/**
 * The observer: watches the calls a file or TCP port access goes through
 * (broker/observe_requests.ts) on the run's seccomp listener and records
 * them in a bounded log (observe/record.ts), for `run --explain` and
 * `landlockd learn`.
 *
 * It never decides anything. Every call it sees is answered CONTINUE (or,
 * for a call the broker serves, exactly as the broker answers it), so the
 * kernel still decides and observing can never grant access. Reading the
 * task's memory is racy (a thread may rewrite a path after it was read):
 * that can only make a report wrong, never an access possible. Reads are
 * bounded (PATH_MAX, 28 bytes of sockaddr) and watched by the remote-read
 * watchdog; anything unreadable is counted and continued.
 *
 * @module
 */

import type { Access, ObserveOptions } from "../observe/access.ts";
import type { AccessLog } from "../observe/access.ts";
import { AccessRecorder } from "../observe/record.ts";
import type { Arch } from "../seccomp/filter.ts";
import { AT_FDCWD } from "../syscalls/constants.ts";
import { openat2Raw, readRaw } from "../syscalls/fs.ts";
import { fetchFd } from "../syscalls/pidfd.ts";
import {
  type Listener,
  type Notification,
  readRemote,
  readRemoteOpenHow,
  readRemotePath,
} from "../syscalls/seccomp_notify.ts";
import { close } from "../syscalls/sys.ts";
import { socketKind } from "../syscalls/unix_socket.ts";
import type { Broker } from "./broker.ts";
import {
  AF_INET,
  AF_INET6,
  AF_UNIX,
  decodeObserved,
  type Intent,
  type Named,
  observedByNumber,
} from "./observe_requests.ts";
import { normalize } from "./paths.ts";

/** One observation, before it is counted. */
export type Observed = Omit<Access, "count">;

/** What the observer records, and (mode "denials") what it keeps. */
export interface ObserverOptions extends ObserveOptions {
  /**
   * Mode "denials": whether the run's plan refuses this access
   * (observe/explain.ts). Without it, mode "denials" keeps nothing.
   */
  refuses?: (a: Observed) => boolean;
  /**
   * Accesses made before the observer could see them: the exec that
   * started the command (its path, resolved), which the filter lets
   * through unnotified. Recorded first in mode "all".
   */
  before?: Observed[];
}

const O_ACCMODE = 3;
const O_CREAT = 0o100;
const O_EXCL = 0o200;
const O_TRUNC = 0o1000;
const O_NOFOLLOW = Deno.build.arch === "aarch64" ? 0o100000 : 0o400000;
const O_PATH = 0o10000000;
const O_TMPFILE = 0o20000000;
const AT_SYMLINK_NOFOLLOW = 0x100;
const AT_SYMLINK_FOLLOW = 0x400;
const AT_EMPTY_PATH = 0x1000;
const RENAME_EXCHANGE = 2;
const S_IFMT = 0o170000;
const SOCK_STREAM = 1;
const IPPROTO_TCP = 6;

/** The `make_*` / `remove_*` right for a file of `type` (S_IF* or lstat). */
type Kind = "reg" | "dir" | "sym" | "fifo" | "sock" | "char" | "block";

function kindOfMode(mode: number): Kind {
  switch (mode & S_IFMT) {
    case 0o020000:
      return "char";
    case 0o060000:
      return "block";
    case 0o010000:
      return "fifo";
    case 0o140000:
      return "sock";
    default:
      return "reg";
  }
}

const makeRight = (k: Kind) => `make_${k}`;
const removeRight = (k: Kind) => k === "dir" ? "remove_dir" : "remove_file";

const FAMILIES: Record<number, string> = {
  [AF_UNIX]: "unix",
  [AF_INET]: "inet",
  [AF_INET6]: "inet6",
  16: "netlink",
  17: "packet",
};
const TYPES: Record<number, string> = {
  1: "stream",
  2: "dgram",
  3: "raw",
  5: "seqpacket",
};

/** `inet/dgram`, `netlink/raw`, `family-40/stream`. */
export function socketName(family: number, type: number): string {
  return `${FAMILIES[family] ?? `family-${family}`}/${
    TYPES[type] ?? `type-${type}`
  }`;
}

const O_RDONLY = 0;
const O_NONBLOCK = 0o4000;
const O_NOCTTY = 0o400;
const O_CLOEXEC = 0o2000000;
const PT_INTERP = 3;
/** One buffer for the heads of executables (one call at a time). */
const HEAD = new Uint8Array(4096);

/**
 * The file the kernel loads to run a program that starts with `head`: a
 * `#!` line's interpreter, or a 64-bit little-endian ELF file's PT_INTERP
 * (when it lies within `head`).
 */
export function loaderOf(head: Uint8Array): string | undefined {
  if (head[0] === 0x23 && head[1] === 0x21) { // "#!"
    const end = head.indexOf(0x0a);
    const line = new TextDecoder().decode(
      head.subarray(2, end < 0 ? head.length : end),
    );
    const name = line.trim().split(/[ \t]/)[0];
    return name?.startsWith("/") ? name : undefined;
  }
  const elf = head[0] === 0x7f && head[1] === 0x45 && head[2] === 0x4c &&
    head[3] === 0x46;
  if (!elf || head.length < 64 || head[4] !== 2 || head[5] !== 1) {
    return undefined;
  }
  const v = new DataView(head.buffer, head.byteOffset, head.length);
  const phoff = Number(v.getBigUint64(32, true));
  const phentsize = v.getUint16(54, true);
  const phnum = v.getUint16(56, true);
  for (let i = 0; i < phnum; i++) {
    const at = phoff + i * phentsize;
    if (at + 56 > head.length) return undefined;
    if (v.getUint32(at, true) !== PT_INTERP) continue;
    const off = Number(v.getBigUint64(at + 8, true));
    const size = Number(v.getBigUint64(at + 32, true));
    if (size < 2 || off + size > head.length) return undefined;
    const name = new TextDecoder().decode(head.subarray(off, off + size - 1));
    return name.startsWith("/") ? name : undefined;
  }
  return undefined;
}

/** Serves a listener (with or without a broker), recording accesses. */
export class Observer {
  readonly #names: Map<number, string>;
  readonly #record: AccessRecorder;
  readonly #mode: ObserverOptions["mode"];
  readonly #refuses?: (a: Observed) => boolean;

  constructor(
    readonly listener: Listener,
    arch: Arch,
    options: ObserverOptions,
    /** The run's broker, which answers the calls it serves; else none. */
    readonly broker?: Broker,
  ) {
    this.#names = observedByNumber(arch);
    this.#record = new AccessRecorder(options.limit);
    this.#mode = options.mode;
    this.#refuses = options.refuses;
    // --explain: the UDP broker's refusals (datagrams under udp = "dns",
    // TCP connects under allow_hosts) are denials too.
    if (this.#mode === "denials") broker?.recordNetRefusals();
    if (this.#mode === "all") {
      for (const a of options.before ?? []) {
        this.#record.add(a);
        if (a.op !== "exec" || !a.path) continue;
        for (const path of new Resolver(0).interpreters(a.path)) {
          this.#record.add({ ...a, path });
        }
      }
    }
  }

  /** The mount helper's socket (the broker's), or -1. */
  get helperFd(): number {
    return this.broker?.helperFd ?? -1;
  }

  /** What was recorded so far. */
  log(cutShort = false): AccessLog {
    const log = this.#record.log(cutShort);
    const udp = this.broker?.udpRefusals() ?? [];
    const tcp = this.broker?.tcpRefusals() ?? [];
    return {
      ...log,
      ...(udp.length ? { udp } : {}),
      ...(tcp.length ? { tcp } : {}),
    };
  }

  /** Serves until the child exits; kills it and throws if serving fails. */
  serve(): void {
    try {
      for (let n = this.listener.next(); n; n = this.listener.next()) {
        this.handle(n);
      }
    } catch (e) {
      this.fail(e);
    } finally {
      this.close();
    }
  }

  /** Kills the sandbox after a failure (the broker's, when there is one). */
  fail(e: unknown): never {
    if (this.broker) return this.broker.fail(e);
    throw e;
  }

  /** Closes what the broker holds (not the listener). */
  close(): void {
    this.broker?.close();
  }

  /**
   * Observes one notification, then lets the broker answer it, or answers
   * CONTINUE. Observing never throws: whatever goes wrong reading or
   * resolving the task's arguments is counted as unreadable.
   */
  handle(n: Notification): void {
    let seen: Observed[] = [];
    const name = this.#names.get(n.nr);
    if (name) {
      try {
        seen = this.#observe(n, name);
      } catch {
        this.#record.unreadable();
        seen = [];
      }
    }
    let continued = true;
    if (this.broker) continued = this.broker.handle(n);
    else this.listener.continue(n.id);
    if (this.#mode === "all") {
      seen.forEach((a) => this.#record.add(a));
    } else if (continued && this.#refuses) {
      // A call the broker answered itself was not Landlock's to refuse.
      for (const a of seen) if (this.#refuses(a)) this.#record.add(a);
    }
  }

  #observe(n: Notification, name: string): Observed[] {
    const pid = n.pid;
    const watched = <T>(read: () => T) => this.listener.watched(n, read);
    const intent = decodeObserved(name, n.args, {
      path: (addr) => watched(() => readRemotePath(pid, addr)),
      openHow: (addr, size) =>
        watched(() => readRemoteOpenHow(pid, addr, size)),
      bytes: (addr, len) =>
        watched(() => {
          const r = readRemote(pid, addr, len);
          return typeof r === "number" ? r : r.slice();
        }),
    });
    if (!intent) {
      this.#record.unreadable();
      return [];
    }
    return new Resolver(pid).accesses(intent);
  }
}

/** Resolves one task's paths the way its calls would. */
class Resolver {
  constructor(readonly pid: number) {}

  /** The directory a relative path starts from, as the task sees it. */
  base(dirfd: number): string | undefined {
    try {
      const link = Deno.readLinkSync(
        dirfd === AT_FDCWD
          ? `/proc/${this.pid}/cwd`
          : `/proc/${this.pid}/fd/${dirfd}`,
      );
      return link.startsWith("/") ? link : undefined;
    } catch {
      return undefined;
    }
  }

  /**
   * The path, absolute and lexically normalised; `/proc/self` and
   * `/proc/thread-self` are the task's, not landlockd's.
   */
  absolute(at: Named, emptyPath = false): string | undefined {
    let abs: string | undefined;
    if (at.path === "" && emptyPath) abs = this.base(at.dirfd);
    else if (at.path.startsWith("/")) abs = normalize(at.path);
    else {
      const base = this.base(at.dirfd);
      abs = base === undefined ? undefined : normalize(at.path, base);
    }
    if (abs === undefined) return undefined;
    if (abs === "/proc/self" || abs.startsWith("/proc/self/")) {
      abs = `/proc/${this.pid}${abs.slice("/proc/self".length)}`;
    } else if (
      abs === "/proc/thread-self" || abs.startsWith("/proc/thread-self/")
    ) {
      abs = `/proc/${this.pid}/task/${this.pid}${
        abs.slice("/proc/thread-self".length)
      }`;
    }
    return abs;
  }

  /**
   * Where the path leads: every symlink followed when `follow`, else all
   * but the last component (the entry itself is created, removed or
   * opened without following).
   */
  real(abs: string, follow: boolean): string {
    if (follow) {
      try {
        return Deno.realPathSync(abs);
      } catch {
        // missing: resolve the parent, keep the name
      }
    }
    if (abs === "/") return abs;
    const slash = abs.lastIndexOf("/");
    const parent = abs.slice(0, slash) || "/";
    const name = abs.slice(slash + 1);
    try {
      const p = Deno.realPathSync(parent);
      return p === "/" ? `/${name}` : `${p}/${name}`;
    } catch {
      return abs;
    }
  }

  /**
   * What the kernel loads to run `path`: a `#!` line's interpreter (and
   * its own, up to the kernel's 4 levels) or an ELF program's PT_INTERP.
   * Reads at most 4 KiB of each file, never blocking (O_NONBLOCK; only
   * regular files).
   */
  interpreters(path: string, depth = 0): string[] {
    if (depth >= 4 || this.kind(path, true) !== "reg") return [];
    const fd = openat2Raw(
      AT_FDCWD,
      path,
      O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC,
      0,
      0,
    );
    if (fd < 0) return [];
    let head: Uint8Array;
    try {
      const n = readRaw(fd, HEAD);
      head = HEAD.subarray(0, Math.max(0, n));
    } finally {
      close(fd);
    }
    const named = loaderOf(head);
    if (named === undefined) return [];
    let real: string;
    try {
      real = Deno.realPathSync(named);
    } catch {
      return [];
    }
    return [real, ...this.interpreters(real, depth + 1)];
  }

  kind(path: string, follow: boolean): Kind | undefined {
    try {
      const s = follow ? Deno.statSync(path) : Deno.lstatSync(path);
      if (s.isDirectory) return "dir";
      if (s.isSymlink) return "sym";
      if (s.isFile) return "reg";
      if (s.isFifo) return "fifo";
      if (s.isSocket) return "sock";
      if (s.isCharDevice) return "char";
      if (s.isBlockDevice) return "block";
      return "reg";
    } catch {
      return undefined;
    }
  }

  accesses(i: Intent): Observed[] {
    const syscall = i.syscall;
    switch (i.kind) {
      case "open":
        return this.#open(i.at, i.flags, syscall);
      case "exec": {
        const abs = this.absolute(i.at, (i.flags & AT_EMPTY_PATH) !== 0);
        if (abs === undefined) return [];
        const path = this.real(abs, (i.flags & AT_SYMLINK_NOFOLLOW) === 0);
        // The kernel opens a #! script's interpreter and an ELF program's
        // loader itself, with the same rights: they are execs too.
        return [path, ...this.interpreters(path)].map((p) => ({
          op: "exec" as const,
          path: p,
          syscall,
          rights: ["execute", "read_file"],
        }));
      }
      case "mkdir":
      case "mknod":
      case "symlink": {
        const abs = this.absolute(i.at);
        if (abs === undefined) return [];
        const kind: Kind = i.kind === "mkdir"
          ? "dir"
          : i.kind === "symlink"
          ? "sym"
          : kindOfMode(i.mode);
        const path = this.real(abs, false);
        return [{ op: "create", path, syscall, rights: [makeRight(kind)] }];
      }
      case "unlink": {
        const abs = this.absolute(i.at);
        if (abs === undefined) return [];
        const path = this.real(abs, false);
        return [{
          op: "remove",
          path,
          syscall,
          rights: [i.rmdir ? "remove_dir" : "remove_file"],
        }];
      }
      case "truncate": {
        const abs = this.absolute(i.at);
        if (abs === undefined) return [];
        const path = this.real(abs, true);
        return [{ op: "write", path, syscall, rights: ["truncate"] }];
      }
      case "rename":
      case "link":
        return this.#move(i);
      case "bind":
      case "connect":
        return this.#port(i);
      case "socket": {
        const tcp = (i.family === AF_INET || i.family === AF_INET6) &&
          i.type === SOCK_STREAM &&
          (i.protocol === 0 || i.protocol === IPPROTO_TCP);
        // TCP shows up at its bind or connect, with its port.
        if (tcp) return [];
        return [{
          op: "socket",
          socket: socketName(i.family, i.type),
          syscall,
        }];
      }
    }
  }

  #open(at: Named, flags: number, syscall: string): Observed[] {
    // O_PATH opens check nothing; an O_TMPFILE has no name (see docs).
    if (flags & O_PATH || (flags & O_TMPFILE) === O_TMPFILE) return [];
    const abs = this.absolute(at);
    if (abs === undefined) return [];
    const follow = (flags & O_NOFOLLOW) === 0 &&
      !((flags & O_CREAT) && (flags & O_EXCL));
    const path = this.real(abs, follow);
    const kind = this.kind(path, follow);
    const acc = flags & O_ACCMODE;
    const reads = acc === 0 || acc === 2;
    const writes = acc === 1 || acc === 2;
    if (kind === undefined) {
      if (!(flags & O_CREAT)) return []; // ENOENT: nothing to allow
      return [{
        op: "create",
        path,
        syscall,
        rights: [
          "make_reg",
          ...(reads ? ["read_file"] : []),
          ...(writes ? ["write_file"] : []),
        ],
      }];
    }
    if (kind === "dir") {
      return reads ? [{ op: "list", path, syscall, rights: ["read_dir"] }] : [];
    }
    const out: Observed[] = [];
    if (reads) out.push({ op: "read", path, syscall, rights: ["read_file"] });
    const trunc = (flags & O_TRUNC) !== 0;
    if (writes || trunc) {
      out.push({
        op: "write",
        path,
        syscall,
        rights: [
          ...(writes ? ["write_file"] : []),
          ...(trunc ? ["truncate"] : []),
        ],
      });
    }
    return out;
  }

  #move(i: Extract<Intent, { kind: "rename" | "link" }>): Observed[] {
    const fromAbs = this.absolute(
      i.from,
      i.kind === "link" &&
        (i.flags & AT_EMPTY_PATH) !== 0,
    );
    const toAbs = this.absolute(i.to);
    if (fromAbs === undefined || toAbs === undefined) return [];
    const followFrom = i.kind === "link" && (i.flags & AT_SYMLINK_FOLLOW) !== 0;
    const from = this.real(fromAbs, followFrom);
    const to = this.real(toAbs, false);
    const kind = this.kind(from, followFrom);
    if (kind === undefined) return []; // ENOENT
    const parent = (p: string) => p.slice(0, p.lastIndexOf("/")) || "/";
    const refer = parent(from) !== parent(to) ? ["refer"] : [];
    const syscall = i.syscall;
    if (i.kind === "link") {
      return [{
        op: "create",
        path: to,
        syscall,
        rights: [makeRight(kind), ...refer],
      }];
    }
    const over = this.kind(to, false);
    const exchange = (i.flags & RENAME_EXCHANGE) !== 0 && over !== undefined;
    return [
      {
        op: "remove",
        path: from,
        syscall,
        rights: [
          removeRight(kind),
          ...(exchange ? [makeRight(over!)] : []),
          ...refer,
        ],
      },
      {
        op: "create",
        path: to,
        syscall,
        rights: [
          makeRight(kind),
          ...(over ? [removeRight(over)] : []),
          ...refer,
        ],
      },
    ];
  }

  #port(i: Extract<Intent, { kind: "bind" | "connect" }>): Observed[] {
    if (i.family !== AF_INET && i.family !== AF_INET6) return [];
    const fd = fetchFd(this.pid, i.fd);
    let sock: ReturnType<typeof socketKind>;
    if (fd !== undefined) {
      try {
        sock = socketKind(fd);
      } finally {
        close(fd);
      }
    }
    if (!sock || i.port === undefined) return [];
    const tcp = sock.type === SOCK_STREAM && sock.protocol === IPPROTO_TCP;
    if (!tcp) {
      return [{
        op: "socket",
        socket: socketName(sock.domain, sock.type),
        port: i.port,
        syscall: i.syscall,
      }];
    }
    return [{
      op: i.kind,
      port: i.port,
      syscall: i.syscall,
      rights: [i.kind === "bind" ? "bind_tcp" : "connect_tcp"],
    }];
  }
}
