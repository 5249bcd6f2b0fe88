/**
 * The daemon's audit destinations: its own (`serve --audit-file`) and, per
 * run, the one a client passes with `run --socket --audit-file`.
 *
 * @module
 */

import { AuditError, type AuditSink } from "../audit/audit.ts";
import { cstring, NR } from "../ffi/mod.ts";
import { describeErrno } from "../syscalls/errno.ts";
import { AT_FDCWD, O_CLOEXEC } from "../syscalls/constants.ts";
import { rawSyscall } from "../syscalls/sys.ts";

const O_WRONLY = 0o1;
const O_CREAT = 0o100;
const O_APPEND = 0o2000;

/**
 * Opens `path` for appending events (created 0600) and returns the raw fd,
 * which broker threads can write to as well.
 */
export function openAuditFile(path: string): number {
  const r = rawSyscall(
    NR.openat,
    AT_FDCWD,
    BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(cstring(path)))),
    O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC,
    0o600,
  );
  if (r < 0) {
    throw new AuditError(
      `Cannot open audit file "${path}": ${describeErrno(-r)}`,
    );
  }
  return r;
}

/** Sends every event to each sink, with the run's job id when it has one. */
export function teeAudit(sinks: AuditSink[], jobId?: string): AuditSink {
  return {
    emit(component, event, fields) {
      const f = jobId ? { job_id: jobId, ...fields } : fields;
      for (const s of sinks) {
        try {
          s.emit(component, event, f);
        } catch {
          // A client's audit fd that fails must not fail the run.
        }
      }
    },
    close() {
      sinks.forEach((s) => s.close());
    },
  };
}
