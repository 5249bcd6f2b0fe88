/**
 * `landlockd serve`: the daemon.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import { openAuditFile } from "../audit/audit.ts";
import { openSymbols } from "../syscalls/sys.ts";
import { makeNonDumpable } from "../syscalls/dumpable.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, outcomeOf, UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";
import { graceOption, socketPath } from "./socket_option.ts";
import { type ConnectionLimits, LIMITS } from "../daemon/protocol.ts";

const OPTIONS = {
  socket: { type: "string" },
  systemd: { type: "boolean" },
  "allow-uid": { type: "string", multiple: true },
  "allow-gid": { type: "string", multiple: true },
  grace: { type: "string" },
  "max-connections": { type: "string" },
  "max-connections-per-uid": { type: "string" },
  "frame-timeout": { type: "string" },
  "idle-timeout": { type: "string" },
  "audit-file": { type: "string" },
  "audit-fd": { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** `landlockd serve --help` */
export const HELP =
  `Usage: landlockd serve [--socket PATH | --systemd] [options]

Start the daemon: it runs commands for clients (landlockd run --socket,
the library API in mod.ts) under the policies they send.

Options:
  --socket PATH      listen here (default $XDG_RUNTIME_DIR/landlockd.sock);
                     the socket is made 0600 in a 0700 directory
  --systemd          use the socket systemd passes (LISTEN_FDS, LISTEN_PID)
  --allow-uid UID    also serve this uid (repeatable); opens the socket
                     and its directory to others, peers are checked by uid
  --allow-gid GID    also serve members of this group (repeatable)
  --grace SECONDS    on SIGTERM/SIGINT, how long runs may finish (default 10)
  --max-connections N          connections at once (default 1024)
  --max-connections-per-uid N  connections of one uid at once (default 256,
                               at most --max-connections)
  --frame-timeout SECONDS      to complete a frame once begun (default 10)
  --idle-timeout SECONDS       a connection with no run may stay (default 60)
  --audit-file PATH  append JSON audit events to PATH
  --audit-fd N       write JSON audit events to file descriptor N
  -h, --help         show this help

Only the daemon's own uid (or root) may stop it. The daemon runs with
no_new_privs and a seccomp deny list that every sandbox inherits.

Exit status: 0 after a stop; 125 set-up or usage error.
`;

function ids(values: string[] | undefined, flag: string): number[] {
  return (values ?? []).map((v) => {
    if (!/^\d+$/.test(v) || Number(v) > 0xfffffffe) {
      throw new UsageError(`${flag} takes a numeric id, got "${v}"`, "serve");
    }
    return Number(v);
  });
}

/** A whole number from 1 to `max` given to `flag`. */
function count(
  value: string | undefined,
  flag: string,
  fallback: number,
  max = 1 << 20,
): number {
  if (value === undefined) return fallback;
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > max) {
    throw new UsageError(
      `${flag} takes a whole number from 1 to ${max}, got "${value}"`,
      "serve",
    );
  }
  return n;
}

/** The connection limits and deadlines the options ask for. */
function connectionLimits(
  values: Record<string, unknown>,
): ConnectionLimits {
  const v = values as Record<string, string | undefined>;
  const connections = count(
    v["max-connections"],
    "--max-connections",
    LIMITS.connections,
  );
  return {
    connections,
    connectionsPerUid: count(
      v["max-connections-per-uid"],
      "--max-connections-per-uid",
      Math.min(LIMITS.connectionsPerUid, connections),
      connections,
    ),
    frameTimeout: count(
      v["frame-timeout"],
      "--frame-timeout",
      LIMITS.frameTimeout,
      86400,
    ),
    idleTimeout: count(
      v["idle-timeout"],
      "--idle-timeout",
      LIMITS.idleTimeout,
      86400,
    ),
  };
}

/** `landlockd serve`; returns the exit code once the daemon has stopped. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseOptions("serve", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (values.systemd && values.socket !== undefined) {
    throw new UsageError("use --socket or --systemd, not both", "serve");
  }
  if (values["audit-file"] !== undefined && values["audit-fd"] !== undefined) {
    throw new UsageError("use --audit-file or --audit-fd, not both", "serve");
  }
  const grace = graceOption(values.grace, "serve");
  const limits = connectionLimits(values);
  const widen = {
    allowUids: ids(values["allow-uid"], "--allow-uid"),
    allowGids: ids(values["allow-gid"], "--allow-gid"),
  };
  const path = values.systemd ? undefined : socketPath(values.socket, "serve");
  let auditFd = -1;
  if (values["audit-fd"] !== undefined) {
    if (!/^\d+$/.test(values["audit-fd"])) {
      throw new UsageError(
        `--audit-fd takes a file descriptor number`,
        "serve",
      );
    }
    auditFd = Number(values["audit-fd"]);
  }
  const [{ Daemon }, listen, harden] = await Promise.all([
    lazyImport<typeof import("../daemon/server/server.ts")>(
      "../daemon/server/server.ts",
      import.meta.url,
    ),
    lazyImport<typeof import("../daemon/server/listen.ts")>(
      "../daemon/server/listen.ts",
      import.meta.url,
    ),
    lazyImport<typeof import("../daemon/server/harden.ts")>(
      "../daemon/server/harden.ts",
      import.meta.url,
    ),
  ]);
  openSymbols(true); // every symbol bound now, not on the first request
  makeNonDumpable(); // no sandbox may read the daemon's environ or maps
  let listenFd: number;
  try {
    if (values["audit-file"] !== undefined) {
      auditFd = openAuditFile(values["audit-file"]);
    }
    listenFd = path === undefined
      ? listen.systemdSocket()
      : listen.listenOn(path, widen);
  } catch (e) {
    const out = outcomeOf(e);
    if (out.show !== "message") throw e; // a bug: main prints its stack
    printError(out.error.message);
    return out.status;
  }
  const hardening = harden.hardenDaemon();
  await harden.disarmInspectorSignal();
  const daemon = new Daemon({
    listenFd,
    socketPath: path ?? "(systemd)",
    systemd: path === undefined,
    ...widen,
    auditFd,
    hardening,
    grace,
    limits,
  });
  try {
    return await daemon.serve();
  } finally {
    if (path !== undefined) {
      try {
        Deno.removeSync(path);
      } catch {
        // already gone
      }
    }
  }
}
