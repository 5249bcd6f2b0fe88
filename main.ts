/**
 * landlockd's command line: parses the command name and dispatches.
 * Each command lives in `cli/` and is loaded only when it runs.
 *
 * @module
 */

import { EXIT, UsageError } from "./cli/exit_codes.ts";
import { printError } from "./cli/output.ts";
import { VERSION } from "./version.ts";

const HELP =
  `landlockd ${VERSION}: a policy-first Linux sandbox (Landlock + seccomp)

Usage: landlockd COMMAND [OPTIONS]

Commands:
  run     run a command under a policy
  lint    check a policy
  abi     show what this kernel supports
  policy  derive a policy: from-oci (OCI config.json), from-pod (Kubernetes)
  k8s     inject landlockd into Kubernetes manifests

Run "landlockd COMMAND --help" for a command's options.
Options: -h, --help; -V, --version
`;

type Command = (args: string[]) => number | Promise<number>;

const COMMANDS: Record<string, () => Promise<{ main: Command }>> = {
  run: () => import("./cli/run.ts"),
  lint: () => import("./cli/lint.ts"),
  abi: () => import("./cli/abi.ts"),
  policy: () => import("./cli/policy.ts"),
  k8s: () => import("./cli/k8s.ts"),
};

async function dispatch(args: string[]): Promise<number> {
  const [name, ...rest] = args;
  if (
    name === undefined || name === "-h" || name === "--help" || name === "help"
  ) {
    console.log(HELP);
    return name === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (name === "-V" || name === "--version") {
    console.log(`landlockd ${VERSION}`);
    return EXIT.OK;
  }
  const load = COMMANDS[name];
  if (!load) throw new UsageError(`unknown command "${name}"`, "");
  return await (await load()).main(rest);
}

async function main(): Promise<number> {
  try {
    return await dispatch(Deno.args);
  } catch (e) {
    if (e instanceof UsageError) {
      const cmd = e.command ? `${e.command} ` : "";
      printError(`${e.command ? `${e.command}: ` : ""}${e.message}`);
      printError(`see "landlockd ${cmd}--help"`);
      return EXIT.USAGE;
    }
    if (e instanceof Error && e.name !== "Error" && !(e instanceof TypeError)) {
      printError(e.message);
      return EXIT.POLICY;
    }
    throw e;
  }
}

Deno.exit(await main());
