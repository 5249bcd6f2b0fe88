/**
 * The broker: answers seccomp notifications for the sandboxed process tree.
 *
 * It runs synchronously on one thread (../shared/PLATFORM.md measured a
 * nonblocking FFI call per notification at ~200 µs; synchronous calls cost
 * microseconds). Requests that name no declared path are continued at once,
 * so Landlock decides them. Declared requests are checked to still be live
 * (`SECCOMP_IOCTL_NOTIF_ID_VALID`) after their arguments were read, then
 * performed by the broker itself relative to an fd of the declared root with
 * RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS, and the result (or fd, through
 * `SECCOMP_IOCTL_NOTIF_ADDFD`) is handed back.
 *
 * @module
 */

import {
  AT_REMOVEDIR,
  O_CREAT,
  O_DIRECTORY,
  O_NONBLOCK,
  O_TMPFILE,
  RESOLVE_BENEATH,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
  RESOLVE_NO_SYMLINKS,
} from "../syscalls/constants.ts";
import type { AuditSink } from "../audit/audit.ts";
import { eventfdRaw } from "../syscalls/epoll.ts";
import { clearNonBlockingRaw } from "../syscalls/fd.ts";
import {
  type CName,
  cname,
  linkatRaw,
  mkdiratRaw,
  openat2Raw,
  renameat2Raw,
  symlinkatRaw,
  unlinkatRaw,
} from "../syscalls/fs.ts";
import { askMountHelper } from "../syscalls/mount_helper.ts";
import { fetchFd, sameFile, SIGKILL, signalPidfd } from "../syscalls/pidfd.ts";
import {
  decideFsconfig,
  decideFsmount,
  decideFsopen,
  decideMount,
  decideMoveMount,
  decideOpenTree,
  decideSetattr,
  type Issued,
  type MountAction,
} from "./mounts.ts";
import type { Arch } from "../seccomp/filter.ts";
import { errno as E, errnoName } from "../syscalls/errno.ts";
import {
  type Listener,
  type Notification,
  readRemoteMountAttr,
  readRemoteOpenHow,
  readRemotePath,
} from "../syscalls/seccomp_notify.ts";
import { close, O_CLOEXEC, O_PATH } from "../syscalls/sys.ts";
import { type Action, type Beneath, decide, EACCES, writes } from "./decide.ts";
import { BrokerError } from "./errors.ts";
import { normalize, splitParent } from "./paths.ts";
import type { BrokerPlan } from "./plan.ts";
import {
  type TcpRefusal,
  UDP_CALLS,
  UdpBroker,
  type UdpRefusal,
} from "./udp.ts";
import { syscallTable } from "../seccomp/table.ts";
import {
  AT_FDCWD,
  decode,
  isMountRequest,
  type Memory,
  type MountRequest,
  namesByNumber,
  type Request,
} from "./requests.ts";

const EXDEV = E.EXDEV;

/** The audit event for each mount-family call. */
const MOUNT_EVENTS: Record<MountRequest["op"], string> = {
  mount: "broker.mount",
  umount: "broker.umount",
  open_tree: "broker.open_tree",
  move_mount: "broker.move_mount",
  fsopen: "broker.fsopen",
  fsconfig: "broker.fsconfig",
  fsmount: "broker.fsmount",
  mount_setattr: "broker.mount_setattr",
};

export { BrokerError };

/** What the broker did, for audit events. */
interface Outcome {
  fd?: number;
  errno: number;
}

export class Broker {
  readonly #names: Map<number, string>;
  /** `[net] udp = "dns"`: answers connect and the sends (broker/udp.ts). */
  readonly #udp?: UdpBroker;
  readonly #roots = new Map<string, number>();

  /**
   * What the broker handed to the sandbox: the token it holds (our copy, to
   * recognise it with kcmp), the real fd behind it, and what it stands for.
   */
  readonly #issued: { token: number; real: number; what: Issued }[] = [];

