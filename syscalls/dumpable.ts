/**
 * landlockd's own dumpable flag. A non-dumpable process's /proc/PID files
 * belong to root, and reading its `environ`, `maps` or memory takes
 * CAP_SYS_PTRACE: a sandboxed command of the same uid cannot look into
 * landlockd or the daemon that way. The flag follows a fork but not an
 * execve (the kernel makes the new program dumpable again), so the command
 * itself is unaffected.
 *
 * @module
 */

import { NR } from "../ffi/mod.ts";
import { rawSyscall, unwrap } from "./sys.ts";

const PR_GET_DUMPABLE = 3;
const PR_SET_DUMPABLE = 4;

/** Makes this process non-dumpable. Throws a SyscallError if the kernel refuses. */
export function makeNonDumpable(): void {
  unwrap(
    rawSyscall(NR.prctl, PR_SET_DUMPABLE, 0, 0, 0, 0),
    "prctl(PR_SET_DUMPABLE)",
  );
}

/** Whether this process is dumpable (PR_GET_DUMPABLE). */
export function isDumpable(): boolean {
  return unwrap(rawSyscall(NR.prctl, PR_GET_DUMPABLE, 0, 0, 0, 0), "prctl") !==
    0;
}
