/**
 * What the observer saw a sandboxed command do: the shared vocabulary of
 * `run --explain` (which reports the accesses the plan refuses) and
 * `landlockd learn` (which turns every access into policy rules).
 *
 * Pure types and small pure helpers only; the observer that produces these
 * lives beside the broker, and the consumers are `observe/explain.ts` and
 * `observe/learn.ts`.
 *
 * @module
 */

/** One kind of access, as the policy would have to allow it. */
export type AccessOp =
  | "read" // open for reading
  | "write" // open for writing or truncation of an existing file
  | "create" // a new file, directory, fifo, socket or device node
  | "remove" // unlink, rmdir, or the source side of a rename
  | "exec" // execve/execveat of a file
  | "list" // open of a directory for reading its entries
  | "bind" // TCP bind
  | "connect" // TCP connect
  | "socket"; // any other socket use worth noting (UDP, raw, netlink, ...)

/** One distinct access (the key) and how often it was seen. */
export interface Access {
  op: AccessOp;
  /** Absolute, resolved path (file ops). For create/remove, the entry's own path. */
  path?: string;
  /** TCP port (bind/connect) or destination port for other sockets. */
  port?: number;
  /** Socket family and type for op "socket", e.g. "inet/dgram", "netlink". */
  socket?: string;
  /** The syscall that was observed, e.g. "openat", "execve", "connect". */
  syscall: string;
  /**
   * The Landlock rights this access needs, by the policy's names
   * (`read_file`, `make_reg`, `bind_tcp`, ...). File rights are checked on
   * `path` and the directories above it; directory rights (`make_*`,
   * `remove_*`, `refer`) on the directories above `path` only. Absent for
   * op "socket" (Landlock does not restrict it).
   */
  rights?: string[];
  /** How many times this exact access was seen. */
  count: number;
}

/** A bounded record of accesses. */
export interface AccessLog {
  accesses: Access[];
  /** Distinct accesses not kept because the record was full. */
  dropped: number;
  /** True when the command was killed by a signal or the run was cut short. */
  cutShort: boolean;
  /**
   * Calls whose arguments could not be read (a bad pointer, a task that
   * vanished): continued unrecorded.
   */
  unreadable?: number;
  /**
   * `[net] udp = "dns"`, under --explain: the datagram destinations the
   * broker refused (not nameservers on port 53), first seen first.
   */
  udp?: { ip: string; port: number; syscall: string; count: number }[];
  /**
   * `[net] allow_hosts`, under --explain: the TCP connects the broker
   * refused (not the proxy, nor a `[[net.rule]]` port), with the errno the
   * command got, first seen first.
   */
  tcp?: { ip: string; port: number; errno: number; count: number }[];
  /** The limit on distinct accesses this log was recorded with. */
  limit?: number;
}

/** What to observe: every access, or only those the plan refuses. */
export interface ObserveOptions {
  /**
   * "all": every access the observed calls make (for `learn`);
   * "denials": only those the run's Landlock plan refuses (`--explain`).
   */
  mode: "denials" | "all";
  /** Distinct accesses kept (default {@link DEFAULT_ACCESS_LIMIT}). */
  limit?: number;
}

/** How many distinct accesses a log keeps unless told otherwise. */
export const DEFAULT_ACCESS_LIMIT = 4096;

/** The key two observations of the same access share. */
export function accessKey(a: Omit<Access, "count">): string {
  return [a.op, a.path ?? "", a.port ?? "", a.socket ?? "", a.syscall].join(
    "\0",
  );
}
