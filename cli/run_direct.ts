/**
 * `landlockd run` without a daemon: load the policy, run or print the plan.
 * Loaded only then, so `run --socket` starts without these modules.
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import { type AuditSink, NO_AUDIT } from "../audit/audit.ts";
import { openSymbolsFor } from "../syscalls/sys.ts";
import { makeNonDumpable } from "../syscalls/dumpable.ts";
import type { Source } from "../policy/diagnostic.ts";
import { loadPolicy } from "../policy/load.ts";
import { loadedFrom, ruleOrigins } from "../policy/origins.ts";
import { sourceFile } from "../policy/source.ts";
import type { Policy } from "../policy/schema.ts";
import { fitRuleToTarget } from "../policy/plan.ts";
import { ruleTargetKind } from "../sandbox/landlock.ts";
import {
  executableCandidates,
  planSandbox,
  runPlanned,
  type SandboxPlan,
} from "../sandbox/run.ts";
import {
  type CommandResolution,
  resolveCommand,
  skippedWarnings,
} from "../sandbox/command_path.ts";
import { cwdWarnings } from "../sandbox/cwd_check.ts";
import { runFailure } from "../sandbox/report.ts";
import { refuseSelfWrite } from "../sandbox/self_write.ts";
import { openAudit } from "./audit_option.ts";
import { EXIT } from "./exit_codes.ts";
import { failureStatus } from "../exit_status.ts";
import { outputFormat, RunReporter } from "./github.ts";
import { printError, stableJson } from "./output.ts";

async function dryRunReport(
  source: Source,
  plan: SandboxPlan,
  argv: string[],
  policy: Policy,
  executable: CommandResolution | undefined,
): Promise<string> {
  // A merged policy (extends) shows where each layer and rule was written.
  const origins = ruleOrigins(policy);
  const describeBroker = plan.broker
    ? (await lazyImport<typeof import("../broker/plan.ts")>(
      "../broker/plan.ts",
      import.meta.url,
    )).describeBroker
    : undefined;
  const layers = plan.landlock.layers.map((layer) => ({
    ...layer,
    path_beneath: layer.path_beneath.map((planned) => {
      const kind = ruleTargetKind(planned);
      const origin = origins?.[planned.key];
      const from = origin ? { origin } : {};
      if (kind === "missing") return { ...planned, target: kind, ...from };
      const { rule, ignored } = fitRuleToTarget(planned, kind);
      return {
        ...rule,
        target: kind,
        ...(ignored.length ? { ignored } : {}),
        ...from,
      };
    }),
  }));
  return stableJson({
    policy: source.name,
    ...(origins
      ? { extends: loadedFrom(policy).slice(1).map((s) => s.name), origins }
      : {}),
    command: argv,
    ...(executable ? { executable } : {}),
    ...(plan.env ? { env: plan.env } : {}),
    ...(plan.egress
      ? {
        egress: {
          allow_hosts: plan.egress.allow_hosts,
          proxy:
            "127.0.0.1, a port chosen when the run starts (port 0 in the plan)",
        },
      }
      : {}),
    seccomp: plan.seccomp,
    ...(plan.capabilities_dropped.length
      ? { capabilities_dropped: plan.capabilities_dropped }
      : {}),
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
      ...(plan.landlock.stricter.length
        ? { stricter: plan.landlock.stricter }
        : {}),
      ...(plan.implied.length ? { implied: plan.implied } : {}),
      layers,
    },
  });
}

/** cli/explain.ts, loaded only for --explain or a failed run's hint. */
function explainModule() {
  return lazyImport<typeof import("./explain.ts")>(
    "./explain.ts",
    import.meta.url,
  );
}

/** Runs `command` under the policy here, or prints its plan; the exit code. */
export async function runDirect(
  values: {
    "dry-run"?: boolean;
    explain?: boolean;
    "audit-file"?: string;
    "audit-fd"?: string;
    format?: string;
  },
  source: Source,
  command: string[],
): Promise<number> {
  // The library now, with the functions every run calls bound in one
  // dlopen (one each on first use costs a few milliseconds).
  if (!values["dry-run"]) {
    openSymbolsFor("run");
    // Before anything starts: the command must not read landlockd's
    // environment or memory through /proc (see syscalls/dumpable.ts).
    makeNonDumpable();
  }
  let audit: AuditSink = NO_AUDIT;
  // Kept for --explain's report of a command that could not be executed.
  let explained: { policy: Policy; plan: SandboxPlan } | undefined;
  const report = new RunReporter(source, outputFormat(values.format, "run"));
  try {
    const policy = await loadPolicy(source);
    const plan = await planSandbox(policy);
    // A PATH candidate the policy denies is skipped by the child: say so.
    const executable = command.length && !plan.mounts?.root
      ? resolveCommand(
        plan.landlock,
        executableCandidates({ argv: command, path: Deno.env.get("PATH") }),
      )
      : undefined;
    if (executable) skippedWarnings(executable).forEach(printError);
    if (values["dry-run"]) {
      cwdWarnings(plan, Deno.cwd()).forEach(printError);
      console.log(
        await dryRunReport(source, plan, command, policy, executable),
      );
      return EXIT.OK;
    }
    refuseSelfWrite(
      policy,
      plan,
      sourceFile(source),
      loadedFrom(policy).flatMap((s) => sourceFile(s) ?? []),
    );
    report.planned(plan);
    audit = report.audit(openAudit(values));
    if (values.explain) explained = { policy, plan };
    const explain = values.explain ? await explainModule() : undefined;
    const observe = explain?.explainObserve();
    const result = await runPlanned(
      plan,
      { argv: command, path: Deno.env.get("PATH") },
      audit,
      source.name,
      observe ? { observe } : {},
    );
    if (explain && result.accesses) {
      const denials = explain.explainDenials(
        result.accesses,
        result.landlock ?? plan.landlock,
        explain.sectionOrigin(source, policy),
        result.proxy,
      );
      explain.reportDenials(denials, result.accesses, audit);
      explain.reportDroppedCapabilities(plan.capabilities_dropped);
      report.denied(denials, result.accesses.dropped);
    } else if (
      !values.explain && result.exitCode !== 0 &&
      plan.landlock.layers.length && Deno.stderr.isTerminal()
    ) {
      (await explainModule()).explainHint(plan.landlock, result.exitCode);
    }
    report.finished(result.exitCode);
    return result.exitCode;
  } catch (e) {
    const failure = runFailure(e, source);
    if (!failure) throw e;
    const status = failureStatus(failure.kind);
    printError(failure.message);
    if (explained) {
      const explain = await explainModule();
      const denials = explain.explainExecFailure(
        e,
        explained.plan.landlock,
        executableCandidates({ argv: command, path: Deno.env.get("PATH") }),
        explain.sectionOrigin(source, explained.policy),
        audit,
      );
      report.denied(denials);
    }
    report.finished(status, failure.message);
    return status;
  } finally {
    audit.close();
  }
}
