/**
 * `landlockd run` without a daemon: load the policy, run or print the plan.
 * Loaded only then, so `run --socket` starts without these modules.
 *
 * @module
 */

import { type AuditSink, NO_AUDIT } from "../audit/audit.ts";
import { library } from "../ffi/mod.ts";
import type { Source } from "../policy/diagnostic.ts";
import { loadPolicy } from "../policy/load.ts";
import { fitRuleToTarget } from "../policy/plan.ts";
import { ruleTargetKind } from "../sandbox/landlock.ts";
import { planSandbox, runPlanned, type SandboxPlan } from "../sandbox/run.ts";
import { degradedWarning, runFailure } from "../sandbox/report.ts";
import { openAudit } from "./audit_option.ts";
import { EXIT } from "./exit_codes.ts";
import { printError, stableJson } from "./output.ts";

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
      ...(plan.landlock.stricter.length
        ? { stricter: plan.landlock.stricter }
        : {}),
      ...(plan.implied.length ? { implied: plan.implied } : {}),
      layers,
    },
  });
}

/** Runs `command` under the policy here, or prints its plan; the exit code. */
export async function runDirect(
  values: { "dry-run"?: boolean; "audit-file"?: string; "audit-fd"?: string },
  source: Source,
  command: string[],
): Promise<number> {
  // The whole library now, so the first raw syscall does not open the
  // smaller core table first (two dlopens cost a few milliseconds).
  if (!values["dry-run"]) library();
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
