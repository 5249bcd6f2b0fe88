/**
 * GitHub Actions output: workflow-command annotations (`::error …::`,
 * `::warning …::`) for `lint` and degraded runs, and a Markdown section in
 * `$GITHUB_STEP_SUMMARY` for each run. Used when `GITHUB_ACTIONS=true` or
 * `--format github`; plain terminal output is unchanged otherwise.
 *
 * @module
 */

import type { AuditSink } from "../audit/audit.ts";
import { type Diagnostic, formatDiagnostic } from "../policy/diagnostic.ts";
import type { Source } from "../policy/diagnostic.ts";
import { formatKeyPath } from "../policy/locate.ts";
import type { SandboxPlan } from "../sandbox/run.ts";
import {
  type Denial as ExplainedDenial,
  denialTarget,
  operationLabel,
  SHOWN_DENIALS,
} from "../observe/explain.ts";
import { degradedWarning } from "../sandbox/report.ts";
import { UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";

/** How findings are printed. */
export type OutputFormat = "plain" | "github";

/**
 * The format `--format` names, else `github` when running in GitHub
 * Actions (`GITHUB_ACTIONS=true`), else `plain`.
 */
export function outputFormat(
  option: string | undefined,
  command: string,
): OutputFormat {
  if (option === undefined) {
    return Deno.env.get("GITHUB_ACTIONS") === "true" ? "github" : "plain";
  }
  if (option !== "plain" && option !== "github") {
    throw new UsageError(
      `--format takes plain or github, got "${option}"`,
      command,
    );
  }
  return option;
}

/** A workflow command's message: `%`, CR and LF escaped. */
function escapeData(s: string): string {
  return s.replaceAll("%", "%25").replaceAll("\r", "%0D").replaceAll(
    "\n",
    "%0A",
  );
}

/** A workflow command's property value: also `:` and `,` escaped. */
function escapeProperty(s: string): string {
  return escapeData(s).replaceAll(":", "%3A").replaceAll(",", "%2C");
}

/** `::error file=F,line=L,col=C::message` (properties only when known). */
export function annotation(
  level: "error" | "warning" | "notice",
  message: string,
  where: { file?: string; line?: number; col?: number; title?: string } = {},
): string {
  const props = [
    where.file !== undefined ? `file=${escapeProperty(where.file)}` : "",
    where.line !== undefined ? `line=${where.line}` : "",
    where.col !== undefined ? `col=${where.col}` : "",
    where.title !== undefined ? `title=${escapeProperty(where.title)}` : "",
  ].filter(Boolean).join(",");
  return `::${level}${props ? ` ${props}` : ""}::${escapeData(message)}`;
}

/**
 * The 1-based column of the key on `line` of `text`: its first character
 * that is not blank (the locator places keys by line only).
 */
export function keyColumn(text: string, line: number): number | undefined {
  const l = text.split("\n")[line - 1];
  if (l === undefined) return undefined;
  const col = l.search(/\S/);
  return col < 0 ? undefined : col + 1;
}

/**
 * A file as annotations name it: relative to `$GITHUB_WORKSPACE` when it
 * lies beneath it, so GitHub can attach the annotation to the file.
 */
export function annotationFile(path: string): string {
  const workspace = Deno.env.get("GITHUB_WORKSPACE")?.replace(/\/+$/, "");
  return workspace && path.startsWith(`${workspace}/`)
    ? path.slice(workspace.length + 1)
    : path;
}

/**
 * One lint finding as an annotation on `file` (the policy file, when the
 * policy is one; a named policy gets no file).
 */
export function diagnosticAnnotation(
  source: Source,
  d: Diagnostic,
  file: string | undefined,
): string {
  const key = formatKeyPath(d.path);
  const message = `${key ? `${key}: ` : ""}${d.message}`;
  const col = d.column ??
    (d.line !== undefined ? keyColumn(source.text, d.line) : undefined);
  return annotation(d.severity, file ? message : `${source.name}: ${message}`, {
    file: file === undefined ? undefined : annotationFile(file),
    line: file ? d.line : undefined,
    col: file ? col : undefined,
    title: "landlockd lint",
  });
}

/** Prints one lint finding: plain on stderr, or an annotation on stdout. */
export function printDiagnostic(
  format: OutputFormat,
  source: Source,
  d: Diagnostic,
  file: string | undefined,
): void {
  if (d.source) { // about a policy this one extends
    source = d.source;
    const loc = d.source.location;
    file = loc && !/^[a-z]+:/.test(loc) ? loc : undefined;
  }
  if (format === "github") console.log(diagnosticAnnotation(source, d, file));
  else console.error(formatDiagnostic(source, d));
}

/**
 * `run --explain` under GitHub Actions: one `::error` annotation per
 * distinct denial, at most `shown` (as many as the report's blocks), then
 * one `::warning` counting the rest. Every string from the run (paths,
 * hosts, reasons) is escaped: it cannot end the line or add a property.
 * The annotation is placed on the refusing section's line when the policy
 * is a file.
 */
export function denialAnnotations(
  denials: readonly ExplainedDenial[],
  omitted = 0,
  shown = SHOWN_DENIALS,
): string[] {
  const out = denials.slice(0, shown).map((d) => {
    const section = d.section === "net"
      ? d.op === "proxy"
        ? "[net] allow_hosts"
        : d.op === "udp"
        ? "[net] udp"
        : "[net]"
      : d.section;
    const why = d.reason ?? `missing ${d.missing.join(", ")}`;
    const times = d.count === 1 ? "once" : `${d.count} times`;
    const m = d.origin ? /^([^"]+):(\d+)$/.exec(d.origin) : null;
    return annotation(
      "error",
      `${denialTarget(d)} (${d.syscall}, ${times}): refused by ${section}${
        d.origin ? ` at ${d.origin}` : ""
      }: ${why}
to allow it, add:
${d.fix}`,
      {
        ...(m ? { file: annotationFile(m[1]), line: Number(m[2]) } : {}),
        title: `landlockd denied ${operationLabel(d.op)}`,
      },
    );
  });
  const more = denials.length - out.length + omitted;
  if (more > 0) {
    out.push(
      annotation(
        "warning",
        `${more} more distinct denials not annotated (see the --explain report on stderr)`,
        { title: "landlockd denied" },
      ),
    );
  }
  return out;
}

/** A broker decision the run's summary lists. */
interface Denial {
  syscall: string;
  path?: string;
  operation?: string;
}

const MAX_DENIALS_SHOWN = 20;

/** A Markdown table cell: no pipes or newlines, code spans kept closed. */
function cell(s: string): string {
  return s.replaceAll("\\", "\\\\").replaceAll("|", "\\|").replaceAll(
    /[\r\n]+/g,
    " ",
  ).replaceAll("`", "'");
}

/** The run's section of the job summary. */
export function runSummary(r: {
  policy: string;
  plan?: SandboxPlan;
  exitCode: number;
  durationMs: number;
  failure?: string;
  denials: readonly Denial[];
  brokered: boolean;
}): string {
  const ll = r.plan?.landlock;
  const enforcement = !r.plan
    ? "not started"
    : `${ll!.status.replaceAll("_", " ")} (Landlock ABI ${ll!.abi}${
      ll!.dropped.length
        ? `; dropped: ${
          ll!.dropped.map((d) => `${d.key} ${d.right}`).join(", ")
        }`
        : ""
    })`;
  const denials = r.denials.length
    ? `${r.denials.length} by the broker`
    : r.brokered
    ? "none by the broker"
    : "none known (Landlock does not report its denials to landlockd)";
  const rows = [
    ["Policy", r.policy],
    ["Enforcement", enforcement],
    ["Exit status", String(r.exitCode)],
    ["Duration", `${(r.durationMs / 1000).toFixed(2)} s`],
    ["Denials", denials],
    ...(r.failure ? [["Error", r.failure]] : []),
  ];
  const out = [
    "### landlockd run",
    "",
    "| | |",
    "| --- | --- |",
    ...rows.map(([k, v]) => `| ${k} | ${cell(v)} |`),
    "",
  ];
  if (r.denials.length) {
    out.push(
      ...r.denials.slice(0, MAX_DENIALS_SHOWN).map((d) =>
        `- \`${cell(d.syscall)}\`${d.operation ? ` ${cell(d.operation)}` : ""}${
          d.path ? ` \`${cell(d.path)}\`` : ""
        }`
      ),
    );
    if (r.denials.length > MAX_DENIALS_SHOWN) {
      out.push(`- … and ${r.denials.length - MAX_DENIALS_SHOWN} more`);
    }
    out.push("");
  }
  return out.join("\n") + "\n";
}

/**
 * What a direct run reports to GitHub Actions: the degraded-run warning as
 * an annotation, broker denials seen through the audit sink, and the job
 * summary section when `$GITHUB_STEP_SUMMARY` is set. Outside GitHub
 * Actions it prints the plain warning and writes no summary.
 */
export class RunReporter {
  readonly #started = performance.now();
  readonly #format: OutputFormat;
  readonly #denials: Denial[] = [];
  #plan?: SandboxPlan;

  constructor(readonly source: Source, format?: OutputFormat) {
    this.#format = format ?? outputFormat(undefined, "run");
  }

  /** Prints the warning for a degraded plan, in this run's format. */
  planned(plan: SandboxPlan): void {
    this.#plan = plan;
    const warning = degradedWarning(plan);
    if (!warning) return;
    if (this.#format === "github") {
      console.log(
        annotation("warning", warning.replace(/^warning: /, ""), {
          title: "landlockd run",
        }),
      );
    } else printError(warning);
  }

  /** `sink`, noting the broker's denials on the way. */
  audit(sink: AuditSink): AuditSink {
    return {
      emit: (component, event, fields) => {
        if (component === "broker" && fields.decision === "deny") {
          this.#denials.push({
            syscall: String(fields.syscall),
            operation: fields.operation as string | undefined,
            path: fields.path as string | undefined,
          });
        }
        sink.emit(component, event, fields);
      },
      close: () => sink.close(),
      ...(sink.target ? { target: sink.target } : {}),
    };
  }

  /** Under GitHub Actions, the --explain denials as annotations. */
  denied(denials: readonly ExplainedDenial[], omitted = 0): void {
    if (this.#format !== "github") return;
    for (const a of denialAnnotations(denials, omitted)) console.log(a);
  }

  /** Appends the summary section, if there is a summary file. */
  finished(exitCode: number, failure?: string): void {
    const path = Deno.env.get("GITHUB_STEP_SUMMARY");
    if (!path) return;
    const text = runSummary({
      policy: this.source.name,
      plan: this.#plan,
      exitCode,
      durationMs: performance.now() - this.#started,
      failure,
      denials: this.#denials,
      brokered: this.#plan?.broker !== undefined,
    });
    try {
      Deno.writeTextFileSync(path, text, { append: true });
    } catch (e) {
      printError(
        `Cannot append to GITHUB_STEP_SUMMARY "${path}": ${
          (e as Error).message
        }`,
      );
    }
  }
}
