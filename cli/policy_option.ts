/**
 * Where a command's policy comes from: `--policy NAME`, `--policy-file PATH`
 * or (for run) `--oci-config CONFIG.json`.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import { formatDiagnostic, type Source } from "../policy/diagnostic.ts";
import {
  readNamedPolicy,
  readPolicyFile,
  shadowWarning,
} from "../policy/source.ts";
import { printError } from "./output.ts";
import { UsageError } from "./exit_codes.ts";

/** Thrown when an OCI config cannot be turned into a policy. */
export class OciConfigError extends Error {
  override name = "OciConfigError";
}

/**
 * Reads the one policy the options name; `missing` as for
 * {@link readNamedPolicy}.
 */
export async function readPolicyOption(
  values: { policy?: string; "policy-file"?: string; "oci-config"?: string },
  command: string,
  missing?: (path: string) => boolean,
): Promise<Source> {
  const { policy, "policy-file": file, "oci-config": oci } = values;
  const given = [policy, file, oci].filter((v) => v !== undefined).length;
  if (given > 1) {
    throw new UsageError(
      "use one of --policy, --policy-file and --oci-config",
      command,
    );
  }
  if (file !== undefined) return readPolicyFile(file);
  if (policy !== undefined) {
    const named = readNamedPolicy(policy, missing);
    if (named.shadows.length) printError(shadowWarning(policy, named));
    return named;
  }
  if (oci !== undefined) return await ociSource(oci);
  throw new UsageError(
    "a policy is needed: --policy NAME or --policy-file PATH",
    command,
  );
}

async function ociSource(path: string): Promise<Source> {
  const config = readPolicyFile(path); // same read errors as a policy file
  // Computed specifiers keep zod out of start-up (see main.ts).
  const { policyFromOci } = await lazyImport<typeof import("../oci/oci.ts")>(
    "../oci/oci.ts",
    import.meta.url,
  );
  const { policyToToml } = await lazyImport<
    typeof import("../policy/toml_out.ts")
  >("../policy/toml_out.ts", import.meta.url);
  const result = policyFromOci(config.text);
  if (Array.isArray(result)) {
    throw new OciConfigError(
      result.map((d) => formatDiagnostic({ name: path, text: "" }, d)).join(
        "\n",
      ),
    );
  }
  return {
    name: `${path} (process.landlock)`,
    location: path,
    text: policyToToml(result.document, result.notes),
  };
}
