/**
 * `landlockd run`: parse options, load the policy, run or print the plan.
 *
 * @module
 */

import {
  type AuditSink,
  auditToFd,
  auditToFile,
  NO_AUDIT,
} from "../audit/audit.ts";
import type { Source } from "../policy/diagnostic.ts";
import { readPolicyOption } from "./policy_option.ts";
import { loadPolicy } from "../policy/load.ts";
import { fitRuleToTarget } from "../policy/plan.ts";
import { ruleTargetKind } from "../sandbox/landlock.ts";
import { planSandbox, runPlanned, type SandboxPlan } from "../sandbox/run.ts";
import { degradedWarning, runFailure } from "../sandbox/report.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { printError, stableJson } from "./output.ts";

const OPTIONS = {
  policy: { type: "string" },
  "policy-file": { type: "string" },
  "oci-config": { type: "string" },
  "dry-run": { type: "boolean" },
  "audit-file": { type: "string" },
  "audit-fd": { type: "string" },
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

export const HELP =
  `Usage: landlockd run (--policy NAME | --policy-file PATH) [options] [--] COMMAND [ARG...]

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
  -h, --help           show this help

Exit status: COMMAND's own; 128+N if it died of signal N; 126 cannot execute;
127 not found; 1 policy or set-up error; 2 usage error; 3 (--socket) the
daemon cannot be reached, refused the run, or went away during it.
`;

function openAudit(values: { "audit-file"?: string; "audit-fd"?: string }) {
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

async function dryRunReport(
  source: Source,
  plan: SandboxPlan,
  argv: string[],
): Promise<string> {
  const describeBroker = plan.broker
    ? (await import(
      new URL("../broker/plan.ts", import.meta.url).href
    ) as typeof import("../broker/plan.ts")).describeBroker
    : undefined;
  const layers = plan.landlock.layers.map((layer) => ({
    ...layer,
    path_beneath: layer.path_beneath.map((planned) => {
      const kind = ruleTargetKind(planned);
      if (kind === "missing") return { ...planned, target: kind };
      const { rule, ignored } = fitRuleToTarget(planned, kind);
      return { ...rule, target: kind, ...(ignored.length ? { ignored } : {}) };
    }),
  }));
  return stableJson({
    policy: source.name,
    command: argv,
    seccomp: plan.seccomp,
    ...(plan.mounts
      ? {
        mounts: {
          namespaces: plan.mounts.namespaces,
          root: plan.mounts.root,
          cwd: plan.mounts.cwd,
          mounts: plan.mounts.mounts.map((m) => ({ ...m, key: undefined })),
        },
      }
      : {}),
    ...(plan.broker && describeBroker
      ? { broker: describeBroker(plan.broker) }
      : {}),
    landlock: {
      abi: plan.support.abi,
      kernel_abi: plan.support.kernel_abi,
      ...(plan.support.reason ? { note: plan.support.reason } : {}),
      compat: plan.landlock.compat,
      status: plan.landlock.status,
      dropped: plan.landlock.dropped,
      layers,
    },
  });
}

/** `run --socket`: the daemon runs it; loaded only then. */
async function remote(
  values: { socket?: string; "audit-file"?: string; "audit-fd"?: string },
  source: Source,
  command: string[],
): Promise<number> {
  if (values["audit-file"] !== undefined && values["audit-fd"] !== undefined) {
    throw new UsageError("use --audit-file or --audit-fd, not both", "run");
  }
  const [{ runRemote }, { openAuditFile }] = await Promise.all([
    import(new URL("../daemon/remote_run.ts", import.meta.url).href) as Promise<
      typeof import("../daemon/remote_run.ts")
    >,
    import(new URL("../daemon/audit.ts", import.meta.url).href) as Promise<
      typeof import("../daemon/audit.ts")
    >,
  ]);
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
    auditFd,
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
  const source = await readPolicyOption(values, "run");
  if (command.length === 0 && !values["dry-run"]) {
    throw new UsageError(
      "no command given: landlockd run --policy NAME -- COMMAND",
      "run",
    );
  }

  if (values.socket !== undefined && !values["dry-run"]) {
    return await remote(values, source, command);
  }
  let audit: AuditSink = NO_AUDIT;
  try {
    const policy = await loadPolicy(source);
    const plan = await planSandbox(policy);
    if (values["dry-run"]) {
      console.log(await dryRunReport(source, plan, command));
      return EXIT.OK;
    }
    const warning = degradedWarning(plan);
    if (warning) printError(warning);
    audit = openAudit(values);
    const result = await runPlanned(
      plan,
      { argv: command, path: Deno.env.get("PATH") },
      audit,
      source.name,
    );
    return result.exitCode;
  } catch (e) {
    const failure = runFailure(e, source);
    if (!failure) throw e;
    printError(failure.message);
    return failure.exitCode;
  } finally {
    audit.close();
  }
}
