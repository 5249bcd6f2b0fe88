/**
 * `landlockd run --socket`: the command-line client. It reads the policy
 * itself, passes its own stdin, stdout and stderr to the daemon with
 * SCM_RIGHTS, relays its signals, and exits as a direct run would.
 *
 * @module
 */

import type { Denial } from "../observe/explain.ts";
import { EXIT } from "./exit_codes.ts";
import { lazyImport } from "../lazy_import.ts";
import { printError } from "./output.ts";
import { connectFailure } from "./socket_option.ts";
import type { Source } from "../policy/diagnostic.ts";
import { inheritedIgnoredSignals } from "../syscalls/process.ts";
import { encodeFrame, ProtocolError } from "../daemon/protocol.ts";
import { clientTrusted } from "../sandbox/trusted.ts";
import { Conn } from "./remote_conn.ts";
import {
  closeOffThread,
  connectUnixOffThread,
} from "../syscalls/unix_socket.ts";
import { openSymbolsFor } from "../syscalls/sys.ts";

/** Relayed to the sandbox while it runs. */
const RELAYED = ["SIGINT", "SIGTERM", "SIGHUP", "SIGQUIT"] as const;

/** What the client sends besides the policy and command. */
export interface RemoteOptions {
  socket: string;
  /** An fd for this run's audit events (the client opened it), or -1. */
  auditFd: number;
  /** Ask the daemon to explain denials (`--explain`). */
  explain?: boolean;
  /** Print the denials as GitHub annotations too (`--format github`). */
  github?: boolean;
  /**
   * The policy file and the files it extends: with this client's own
   * landlockd, Deno and DENO_DIR, what its next start trusts
   * (sandbox/self_write.ts `clientTrusted`); the daemon refuses a plan
   * that could write any of them.
   */
  policyFiles?: string[];
}

/** Runs `argv` through the daemon; returns the exit code. */
export async function runRemote(
  source: Source,
  argv: string[],
  opts: RemoteOptions,
): Promise<number> {
  let connecting: Promise<number>;
  try {
    // connect, send, receive and close bound in one dlopen, not one each
    openSymbolsFor("client");
    connecting = connectUnixOffThread(opts.socket);
  } catch (e) {
    printError(connectFailure(opts.socket, e));
    return EXIT.DAEMON;
  }
  const id = 1;
  const fds = opts.auditFd >= 0 ? [0, 1, 2, opts.auditFd] : [0, 1, 2];
  // The frame is made while the connect runs off this thread (0.5-1 ms of
  // this thread's time, the connect 0.2-0.3 ms of its wait); a failed
  // connect is still what is reported first.
  let frame: ReturnType<typeof encodeFrame>;
  try {
    frame = encodeFrame({
      type: "run",
      id,
      policy: { name: source.name, text: source.text },
      argv,
      env: Deno.env.toObject(),
      cwd: Deno.cwd(),
      stdio: "fds",
      audit_fd: opts.auditFd >= 0,
      ...(opts.explain ? { explain: true } : {}),
      sig_ignore: inheritedIgnoredSignals().toString(16),
      trust: clientTrusted(opts.policyFiles?.[0], opts.policyFiles?.slice(1)),
    });
  } catch (e) {
    const fd = await connecting.catch((connect) => {
      printError(connectFailure(opts.socket, connect));
      return -1;
    });
    if (fd < 0) return EXIT.DAEMON;
    await closeOffThread(fd);
    throw e;
  }
  let fd: number;
  try {
    fd = await connecting;
  } catch (e) {
    printError(connectFailure(opts.socket, e));
    return EXIT.DAEMON;
  }
  const conn = new Conn(fd);
  await conn.send(frame, fds);
  const relay = RELAYED.map((signal) => {
    const handler = () =>
      void conn.send(encodeFrame({ type: "signal", id, signal }));
    Deno.addSignalListener(signal, handler);
    return () => Deno.removeSignalListener(signal, handler);
  });
  try {
    for (;;) {
      let read;
      try {
        read = await conn.read();
      } catch (e) {
        printError(
          e instanceof ProtocolError
            ? `the daemon sent a bad frame: ${e.message}`
            : `lost the daemon: ${(e as Error).message}`,
        );
        return EXIT.DAEMON;
      }
      for (const { header } of read.frames) {
        if (header.type === "started") {
          if (typeof header.warning === "string") printError(header.warning);
          if (typeof header.explain === "string") printError(header.explain);
        } else if (header.type === "exit") {
          if (Array.isArray(header.denials)) {
            // Loaded only here: a plain `run --socket` starts without it.
            const { formatDenials } = await lazyImport<
              typeof import("../observe/explain.ts")
            >("../observe/explain.ts", import.meta.url);
            Deno.stderr.writeSync(
              new TextEncoder().encode(formatDenials(
                header.denials as Denial[],
                {
                  dropped: Number(header.denials_dropped ?? 0) +
                    Number(header.denials_omitted ?? 0),
                  limit: Number(header.denials_limit ?? 0),
                },
              )),
            );
            if (opts.github) {
              // Loaded only here: a plain `run --socket` starts without it.
              const { denialAnnotations } = await lazyImport<
                typeof import("./github.ts")
              >("./github.ts", import.meta.url);
              const omitted = Number(header.denials_dropped ?? 0) +
                Number(header.denials_omitted ?? 0);
              denialAnnotations(header.denials as Denial[], omitted).forEach(
                (a) => console.log(a),
              );
            }
          }
          return header.code as number;
        } else if (header.type === "error") {
          printError(String(header.message));
          return typeof header.exit_code === "number"
            ? header.exit_code
            : EXIT.DAEMON;
        }
      }
      if (read.eof) {
        printError(
          "the daemon closed the connection before the command finished",
        );
        return EXIT.DAEMON;
      }
    }
  } finally {
    relay.forEach((stop) => stop());
    conn.release();
  }
}
