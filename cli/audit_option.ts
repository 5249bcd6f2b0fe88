/**
 * `--audit-file PATH` and `--audit-fd N` for `run`.
 *
 * @module
 */

import { auditToFd, auditToFile, NO_AUDIT } from "../audit/audit.ts";
import { UsageError } from "./exit_codes.ts";

/** The audit sink the options name (none by default). */
export function openAudit(
  values: { "audit-file"?: string; "audit-fd"?: string },
) {
  if (values["audit-file"] !== undefined && values["audit-fd"] !== undefined) {
    throw new UsageError("use --audit-file or --audit-fd, not both", "run");
  }
  if (values["audit-file"] !== undefined) {
    return auditToFile(values["audit-file"]);
  }
  if (values["audit-fd"] !== undefined) {
    const fd = values["audit-fd"];
    if (!/^\d+$/.test(fd)) {
      throw new UsageError(
        `--audit-fd takes a file descriptor number, got "${fd}"`,
        "run",
      );
    }
    try {
      Deno.statSync(`/proc/self/fd/${fd}`);
    } catch {
      throw new UsageError(
        `--audit-fd ${fd}: no such open file descriptor`,
        "run",
      );
    }
    return auditToFd(Number(fd));
  }
  return NO_AUDIT;
}
