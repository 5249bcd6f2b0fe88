/**
 * stdio for runs whose client cannot pass fds (the library API): stdin is
 * a memfd holding the bytes sent, stdout and stderr are pipes the daemon's
 * reactor drains, keeping at most {@link LIMITS.output} bytes of each.
 *
 * @module
 */

import { errno } from "../../syscalls/errno.ts";
import { memfdWith, pipe, readRaw } from "../../syscalls/fs.ts";
import { close } from "../../syscalls/sys.ts";
import { O_RDONLY } from "../../syscalls/constants.ts";
import { LIMITS } from "../protocol.ts";
import { EPOLLIN, type Reactor } from "./reactor.ts";
import { setNonBlocking } from "../../syscalls/fd.ts";

const CHUNK = 64 << 10;

/** One drained stream. */
export interface Output {
  bytes: Uint8Array;
  /** More than {@link LIMITS.output} bytes were written; the rest is gone. */
  truncated: boolean;
}

/** The fds of one captured run. */
export interface Capture {
  /** The child's 0, 1 and 2. Close them once the child has them. */
  child: [number, number, number];
  /** Resolves when both pipes reach end of file. */
  outputs: Promise<[Output, Output]>;
}

function stdinFd(bytes: Uint8Array): number {
  return memfdWith("landlockd-stdin", bytes);
}

const scratch = new Uint8Array(CHUNK);

/** Reads `fd` whenever the reactor says so, until end of file. */
function drain(fd: number, reactor: Reactor): Promise<Output> {
  // A read end just made by pipe2(O_CLOEXEC): its status flags are
  // O_RDONLY alone (O_CLOEXEC is an fd flag), so no F_GETFL is needed.
  setNonBlocking(fd, true, O_RDONLY);
  const chunks: Uint8Array[] = [];
  let kept = 0;
  let total = 0;
  return new Promise((resolve) => {
    const finish = () => {
      reactor.remove(fd);
      close(fd);
      const bytes = new Uint8Array(kept);
      let at = 0;
      for (const c of chunks) {
        bytes.set(c, at);
        at += c.length;
      }
      resolve({ bytes, truncated: total > kept });
    };
    reactor.add(fd, EPOLLIN, () => {
      // A few chunks per turn: a chatty command must not starve the others.
      for (let turn = 0; turn < 8; turn++) {
        const n = readRaw(fd, scratch);
        if (n === -errno.EAGAIN) return;
        if (n <= 0) return finish();
        total += n;
        const room = Math.min(n, LIMITS.output - kept);
        if (room > 0) {
          chunks.push(scratch.slice(0, room));
          kept += room;
        }
      }
    });
  });
}

/** Prepares stdin from `input` and pipes for stdout and stderr. */
export function captureStdio(input: Uint8Array, reactor: Reactor): Capture {
  const stdin = stdinFd(input);
  let out: [number, number] | undefined;
  let err: [number, number] | undefined;
  try {
    out = pipe();
    err = pipe();
  } catch (e) {
    [stdin, ...(out ?? [])].forEach(close);
    throw e;
  }
  return {
    child: [stdin, out[1], err[1]],
    outputs: Promise.all([drain(out[0], reactor), drain(err[0], reactor)]),
  };
}
