/**
 * JSON audit events, one object per line (docs/audit-schema.md).
 *
 * @module
 */

import { writeAll } from "../syscalls/sys.ts";

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

const OPEN_ERRORS: [new (...a: never[]) => Error, string][] = [
  [Deno.errors.PermissionDenied, "Permission denied (EACCES)"],
  [Deno.errors.NotFound, "No such file or directory (ENOENT)"],
  [Deno.errors.IsADirectory, "Is a directory (EISDIR)"],
];

/** Appends events to a file, created with mode 0600 if missing. */
export function auditToFile(path: string): AuditSink {
  let file: Deno.FsFile;
  try {
    file = Deno.openSync(path, { append: true, create: true, mode: 0o600 });
  } catch (e) {
    const why = OPEN_ERRORS.find(([type]) => e instanceof type)?.[1] ??
      String(e);
    throw new AuditError(`Cannot open audit file "${path}": ${why}`);
  }
  return {
    emit: (c, e, f) => void file.writeSync(line(c, e, f)),
    close: () => file.close(),
  };
}

/** Writes events to an fd the caller opened (e.g. `--audit-fd 3`). */
export function auditToFd(fd: number): AuditSink {
  return {
    emit: (c, e, f) => writeAll(fd, line(c, e, f)),
    close() {},
  };
}
