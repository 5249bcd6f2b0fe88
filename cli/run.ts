/**
 * `landlockd run`: parse options and the policy's source, then run here
 * (cli/run_direct.ts) or through a daemon (cli/remote_run.ts). Each is
 * loaded only when used.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import type { Source } from "../policy/diagnostic.ts";
import { readPolicyOption } from "./policy_option.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";
import { pathMissing } from "../syscalls/sys.ts";
import { openAudit } from "./audit_option.ts";
import { openAuditFile } from "../audit/audit.ts";
import { mayExtend } from "../policy/origins.ts";
import { ALLOW_HELP, ALLOW_OPTIONS, allowFlagsPolicy } from "./allow_flags.ts";
import {
  readNamedPolicy,
  readPolicyFile,
  sourceFile,
} from "../policy/source.ts";

const OPTIONS = {
  policy: { type: "string" },
  "policy-file": { type: "string" },
  "oci-config": { type: "string" },
  "dry-run": { type: "boolean" },
  "audit-file": { type: "string" },
  "audit-fd": { type: "string" },
  socket: { type: "string" },
  format: { type: "string" },
  explain: { type: "boolean" },
  help: { type: "boolean", short: "h" },
  ...ALLOW_OPTIONS,
} as const satisfies OptionSpecs;

export const HELP =
  `Usage: landlockd run (--policy NAME | --policy-file PATH) [options] [--] COMMAND [ARG...]
       landlockd run --allow-exec /usr [--allow-* ...] [options] [--] COMMAND [ARG...]

Run COMMAND under a policy. Its stdin, stdout, stderr, environment and
working directory are landlockd's own; landlockd exits with its status.

Options:
  --policy NAME        a named policy: LANDLOCKD_POLICY_PATH, then
                       $XDG_CONFIG_HOME/landlockd/policies, /etc/landlockd/policies,
                       then the starter policies
  --policy-file PATH   a policy file
  --oci-config FILE    the process.landlock object of an OCI config.json
  --dry-run            print the plan for this kernel as JSON; run nothing
  --audit-file PATH    append JSON audit events to PATH
  --audit-fd N         write JSON audit events to file descriptor N
  --socket PATH        run through the daemon listening on PATH (landlockd
                       serve): same policy, stdio, exit status and signals;
                       the policy is read here and sent, and audit events
                       go to --audit-file/--audit-fd as well as the daemon's
                       (--dry-run is still planned here, on the same kernel)
  --explain            after the command exits, say on stderr which accesses
                       Landlock denied it (operation, path or port, missing
                       rights, the refusing [[fs_layer]] or [net] and its
                       line) with a rule to paste; also as audit events
                       (docs/explain.md). Never grants anything
  --format plain|github
                       github: a degraded run's warning is a GitHub Actions
                       annotation (the default when GITHUB_ACTIONS=true)
${ALLOW_HELP}
  -h, --help           show this help

Exit status: COMMAND's own; 128+N if it died of signal N; 126 cannot execute;
127 not found; 125 landlockd's own failure: a usage, policy or set-up error,
a broker failure that ended the sandbox, or (--socket) the daemon cannot be
reached, refused the run, or went away during it.
`;

/** The policy --policy or --policy-file names (the base --allow-* widen). */
function readPolicyFlag(values: { policy?: string; "policy-file"?: string }) {
  if (values.policy !== undefined && values["policy-file"] !== undefined) {
    throw new UsageError("use one of --policy and --policy-file", "run");
  }
  return values["policy-file"] !== undefined
    ? readPolicyFile(values["policy-file"])
    : values.policy !== undefined
    ? readNamedPolicy(values.policy)
    : undefined;
}

/** `run --socket`: the daemon runs it; loaded only then. */
async function remote(
  values: {
    socket?: string;
    "audit-file"?: string;
    "audit-fd"?: string;
    explain?: boolean;
    format?: string;
  },
  source: Source,
  command: string[],
  policyFiles: string[],
): Promise<number> {
  const github = values.explain === true &&
    (await lazyImport<typeof import("./github.ts")>(
        "./github.ts",
        import.meta.url,
      )).outputFormat(values.format, "run") === "github";
  if (values["audit-file"] !== undefined && values["audit-fd"] !== undefined) {
    throw new UsageError("use --audit-file or --audit-fd, not both", "run");
  }
  const { runRemote } = await lazyImport<typeof import("./remote_run.ts")>(
    "./remote_run.ts",
    import.meta.url,
  );
  let auditFd = -1;
  if (values["audit-fd"] !== undefined) {
    openAudit(values).close(); // the same checks as a direct run
    auditFd = Number(values["audit-fd"]);
  } else if (values["audit-file"] !== undefined) {
    try {
      auditFd = openAuditFile(values["audit-file"]);
    } catch (e) {
      printError((e as Error).message);
      return EXIT.POLICY;
    }
  }
  return await runRemote(source, command, {
    socket: values.socket!,
    policyFiles,
    auditFd,
    explain: values.explain === true,
    github,
  });
}

/** `landlockd run`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values, rest: command } = parseOptions("run", args, OPTIONS, {
    command: true,
  });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  const source = allowFlagsPolicy(values, () => readPolicyFlag(values)) ??
    // A search-path file that is not there is told without a thrown error
    // (pathMissing): the C library is mapped already (main.ts).
    await readPolicyOption(values, "run", pathMissing);
  if (command.length === 0 && !values["dry-run"]) {
    throw new UsageError(
      "no command given: landlockd run --policy NAME -- COMMAND",
      "run",
    );
  }

  if (command[0] === "") {
    printError('cannot run "": the command name is empty');
    return EXIT.NOT_FOUND;
  }

  if (values.socket !== undefined && !values["dry-run"]) {
    // ${PWD} is the working directory, as in a direct run (the client's
    // environment is what the daemon expands against).
    try {
      Deno.env.set("PWD", Deno.cwd());
    } catch {
      // the working directory was removed: ${PWD} stays as the shell set it
    }
    // The daemon reads no files for a client: send it the merged policy,
    // and the files it came from (a later run trusts them: the daemon
    // refuses a plan that could write them).
    const flatten = mayExtend(source.text)
      ? await lazyImport<typeof import("../policy/flatten.ts")>(
        "../policy/flatten.ts",
        import.meta.url,
      )
      : undefined;
    const sent = flatten ? flatten.flattenPolicy(source) : source;
    const files = (flatten
      ? flatten.policySourceFiles(source)
      : source.location === undefined
      ? []
      : [source.location]).flatMap((location) =>
        sourceFile({ name: "", text: "", location }) ?? []
      );
    return await remote(values, sent, command, files);
  }
  const { runDirect } = await lazyImport<typeof import("./run_direct.ts")>(
    "./run_direct.ts",
    import.meta.url,
  );
  return await runDirect(values, source, command);
}