  constructor(
    readonly plan: BrokerPlan,
    readonly listener: Listener,
    readonly audit: AuditSink,
    arch: Arch,
    /** The mount helper's socket, or -1 without brokered mounts. */
    readonly helperFd = -1,
    /**
     * An O_PATH fd of each scratch and export root, opened before the
     * command started (broker/roots.ts); the broker owns them from now on.
     */
    roots: readonly [string, number][] = [],
  ) {
    this.#names = namesByNumber(arch);
    if (plan.udp || plan.tcp) {
      this.#udp = new UdpBroker(plan.udp, listener, plan.tcp);
      const table = syscallTable(arch);
      for (const name of UDP_CALLS) this.#names.set(table[name], name);
    }
    for (const [root, fd] of roots) this.#roots.set(root, fd);
    for (const root of [...plan.grants.scratch, ...plan.grants.export]) {
      if (!this.#roots.has(root)) {
        // The caller closes `roots` (openBroker does).
        throw new Error(`no fd for the root "${root}", opened before start`);
      }
    }
  }

  /** Serves until the child exits; kills it and throws if the broker fails. */
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

  /** Kills the sandbox after a failure of the broker, and says why. */
  fail(e: unknown): never {
    signalPidfd(this.listener.pidfd, SIGKILL);
    throw new BrokerError(
      `broker failed, sandbox killed: ${(e as Error).message}`,
    );
  }

