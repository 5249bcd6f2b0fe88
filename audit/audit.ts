/**
 * JSON audit events, one object per line (docs/audit-schema.md).
 *
 * @module
 */

import { describeErrno } from "../syscalls/errno.ts";
import { openAppendRaw } from "../syscalls/fs.ts";
import { close, writeAll } from "../syscalls/sys.ts";

/** Fields every event carries. */
export interface AuditEnvelope {
  component: string;
  event: string;
  timestamp: string;
  job_id?: string;
}

/** Where events go. */
export interface AuditSink {
  emit(component: string, event: string, fields: Record<string, unknown>): void;
  close(): void;
  /**
   * Where it writes, so another thread (the egress proxy's) can write
   * there too: the fds, and the job id added to each event.
   */
  target?: { fds: number[]; jobId?: string };
}

/** Events are off unless asked for. */
export const NO_AUDIT: AuditSink = { emit() {}, close() {} };

const encoder = new TextEncoder();

function line(
  component: string,
  event: string,
  fields: Record<string, unknown>,
): Uint8Array<ArrayBuffer> {
  const envelope: AuditEnvelope = {
    component,
    event,
    timestamp: new Date().toISOString(),
  };
  const job = Deno.env.get("LANDLOCKD_JOB_ID");
  if (job) envelope.job_id = job;
  return encoder.encode(JSON.stringify({ ...envelope, ...fields }) + "\n");
}

/** The audit destination cannot be used. */
export class AuditError extends Error {
  override name = "AuditError";
}

/**
 * Opens `path` for appending events (created with mode 0600 if missing) and
 * returns the raw fd: the daemon's broker threads write to it as well.
 */
export function openAuditFile(path: string): number {
  const r = openAppendRaw(path, 0o600);
  if (r < 0) {
    throw new AuditError(
      `Cannot open audit file "${path}": ${describeErrno(-r)}`,
    );
  }
  return r;
}

/** Appends events to a file, created with mode 0600 if missing. */
export function auditToFile(path: string): AuditSink {
  const fd = openAuditFile(path);
  return { ...auditToFd(fd), close: () => close(fd) };
}

/** Writes events to an fd the caller opened (e.g. `--audit-fd 3`). */
export function auditToFd(fd: number): AuditSink {
  return {
    emit: (c, e, f) => writeAll(fd, line(c, e, f)),
    close() {},
    target: { fds: [fd] },
  };
}
