/**
 * The daemon's own confinement: no_new_privs and a seccomp deny list for
 * calls that administer the host. Every sandbox the daemon starts inherits
 * both (docs/protocol.md says so), so the list holds only calls that no
 * sandboxed job needs; the calls landlockd needs to build sandboxes
 * (mount, namespaces, Landlock, seccomp) stay allowed.
 *
 * @module
 */

import { encode } from "../../seccomp/bpf.ts";
import { buildFilter, EPERM, hostArch } from "../../seccomp/filter.ts";
import { syscallTable } from "../../seccomp/table.ts";
import {
  disarmInspectorSignal as disarm,
  handled,
  ignore,
  inspectorSignalDisarmed,
  SIGUSR1,
} from "../../syscalls/signals.ts";
import {
  installFilterAllThreads,
  setNoNewPrivs,
} from "../../syscalls/seccomp.ts";

/** Refused with EPERM in the daemon and everything it starts. */
export const DAEMON_DENY = [
  "acct",
  "clock_adjtime",
  "clock_settime",
  "delete_module",
  "finit_module",
  "init_module",
  "ioperm",
  "iopl",
  "kexec_file_load",
  "kexec_load",
  "lookup_dcookie",
  "nfsservctl",
  "open_by_handle_at",
  "quotactl",
  "quotactl_fd",
  "reboot",
  "settimeofday",
  "swapoff",
  "swapon",
  "uselib",
  "vhangup",
] as const;

/** What {@link hardenDaemon} applied, for `status` and `daemon.listen`. */
export interface Hardening {
  no_new_privs: true;
  seccomp_deny: string[];
}

/**
 * Sets no_new_privs and installs the deny list on every thread (TSYNC).
 * Throws a SyscallError if either fails: the daemon does not run without.
 */
export function hardenDaemon(): Hardening {
  setNoNewPrivs();
  const arch = hostArch();
  const table = syscallTable(arch);
  const deny = DAEMON_DENY.filter((name) => name in table);
  const filter = encode(buildFilter({
    arch,
    table,
    deny,
    errno: EPERM,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: false,
    notify: [],
  }));
  installFilterAllThreads(filter, "the daemon's seccomp filter");
  return { no_new_privs: true, seccomp_deny: [...deny] };
}

/**
 * Deno (2.9.2 and later) starts a V8 inspector on 127.0.0.1:9229 when the
 * process receives SIGUSR1, and installs that handler about 500 ms after
 * start. A sandbox that could signal the daemon and reach that port would
 * run code in the daemon, outside every sandbox. So the daemon waits for
 * the handler (at most `waitMs`), replaces it with SIG_IGN, and only then
 * serves; {@link inspectorSignalRearmed} checks that it stays so.
 */
export async function disarmInspectorSignal(waitMs = 2000): Promise<void> {
  for (let waited = 0; !handled(SIGUSR1) && waited < waitMs; waited += 25) {
    await new Promise((r) => setTimeout(r, 25));
  }
  disarm();
  if (!inspectorSignalDisarmed()) ignore(SIGUSR1); // no handler came: ignore anyway
}

/** True if a SIGUSR1 handler came back (it is ignored again at once). */
export function inspectorSignalRearmed(): boolean {
  if (!handled(SIGUSR1)) return false;
  disarm();
  return true;
}
