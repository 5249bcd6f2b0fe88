/**
 * A run's audit events in the daemon go to the daemon's own destination
 * (`serve --audit-file`) and to the one a client passed with
 * `run --socket --audit-file`.
 *
 * @module
 */

import type { AuditSink } from "../../audit/audit.ts";
import { setNonBlocking } from "../../syscalls/fd.ts";

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
    target: {
      fds: sinks.flatMap((s) => s.target?.fds ?? []),
      ...(jobId ? { jobId } : {}),
    },
  };
}

/**
 * Makes a client's audit fd non-blocking, so that a pipe the client never
 * reads costs it events (teeAudit drops a write that fails with EAGAIN),
 * not the daemon a thread. It changes the client's file description; for
 * regular files it changes nothing. False when the flag cannot be set.
 */
export function nonBlocking(fd: number): boolean {
  try {
    setNonBlocking(fd);
    return true;
  } catch {
    return false; // then it is not written to at all
  }
}
