/**
 * Where the daemon listens: a socket it creates (mode 0600 in a directory
 * only its user can enter, unless `--allow-uid`/`--allow-gid` widen both)
 * or the one systemd passes (`LISTEN_FDS`).
 *
 * @module
 */

import { parentOf } from "../../policy/paths.ts";
import { setCloseOnExec } from "../../syscalls/fd.ts";
import { close } from "../../syscalls/sys.ts";
import {
  connectUnix,
  isListeningUnixStream,
  listenUnix,
} from "../../syscalls/unix_socket.ts";

/** The socket cannot be set up; the message says why and what to do. */
export class ListenError extends Error {
  override name = "ListenError";
}

/** Who besides the daemon's user may connect. */
export interface Widening {
  allowUids: readonly number[];
  allowGids: readonly number[];
}

/**
 * Prepares the socket's directory: created 0700 if missing; otherwise it
 * must be ours and closed to others. With a widening, the directory is
 * opened just enough for others to reach the socket (0711, or 0710 with
 * the one allowed group), and it must not be `$XDG_RUNTIME_DIR` itself.
 */
function prepareDirectory(dir: string, widen: Widening, runtimeDir?: string) {
  const uid = Deno.uid();
  const widened = widen.allowUids.length > 0 || widen.allowGids.length > 0;
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(dir);
  } catch (e) {
    if (!(e instanceof Deno.errors.NotFound)) {
      throw new ListenError(
        `Cannot use socket directory "${dir}": ${(e as Error).message}`,
      );
    }
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    Deno.chmodSync(dir, 0o700);
    st = Deno.lstatSync(dir);
  }
  if (!st.isDirectory) {
    throw new ListenError(`socket directory "${dir}" is not a directory`);
  }
  if (st.uid !== uid) {
    throw new ListenError(
      `socket directory "${dir}" belongs to uid ${st.uid}, not to the daemon's uid ${uid}`,
    );
  }
  if (widened) {
    if (runtimeDir && dir === runtimeDir.replace(/\/+$/, "")) {
      throw new ListenError(
        `--allow-uid and --allow-gid need a socket directory of its own, not $XDG_RUNTIME_DIR ("${dir}"): other users must be able to enter it (e.g. --socket /run/landlockd/landlockd.sock)`,
      );
    }
    if (widen.allowUids.length === 0 && widen.allowGids.length === 1) {
      Deno.chownSync(dir, null, widen.allowGids[0]);
      Deno.chmodSync(dir, 0o710);
    } else {
      Deno.chmodSync(dir, 0o711);
    }
    return;
  }
  const mode = (st.mode ?? 0) & 0o777;
  if (mode & 0o077) {
    throw new ListenError(
      `socket directory "${dir}" has mode ${
        mode.toString(8).padStart(4, "0")
      }; it must be 0700 so only uid ${uid} can reach the socket (or widen access with --allow-uid/--allow-gid)`,
    );
  }
}

/** Removes a socket file no daemon answers on; refuses to replace a live one. */
function clearStale(path: string) {
  let st: Deno.FileInfo;
  try {
    st = Deno.lstatSync(path);
  } catch {
    return;
  }
  if (!st.isSocket) {
    throw new ListenError(`"${path}" exists and is not a socket`);
  }
  let fd = -1;
  try {
    fd = connectUnix(path);
  } catch {
    Deno.removeSync(path); // nobody listening: a previous daemon's leftover
    return;
  } finally {
    if (fd >= 0) close(fd);
  }
  throw new ListenError(`a landlockd daemon is already listening on "${path}"`);
}

/** Creates, binds and protects the socket; returns the listening fd. */
export function listenOn(
  path: string,
  widen: Widening,
  runtimeDir = Deno.env.get("XDG_RUNTIME_DIR"),
): number {
  if (!path.startsWith("/")) {
    throw new ListenError(`--socket "${path}": expected an absolute path`);
  }
  prepareDirectory(parentOf(path), widen, runtimeDir);
  clearStale(path);
  let fd: number;
  try {
    fd = listenUnix(path);
  } catch (e) {
    throw new ListenError(
      `Cannot listen on "${path}": ${(e as Error).message}`,
    );
  }
  const widened = widen.allowUids.length > 0 || widen.allowGids.length > 0;
  if (widened && widen.allowUids.length === 0 && widen.allowGids.length === 1) {
    Deno.chownSync(path, null, widen.allowGids[0]);
    Deno.chmodSync(path, 0o660);
  } else {
    Deno.chmodSync(path, widened ? 0o666 : 0o600);
  }
  return fd;
}

/**
 * The socket systemd passed: `LISTEN_PID` must be us and `LISTEN_FDS` 1,
 * and fd 3 a listening Unix stream socket. The variables are removed so
 * sandboxes never see them.
 */
export function systemdSocket(): number {
  const pid = Deno.env.get("LISTEN_PID");
  const count = Deno.env.get("LISTEN_FDS");
  Deno.env.delete("LISTEN_PID");
  Deno.env.delete("LISTEN_FDS");
  Deno.env.delete("LISTEN_FDNAMES");
  if (pid === undefined || count === undefined) {
    throw new ListenError(
      "serve --systemd: LISTEN_PID and LISTEN_FDS are not set; start it from a systemd socket unit (see systemd/landlockd.socket)",
    );
  }
  if (Number(pid) !== Deno.pid) {
    throw new ListenError(
      `serve --systemd: LISTEN_PID is ${pid}, not this process (${Deno.pid})`,
    );
  }
  if (count !== "1") {
    throw new ListenError(
      `serve --systemd: expected one socket (LISTEN_FDS=1), got LISTEN_FDS=${count}`,
    );
  }
  const fd = 3;
  if (!isListeningUnixStream(fd)) {
    throw new ListenError(
      "serve --systemd: fd 3 is not a listening Unix stream socket (ListenStream= with a path)",
    );
  }
  setCloseOnExec(fd);
  return fd;
}
