/**
 * Signal names (Linux numbering, x86_64 and aarch64 alike).
 *
 * @module
 */

const NAMES = [
  "",
  "SIGHUP",
  "SIGINT",
  "SIGQUIT",
  "SIGILL",
  "SIGTRAP",
  "SIGABRT",
  "SIGBUS",
  "SIGFPE",
  "SIGKILL",
  "SIGUSR1",
  "SIGSEGV",
  "SIGUSR2",
  "SIGPIPE",
  "SIGALRM",
  "SIGTERM",
  "SIGSTKFLT",
  "SIGCHLD",
  "SIGCONT",
  "SIGSTOP",
  "SIGTSTP",
  "SIGTTIN",
  "SIGTTOU",
  "SIGURG",
  "SIGXCPU",
  "SIGXFSZ",
  "SIGVTALRM",
  "SIGPROF",
  "SIGWINCH",
  "SIGIO",
  "SIGPWR",
  "SIGSYS",
];

/** `SIGTERM` for 15; `SIGRTMIN+3` style above 31. */
export function signalName(n: number): string {
  if (n > 0 && n < NAMES.length) return NAMES[n];
  return n >= 34 ? `SIGRTMIN+${n - 34}` : `signal ${n}`;
}
