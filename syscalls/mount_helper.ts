/**
 * Requests to the sandbox's mount helper (a process inside its mount
 * namespace), packed as `struct ll_mount_req` through ffi/layout.ts.
 *
 * @module
 */

import {
  cstring,
  library,
  MOUNT_REQ_OPS,
  mountReq,
  struct,
} from "../ffi/mod.ts";
import { errno } from "./errno.ts";

/** One request: which operation and its arguments. */
export interface MountHelperRequest {
  op: keyof typeof MOUNT_REQ_OPS;
  flags: number;
  /** read_only, or for setattr the MOUNT_ATTR_* to set. */
  readOnly: number;
  attrClr: number;
  source?: string;
  target?: string;
  data?: string;
}

/** The mount helper is gone: the sandbox's mount namespace cannot be served. */
export class MountHelperGone extends Error {
  override name = "MountHelperGone";
  constructor() {
    super("the mount helper is gone");
  }
}

const [bytes, view] = struct(mountReq.size);
const recvFd = new Int32Array(1);

/**
 * Sends `req` (and `sendFd`, if not -1) to the helper on `helperFd`; returns
 * its errno (0: done) and the fd it sent back. Throws
 * {@link MountHelperGone} when the helper has exited.
 */
export function askMountHelper(
  helperFd: number,
  req: MountHelperRequest,
  sendFd: number,
): { errno: number; fd: number } {
  bytes.fill(0);
  view.setUint32(mountReq.op, MOUNT_REQ_OPS[req.op], true);
  view.setUint32(mountReq.flags, req.flags, true);
  view.setUint32(mountReq.read_only, req.readOnly, true);
  view.setUint32(mountReq.attr_clr, req.attrClr, true);
  const put = (offset: number, max: number, text: string | undefined) => {
    const c = cstring(text ?? "");
    if (c.length > max) throw new Error("mount request field too long");
    bytes.set(c, offset);
  };
  put(mountReq.source, 4096, req.source);
  put(mountReq.target, 4096, req.target);
  put(mountReq.data, 256, req.data);
  const r = library().ll_helper_call(
    helperFd,
    bytes,
    mountReq.size,
    sendFd,
    recvFd,
  );
  if (r === -errno.EPIPE) throw new MountHelperGone();
  return { errno: r < 0 ? -r : 0, fd: recvFd[0] };
}
