/**
 * Reading a small file inside a root directory, resolved as a process
 * chrooted there would (RESOLVE_IN_ROOT: absolute symlinks and `..` stay
 * inside), without blocking on a FIFO.
 *
 * @module
 */

import { AT_FDCWD, O_CLOEXEC, O_PATH } from "./sys.ts";
import { close } from "./sys.ts";
import {
  O_DIRECTORY,
  O_NONBLOCK,
  RESOLVE_IN_ROOT,
  RESOLVE_NO_MAGICLINKS,
} from "./constants.ts";
import { openat2Raw, readRaw } from "./fs.ts";

const O_RDONLY = 0;

/**
 * The text of `path` inside `root` (at most `limit` bytes), or undefined
 * when it cannot be opened or read.
 */
export function readInRoot(
  root: string,
  path: string,
  limit = 65536,
): string | undefined {
  const dir = openat2Raw(
    AT_FDCWD,
    root,
    O_PATH | O_DIRECTORY | O_CLOEXEC,
    0,
    0,
  );
  if (dir < 0) return undefined;
  try {
    const fd = openat2Raw(
      dir,
      path,
      O_RDONLY | O_NONBLOCK | O_CLOEXEC,
      0,
      RESOLVE_IN_ROOT | RESOLVE_NO_MAGICLINKS,
    );
    if (fd < 0) return undefined;
    try {
      const chunk = new Uint8Array(4096);
      const parts: Uint8Array[] = [];
      let got = 0;
      while (got < limit) {
        const n = readRaw(fd, chunk);
        if (n < 0) return undefined;
        if (n === 0) break;
        parts.push(chunk.slice(0, n));
        got += n;
      }
      const all = new Uint8Array(got);
      let at = 0;
      for (const p of parts) {
        all.set(p, at);
        at += p.length;
      }
      return new TextDecoder().decode(all.subarray(0, limit));
    } finally {
      close(fd);
    }
  } finally {
    close(dir);
  }
}