  /** Closes what the broker holds (not the listener). */
  close(): void {
    for (const fd of this.#roots.values()) close(fd);
    this.#roots.clear();
    for (const i of this.#issued.splice(0)) {
      close(i.token);
      if (i.real !== i.token) close(i.real);
    }
  }

  /**
   * `[net] udp = "dns"` and `allow_hosts`: keep the UDP destinations and
   * TCP connects refused from now on (`run --explain`; broker/udp.ts).
   * Nothing without a UDP broker.
   */
  recordNetRefusals(): void {
    this.#udp?.recordRefusals();
  }

  /** The UDP destinations refused since `recordNetRefusals`. */
  udpRefusals(): UdpRefusal[] {
    return this.#udp?.refusals() ?? [];
  }

  /** The TCP connects refused since `recordNetRefusals` (`allow_hosts`). */
  tcpRefusals(): TcpRefusal[] {
    return this.#udp?.tcpRefusals() ?? [];
  }

  /**
   * Answers one notification; true when it answered CONTINUE (the kernel
   * decides the call), false when the broker performed or refused it.
   */
  handle(n: Notification): boolean {
    const name = this.#names.get(n.nr);
    if (!name) return this.#continue(n.id);
    if (this.#udp && UDP_CALLS.includes(name)) {
      return this.#udp.handle(n, name);
    }
    const req = decode(name, n.args, this.#memory(n));
    // Unreadable arguments: let the kernel fail the call itself.
    if (typeof req === "number") return this.#continue(n.id);
    if (isMountRequest(req)) {
      this.#mount(n, req);
      return false;
    }
    const resolved = this.#resolve(n.pid, req);
    if (!resolved) return this.#continue(n.id);
    const action = decide(resolved, this.plan.grants);
    if (action.act === "continue") return this.#continue(n.id);
    // What we read must still be the call's arguments when we act on it.
    if (!this.listener.stillValid(n.id)) return false;
    const outcome = this.#perform(action, req);
    if (outcome.fd !== undefined) {
      const cloexec = req.op === "open" && (req.flags & O_CLOEXEC) !== 0;
      const r = this.listener.sendFd(n.id, outcome.fd, cloexec);
      close(outcome.fd);
      if (r < 0 && r !== -2) { // ENOENT: the task is gone
        outcome.errno = -r;
        this.listener.fail(n.id, outcome.errno);
      }
    } else if (outcome.errno) {
      this.listener.fail(n.id, outcome.errno);
    } else {
      this.listener.succeed(n.id);
    }
    this.#audit(n.pid, req, action, outcome);
    return false;
  }

  #continue(id: bigint): true {
    this.listener.continue(id);
    return true;
  }

  /** Mount-family calls: decided by the rules, performed by the helper. */
  #mount(n: Notification, req: MountRequest): void {
    const grants = this.plan.mounts;
    const refuse: MountAction = { act: "deny", errno: grants?.errno ?? 1 };
    let action: MountAction = refuse;
    let issued: { token: number; real: number; what: Issued } | undefined;
    if (grants) {
      switch (req.op) {
        case "mount":
        case "umount":
          action = decideMount(req, grants);
          break;
        case "open_tree":
          action = decideOpenTree(req.path, req.flags, grants);
          break;
        case "fsopen":
          action = decideFsopen(req.path, req.flags, grants);
          break;
        case "move_mount":
          issued = this.#identify(n.pid, req.fromFd);
          action = decideMoveMount(
            req.fromPath,
            req.path,
            req.flags,
            issued?.what,
            grants,
          );
          break;
        case "fsconfig":
          issued = this.#identify(n.pid, req.fd);
          action = decideFsconfig(
            req.cmd,
            req.key,
            req.value,
            issued?.what,
            grants,
          );
          break;
        case "fsmount":
          issued = this.#identify(n.pid, req.fd);
          action = decideFsmount(req.flags, req.attrs, issued?.what, grants);
          break;
        case "mount_setattr":
          action = decideSetattr(req.path, req.flags, req.attr, grants);
          break;
      }
    }
    let errno = 0;
    if (action.act === "deny") {
      errno = action.errno;
      this.listener.fail(n.id, errno);
    } else {
      if (!this.listener.stillValid(n.id)) return;
      const { errno: e, fd } = this.#askHelper(action, issued?.real ?? -1);
      errno = e;
      if (!errno && issued && action.update) issued.what = action.update;
      if (errno) {
        this.listener.fail(n.id, errno);
      } else if (fd >= 0 && action.issue) {
        // A mount fd (open_tree, fsmount) is an O_PATH file, which
        // SECCOMP_IOCTL_NOTIF_ADDFD cannot install: the broker keeps it and
        // the sandbox gets an eventfd token standing for it. An fs context
        // (fsopen) is a normal file and is handed over itself.
        const token = action.op === "fsopen" ? fd : eventfdRaw(O_CLOEXEC);
        if (token < 0) {
          close(fd);
          errno = -token;
          this.listener.fail(n.id, errno);
        } else {
          this.#issued.push({ token, real: fd, what: action.issue });
          const r = this.listener.sendFd(n.id, token, action.cloexec ?? false);
          if (r < 0 && r !== -2) {
            errno = -r;
            this.listener.fail(n.id, errno);
          }
        }
      } else {
        this.listener.succeed(n.id);
      }
    }
    this.audit.emit("broker", MOUNT_EVENTS[req.op], {
      pid: n.pid,
      syscall: req.syscall,
      ..."path" in req ? { path: req.path } : {},
      ...(req.op === "mount" && req.source ? { source: req.source } : {}),
      ...(req.op === "mount" && req.fstype ? { fstype: req.fstype } : {}),
      operation: action.act === "helper" ? action.op : req.op,
      decision: action.act === "deny" ? "deny" : errno ? "error" : "allow",
      errno,
      ...(errno ? { error: errnoName(errno) } : {}),
    });
  }

