/**
 * The `--policy NAME | --policy-file PATH` pair shared by run and lint.
 *
 * @module
 */

import type { Source } from "../policy/diagnostic.ts";
import { readNamedPolicy, readPolicyFile } from "../policy/source.ts";
import { UsageError } from "./exit_codes.ts";

/** Reads the policy named by --policy or --policy-file. */
export function readPolicyOption(
  values: { policy?: string; "policy-file"?: string },
  command: string,
): Source {
  const { policy, "policy-file": file } = values;
  if (policy !== undefined && file !== undefined) {
    throw new UsageError("use --policy or --policy-file, not both", command);
  }
  if (file !== undefined) return readPolicyFile(file);
  if (policy !== undefined) return readNamedPolicy(policy);
  throw new UsageError(
    "a policy is needed: --policy NAME or --policy-file PATH",
    command,
  );
}
