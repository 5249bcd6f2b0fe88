/**
 * The daemon's socket path for serve, status, stop and `run --socket`.
 *
 * @module
 */

import { defaultSocketPath } from "../daemon/protocol.ts";
import { UsageError } from "./exit_codes.ts";

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
