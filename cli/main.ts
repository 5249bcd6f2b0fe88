/**
 * landlockd's command line: parses the command name and dispatches.
 * Each command lives in `cli/` and is loaded only when it runs. main.ts
 * loads this module, from the sources or (for `run`) from the bundle.
 *
 * @module
 */

import { EXIT, outcomeOf, UsageError } from "./exit_codes.ts";
import { checkEnvironment } from "../env.ts";
import { lazyImport } from "../lazy_import.ts";
import { printError } from "./output.ts";
import { VERSION } from "../version.ts";

const HELP =
  `landlockd ${VERSION}: a policy-first Linux sandbox (Landlock + seccomp)

Usage: landlockd COMMAND [OPTIONS]

Commands:
  run     run a command under a policy (directly, or --socket: by a daemon)
  learn   run a command unrestricted, then write the policy it needs
  lint    check a policy
  abi     show what this kernel supports
  policy  show and list named policies; derive one: from-oci, from-pod
  k8s     inject landlockd into Kubernetes manifests
  serve   the daemon: runs commands for clients on a Unix socket
  status  show a daemon's state as JSON
  stop    stop a daemon

Run "landlockd COMMAND --help" for a command's options.
Options: -h, --help; -V, --version
`;

type Command = (args: string[]) => number | Promise<number>;

/**
 * Command modules, loaded only when run. The specifiers are computed, not
 * literal: Deno loads every literal dynamic import at start-up, which would
 * put zod, yaml and every command into `run`'s start (deno.json's compile
 * task includes these modules explicitly).
 */
const COMMANDS = [
  "run",
  "learn",
  "lint",
  "abi",
  "policy",
  "k8s",
  "serve",
  "status",
  "stop",
];

function loadCommand(name: string): Promise<{ main: Command }> {
  // `run` by a literal specifier, which cli/bundle.ts follows into the
  // bundle; main.ts uses the bundle for `run` only.
  return name === "run"
    ? lazyImport<typeof import("./run.ts")>("./run.ts", import.meta.url)
    : lazyImport(`./${name}.ts`, import.meta.url);
}

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
  if (!COMMANDS.includes(name)) {
    throw new UsageError(`unknown command "${name}"`, "");
  }
  checkEnvironment();
  return await (await loadCommand(name)).main(rest);
}

/** Runs the command line `args`; returns landlockd's exit status. */
export async function main(args: string[]): Promise<number> {
  try {
    return await dispatch(args);
  } catch (e) {
    const out = outcomeOf(e);
    if (out.show === "usage") {
      const { command, message } = out.error;
      const cmd = command ? `${command} ` : "";
      printError(`${command ? `${command}: ` : ""}${message}`);
      printError(`see "landlockd ${cmd}--help"`);
    } else if (out.show === "message") {
      printError(out.error.message);
    } else {
      // A bug: the stack helps; the status must still say "landlockd
      // failed", not look like the command's own (Deno exits 1 on an
      // uncaught error).
      console.error(out.error);
    }
    return out.status;
  }
}
