/**
 * What serve, status, stop and `run --socket` share: the socket path, the
 * grace period, and talking to a daemon from the command line.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import type { Client } from "../daemon/client.ts";
import { defaultSocketPath } from "../daemon/protocol.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";

/** `--socket PATH`, else `$XDG_RUNTIME_DIR/landlockd.sock`. */
export function socketPath(given: string | undefined, command: string): string {
  const path = given ?? defaultSocketPath((n) => Deno.env.get(n));
  if (!path) {
    throw new UsageError(
      "no socket: XDG_RUNTIME_DIR is not set, so pass --socket PATH",
      command,
    );
  }
  return path;
}

/** A client-side message for a failed connect. */
export function connectFailure(path: string, e: unknown): string {
  const code = (e as { code?: string }).code;
  if (e instanceof Deno.errors.NotFound || code === "ENOENT") {
    return `no landlockd daemon at "${path}" (start one with: landlockd serve --socket ${path})`;
  }
  if (e instanceof Deno.errors.ConnectionRefused || code === "ECONNREFUSED") {
    return `no landlockd daemon answers at "${path}" (a stale socket?)`;
  }
  if (e instanceof Deno.errors.PermissionDenied || code === "EACCES") {
    return `permission denied connecting to "${path}": the daemon serves another user`;
  }
  return `cannot connect to "${path}": ${(e as Error).message}`;
}

/** `--grace SECONDS`: 10 when absent; 0 to 86400. */
export function graceOption(
  value: string | undefined,
  command: string,
): number {
  const grace = value === undefined ? 10 : Number(value);
  if (!(grace >= 0) || grace > 86400) {
    throw new UsageError(`--grace takes seconds, got "${value}"`, command);
  }
  return grace;
}

/**
 * Connects to the daemon at `path`, runs `talk`, closes; the exit code is
 * 0, or 3 with a message when the daemon cannot be reached or says no.
 */
export async function withDaemon(
  path: string,
  talk: (client: Client) => Promise<void>,
): Promise<number> {
  const { connect } = await lazyImport<typeof import("../daemon/client.ts")>(
    "../daemon/client.ts",
    import.meta.url,
  );
  let client;
  try {
    client = await connect(path);
  } catch (e) {
    printError(connectFailure(path, e));
    return EXIT.DAEMON;
  }
  try {
    await talk(client);
    return EXIT.OK;
  } catch (e) {
    printError((e as Error).message);
    return EXIT.DAEMON;
  } finally {
    client.close();
  }
}
