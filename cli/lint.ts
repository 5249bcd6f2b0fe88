/**
 * `landlockd lint`: list every error and warning in a policy.
 *
 * @module
 */

import { locate } from "../policy/diagnostic.ts";
import { lintPolicy } from "../policy/lint.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT } from "./exit_codes.ts";
import { outputFormat, printDiagnostic } from "./github.ts";
import { readPolicyOption } from "./policy_option.ts";

const OPTIONS = {
  policy: { type: "string" },
  "policy-file": { type: "string" },
  format: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

export const HELP =
  `Usage: landlockd lint (--policy NAME | --policy-file PATH) [--format plain|github]

Check a policy: TOML syntax, keys, rights, ports, rule paths, and warnings
for rules that can never matter.

--format github prints each finding as a GitHub Actions annotation
(::error file=…,line=…,col=…::message) on stdout; it is the default when
GITHUB_ACTIONS=true.

Exit status: 0 valid (warnings allowed), 1 invalid, 125 usage error.
`;

/** `landlockd lint`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseOptions("lint", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  const format = outputFormat(values.format, "lint");
  const source = await readPolicyOption(values, "lint");
  const diags = locate(source, lintPolicy(source));
  for (const d of diags) {
    printDiagnostic(format, source, d, values["policy-file"]);
  }
  const errors = diags.filter((d) => d.severity === "error").length;
  const warnings = diags.length - errors;
  if (errors) {
    console.error(
      `${source.name}: invalid: ${errors} error${errors > 1 ? "s" : ""}${
        warnings ? `, ${warnings} warning${warnings > 1 ? "s" : ""}` : ""
      }`,
    );
    return EXIT.INVALID;
  }
  console.error(
    `${source.name}: valid${
      warnings ? ` with ${warnings} warning${warnings > 1 ? "s" : ""}` : ""
    }`,
  );
  return EXIT.OK;
}