  /**
   * Which fd the broker issued stands behind the sandbox's `fd`, if any:
   * its file is fetched with pidfd_getfd and compared with kcmp.
   */
  #identify(
    pid: number,
    fd: number,
  ): { token: number; real: number; what: Issued } | undefined {
    if (!this.#issued.length || fd < 0) return undefined;
    const theirs = fetchFd(pid, fd);
    if (theirs === undefined) return undefined;
    try {
      return this.#issued.find((i) => sameFile(i.token, theirs));
    } finally {
      close(theirs);
    }
  }

  /** Sends an approved request to the helper; returns its errno and any fd. */
  #askHelper(
    action: MountAction & { act: "helper" },
    sendFd: number,
  ): { errno: number; fd: number } {
    return askMountHelper(this.helperFd, {
      op: action.op,
      flags: action.flags,
      readOnly: action.op === "setattr"
        ? action.attr_set ?? 0
        : action.read_only
        ? 1
        : 0,
      attrClr: action.attr_clr ?? 0,
      source: action.source,
      target: action.target,
      data: action.data,
    }, sendFd);
  }

  #memory(n: Notification): Memory {
    const pid = n.pid;
    // For an open-family call (one path argument) the fast path has read
    // it already; other calls have no n.path.
    const known = n.path;
    // Every read waits at most the watchdog's deadline (a sandbox can hold
    // a page back with userfaultfd); then the sandbox is killed.
    const watched = <T>(read: () => T) => this.listener.watched(n, read);
    return {
      path: (addr) => known ?? watched(() => readRemotePath(pid, addr)),
      mountAttr: (addr, size) =>
        watched(() => readRemoteMountAttr(pid, addr, size)),
      openHow: (addr, size) =>
        watched(() => readRemoteOpenHow(pid, addr, size)),
    };
  }

  #base(pid: number, dirfd: number): string | undefined {
    try {
      return Deno.readLinkSync(
        dirfd === AT_FDCWD ? `/proc/${pid}/cwd` : `/proc/${pid}/fd/${dirfd}`,
      );
    } catch {
      return undefined;
    }
  }

  #abs(pid: number, dirfd: number, path: string): string | undefined {
    if (path.startsWith("/")) return normalize(path);
    const base = this.#base(pid, dirfd);
    return base?.startsWith("/") ? normalize(path, base) : undefined;
  }

  #resolve(pid: number, req: Request) {
    switch (req.op) {
      default:
        return undefined; // mount-family calls are handled by #mount
      case "open": {
        const path = this.#abs(pid, req.dirfd, req.path);
        return path === undefined
          ? undefined
          : { op: req.op, path, flags: req.flags };
      }
      case "mkdir":
      case "unlink": {
        const path = this.#abs(pid, req.dirfd, req.path);
        return path === undefined ? undefined : { op: req.op, path };
      }
      case "symlink": {
        const path = this.#abs(pid, req.newdirfd, req.newpath);
        return path === undefined ? undefined : { op: req.op, path };
      }
      case "rename":
      case "link": {
        const oldpath = this.#abs(pid, req.olddirfd, req.oldpath);
        const newpath = this.#abs(pid, req.newdirfd, req.newpath);
        return oldpath === undefined || newpath === undefined
          ? undefined
          : { op: req.op, oldpath, newpath, flags: req.flags };
      }
    }
  }

  #openat2(
    dirfd: number,
    path: string,
    flags: number,
    mode: number,
    resolve: number,
  ): number {
    return openat2Raw(dirfd, path, flags | O_CLOEXEC, mode, resolve);
  }

  /**
   * Clears the O_NONBLOCK the broker opened `fd` with, so the sandbox gets
   * the blocking fd it asked for. Returns an errno, or 0.
   */
  #blocking(fd: number): number {
    return clearNonBlockingRaw(fd);
  }

  /** An O_PATH fd of the directory holding `at`, and the last component. */
  #parent(at: Beneath): [number, string] | number {
    const [dir, base] = splitParent(at.rel);
    const fd = this.#openat2(
      this.#roots.get(at.root)!,
      dir,
      O_PATH | O_DIRECTORY,
      0,
      RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS,
    );
    return fd < 0 ? fd : [fd, base];
  }

  /** Runs `fn` on the parents of `ats`; returns the errno (0: success). */
  #withParents(
    ats: Beneath[],
    fn: (parents: [number, CName][]) => number,
  ): number {
    const parents: [number, CName][] = [];
    try {
      for (const at of ats) {
        const p = this.#parent(at);
        if (typeof p === "number") return -p;
        parents.push([p[0], cname(p[1])]);
      }
      const r = fn(parents);
      return r < 0 ? -r : 0;
    } finally {
      parents.forEach(([fd]) => close(fd));
    }
  }

  #perform(action: Action, req: Request): Outcome {
    const deny = (errno: number) => ({
      errno: errno === EXDEV ? EACCES : errno,
    });
    switch (action.act) {
      case "deny":
        return { errno: action.errno };
      case "open_file":
      case "open_beneath": {
        if (req.op !== "open") return { errno: EACCES };
        const creates = (req.flags & (O_CREAT | O_TMPFILE)) !== 0;
        const mode = creates ? req.mode & 0o7777 : 0;
        // The sandbox's RESOLVE_BENEATH / RESOLVE_IN_ROOT would apply to the
        // broker's dirfd (AT_FDCWD: landlockd's cwd), not the sandbox's:
        // the broker resolves the path itself and keeps only the
        // sandbox's restrictions.
        const resolve = req.resolve & ~(RESOLVE_BENEATH | RESOLVE_IN_ROOT);
        // Never block in open (a FIFO without a writer, a file under a
        // lease): a stuck open would stall the broker's thread, and in the
        // daemon every run it serves. openat2 refuses O_NONBLOCK with
        // O_PATH, which never blocks anyway.
        const nonblock = (req.flags & O_PATH) ? 0 : O_NONBLOCK;
        const flags = req.flags | nonblock;
        const fd = action.act === "open_file"
          // The canonical path has no symlink (plan time): any symlink met
          // now was put there since, by the sandbox perhaps, so no
          // component may be one (ELOOP).
          ? this.#openat2(
            AT_FDCWD,
            action.canonical,
            flags,
            mode,
            RESOLVE_NO_SYMLINKS | resolve,
          )
          : this.#openat2(
            this.#roots.get(action.at.root)!,
            action.at.rel || ".",
            flags,
            mode,
            RESOLVE_BENEATH | RESOLVE_NO_MAGICLINKS | resolve |
              (action.act === "open_beneath" && action.noSymlinks
                ? RESOLVE_NO_SYMLINKS
                : 0),
          );
        if (fd < 0) return deny(-fd);
        const e = nonblock && !(req.flags & O_NONBLOCK)
          ? this.#blocking(fd)
          : 0;
        if (e) close(fd);
        return e ? deny(e) : { fd, errno: 0 };
      }
      case "mkdir":
        return deny(
          this.#withParents([action.at], ([[fd, base]]) =>
            mkdiratRaw(
              fd,
              base,
              req.op === "mkdir" ? req.mode & 0o7777 : 0o755,
            )),
        );
      case "unlink":
        return deny(
          this.#withParents([action.at], ([[fd, base]]) =>
            unlinkatRaw(
              fd,
              base,
              req.op === "unlink" && req.rmdir ? AT_REMOVEDIR : 0,
            )),
        );
      case "symlink": {
        if (req.op !== "symlink") return { errno: EACCES };
        const target = cname(req.target);
        return deny(
          this.#withParents(
            [action.at],
            ([[fd, base]]) => symlinkatRaw(target, fd, base),
          ),
        );
      }
      case "rename":
      case "link": {
        const flags = "flags" in req && action.act === "rename" ? req.flags : 0;
        return deny(
          this.#withParents(
            [action.from, action.to],
            ([[f1, b1], [f2, b2]]) =>
              action.act === "rename"
                ? renameat2Raw(f1, b1, f2, b2, flags)
                : linkatRaw(f1, b1, f2, b2, 0),
          ),
        );
      }
      case "continue":
        return { errno: 0 };
    }
  }

  #audit(
    pid: number,
    req: Exclude<Request, MountRequest>,
    action: Action,
    outcome: Outcome,
  ): void {
    const event = req.op === "unlink" && req.rmdir
      ? "broker.rmdir"
      : `broker.${req.op}`;
    const paths = "oldpath" in req
      ? { path: req.oldpath, new_path: req.newpath }
      : req.op === "symlink"
      ? { path: req.newpath, target: req.target }
      : { path: req.path };
    const operation = req.op === "open"
      ? ((req.flags & O_CREAT)
        ? "create"
        : writes(req.flags)
        ? "write"
        : "read")
      : req.op === "unlink" && req.rmdir
      ? "rmdir"
      : req.op;
    const decision = action.act === "deny"
      ? "deny"
      : outcome.errno
      ? "error"
      : "allow";
    this.audit.emit("broker", event, {
      pid,
      syscall: req.syscall,
      ...paths,
      operation,
      decision,
      errno: outcome.errno,
      ...(outcome.errno ? { error: errnoName(outcome.errno) } : {}),
    });
  }
}
