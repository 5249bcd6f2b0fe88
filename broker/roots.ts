/**
 * The scratch and export roots, opened before the command starts: O_PATH
 * directory fds of the plan's canonical paths, opened without following any
 * symlink. The broker works relative to these fds only, so nothing the
 * sandbox does after it starts (moving a root or a directory above it,
 * putting a symlink in its place) changes which directories they are.
 *
 * @module
 */

import {
  AT_FDCWD,
  O_CLOEXEC,
  O_DIRECTORY,
  O_PATH,
  RESOLVE_NO_SYMLINKS,
} from "../syscalls/constants.ts";
import { SyscallError } from "../syscalls/errno.ts";
import { withFsIdentity } from "../syscalls/identity.ts";
import type { Identity } from "../syscalls/process.ts";
import { openat2Raw } from "../syscalls/fs.ts";
import { close } from "../syscalls/sys.ts";
import type { Grants } from "./paths.ts";

/** Root path → its O_PATH fd. Plain pairs: they cross to broker threads. */
export type RootFds = [string, number][];

function openDirectory(path: string): number {
  return openat2Raw(
    AT_FDCWD,
    path,
    O_PATH | O_DIRECTORY | O_CLOEXEC,
    0,
    RESOLVE_NO_SYMLINKS,
  );
}

/**
 * Opens every scratch and export root, as `ids` when a root daemon serves
 * another user (their permissions, not the daemon's, decide). Throws a
 * SyscallError naming the root, having closed what it opened.
 */
export function openRoots(grants: Grants, ids?: Identity): RootFds {
  const fds: RootFds = [];
  withFsIdentity(ids, () => {
    for (const kind of ["scratch", "export"] as const) {
      for (const root of grants[kind]) {
        const fd = openDirectory(root);
        if (fd < 0) {
          closeRoots(fds);
          throw new SyscallError(`open ${kind} root`, -fd, root);
        }
        fds.push([root, fd]);
      }
    }
  });
  return fds;
}

/** Closes the fds of {@link openRoots}. */
export function closeRoots(fds: RootFds): void {
  for (const [, fd] of fds.splice(0)) close(fd);
}
