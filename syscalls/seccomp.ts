/**
 * no_new_privs and installing a seccomp filter on the calling process.
 *
 * @module
 */

import { addressOf, limits, NR, sockFprogOf } from "../ffi/mod.ts";
import { rawSyscall, unwrap } from "./sys.ts";

/**
 * The flags of the child's sendmsg that hands a broker's listener back
 * (ffi/spawn.c): a filter that notifies sendmsg must let them through.
 */
export const LISTENER_SEND_FLAGS = limits.LL_LISTENER_SEND_FLAGS;

const PR_SET_NO_NEW_PRIVS = 38;
const SECCOMP_SET_MODE_FILTER = 1;
const SECCOMP_FILTER_FLAG_TSYNC = 1;

/** Sets no_new_privs; throws a SyscallError if refused. */
export function setNoNewPrivs(): void {
  unwrap(
    rawSyscall(NR.prctl, PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0),
    "prctl(PR_SET_NO_NEW_PRIVS)",
  );
}

/**
 * Installs the encoded BPF `filter` on every thread (TSYNC). Throws a
 * SyscallError, or an Error naming a thread that could not be synchronised.
 */
export function installFilterAllThreads(
  filter: Uint8Array<ArrayBuffer>,
  what: string,
): void {
  const prog = sockFprogOf(filter);
  const r = rawSyscall(
    NR.seccomp,
    SECCOMP_SET_MODE_FILTER,
    SECCOMP_FILTER_FLAG_TSYNC,
    addressOf(prog),
  );
  // TSYNC reports a thread it could not synchronise by its (positive) id.
  if (r > 0) {
    throw new Error(
      `Cannot install ${what}: thread ${r} could not be synchronised`,
    );
  }
  unwrap(r, "seccomp(SECCOMP_SET_MODE_FILTER)");
}
