/**
 * `landlockd learn`: runs a command with the access observer, then writes
 * the smallest policy under which it does the same again
 * (observe/learn.ts), checked by lint before it is written.
 *
 * @module
 */

import { NO_AUDIT } from "../audit/audit.ts";
import type { AccessLog } from "../observe/access.ts";
import {
  type LearnBase,
  type LearnedFsRule,
  learnPolicy,
} from "../observe/learn.ts";
import { isBeneath } from "../policy/paths.ts";
import { resolvePlan } from "../observe/verdict.ts";
import { formatDiagnostic, locate, type Source } from "../policy/diagnostic.ts";
import { lintPolicy, statPath } from "../policy/lint.ts";
import { loadPolicy } from "../policy/load.ts";
import { loadedFrom } from "../policy/origins.ts";
import type { Policy } from "../policy/schema.ts";
import {
  readNamedPolicy,
  readPolicyFile,
  sourceFile,
} from "../policy/source.ts";
import { runFailure } from "../sandbox/report.ts";
import { planSandbox, runPlanned, type RunResult } from "../sandbox/run.ts";
import { refuseSelfWrite } from "../sandbox/self_write.ts";
import { signalName } from "../sandbox/signals.ts";
import { makeNonDumpable } from "../syscalls/dumpable.ts";
import type { ExitStatus } from "../syscalls/process.ts";
import { openSymbols } from "../syscalls/sys.ts";
import { failureStatus } from "../exit_status.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";

const OPTIONS = {
  output: { type: "string", short: "o" },
  base: { type: "string" },
  force: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

export const HELP =
  `Usage: landlockd learn [-o FILE] [--base NAME|PATH] [--force] [--] COMMAND [ARG...]

Run COMMAND, record every file it reads, writes, creates, removes, executes
or lists and every TCP port it binds or connects to, then write the smallest
policy under which it does the same again, with a comment on each rule
saying what the command did there. The policy is checked as "landlockd lint"
would before it is written.

COMMAND runs WITHOUT Landlock restrictions (only landlockd's seccomp
baseline), or with --base only under that policy; landlockd says so on
stderr before it starts. Learn only from commands you trust.

Options:
  -o, --output FILE  write the policy to FILE (atomically: a temporary file,
                     then a rename); default: stdout
  --force            replace FILE if it exists
  --base NAME|PATH   run under this policy (a name as for --policy, or a
                     path) and learn only what it does not already allow;
                     the result extends it
  -h, --help         show this help

A run cut short by a signal still writes what it saw, marked as cut short.

Exit status: COMMAND's own (the policy was written); 128+N if it died of
signal N (the policy was written, marked cut short); 126 cannot execute;
127 not found; 125 landlockd's own failure: a usage error, FILE exists
without --force, an invalid base, a failed set-up or write (nothing written).
`;

/**
 * What `path` is now, for learnPolicy. The record holds resolved paths
 * (as the kernel saw them), so a path that is no longer its own real path
 * had a symlink planted on the way during the run (a rename and a symlink
 * past the full record, or raced against the observer): it counts as
 * missing, so no rule names it and its rights go to a directory above.
 * Otherwise the rule would follow the symlink at the next run, to a
 * directory the command never touched.
 */
function probeResolved(path: string) {
  try {
    if (Deno.realPathSync(path) !== path) return "missing" as const;
  } catch {
    return "missing" as const;
  }
  return statPath(path);
}

/** The most distinct accesses one learn run keeps (the record is bounded). */
export const LEARN_RECORD_LIMIT = 8192;

/** Learning without a base: no Landlock layer, no [net], no mounts. */
const UNRESTRICTED = {
  version: 1,
  compat: "strict",
} as const satisfies Policy;

/** The base: its source, the policy to run under and its extends value. */
function readBase(ref: string): Source {
  return ref.includes("/") || ref.endsWith(".toml")
    ? readPolicyFile(ref)
    : readNamedPolicy(ref);
}

/** How `extends` names the base: a name, or an absolute path. */
function extendsRef(ref: string): string {
  if (!(ref.includes("/") || ref.endsWith(".toml"))) return ref;
  if (ref.startsWith("/")) return ref;
  const cwd = Deno.cwd();
  return `${cwd === "/" ? "" : cwd}/${ref.replace(/^(\.\/)+/, "")}`;
}

/** The output file exists: landlockd learn does not overwrite it unasked. */
class OutputExistsError extends Error {
  override name = "OutputExistsError";
}

function exists(path: string): boolean {
  try {
    Deno.lstatSync(path);
    return true;
  } catch (e) {
    return !(e instanceof Deno.errors.NotFound);
  }
}

function refuseExisting(path: string): never {
  throw new OutputExistsError(
    `learn: "${path}" exists; add --force to replace it, or choose another -o FILE`,
  );
}

function describe(e: unknown): string {
  if (e instanceof Deno.errors.NotFound) {
    return "No such file or directory (ENOENT)";
  }
  if (e instanceof Deno.errors.PermissionDenied) {
    return "Permission denied (EACCES)";
  }
  if (e instanceof Deno.errors.IsADirectory) return "Is a directory (EISDIR)";
  return e instanceof Error ? e.message : String(e);
}

/**
 * Writes `text` to `path` atomically: a new temporary file beside it (never
 * one that already exists), then a link (no clobber) or, with `force`, a
 * rename over the old file.
 */
export function writeAtomically(
  path: string,
  text: string,
  force: boolean,
): void {
  const slash = path.lastIndexOf("/");
  const dir = slash < 0 ? "." : slash === 0 ? "/" : path.slice(0, slash);
  const name = path.slice(slash + 1);
  const tmp = `${dir}/.${name}.${Deno.pid}.${
    crypto.randomUUID().slice(0, 8)
  }.tmp`;
  try {
    Deno.writeTextFileSync(tmp, text, { createNew: true, mode: 0o644 });
  } catch (e) {
    throw new OutputWriteError(
      `learn: cannot write the policy beside "${path}" (${tmp}): ${
        describe(e)
      }`,
    );
  }
  try {
    if (force) Deno.renameSync(tmp, path);
    else {
      try {
        Deno.linkSync(tmp, path);
      } catch (e) {
        if (e instanceof Deno.errors.AlreadyExists) refuseExisting(path);
        throw e;
      }
      Deno.removeSync(tmp);
    }
  } catch (e) {
    try {
      Deno.removeSync(tmp);
    } catch {
      // already gone
    }
    if (e instanceof OutputExistsError) throw e;
    throw new OutputWriteError(
      `learn: cannot write the policy to "${path}": ${describe(e)}`,
    );
  }
}

/** The policy could not be written. */
class OutputWriteError extends Error {
  override name = "OutputWriteError";
}

/**
 * $HOME as the observer sees paths: resolved (a symlinked home would
 * otherwise never prefix them). `${HOME}` in the policy still resolves to
 * the same directory when Landlock opens it.
 */
function realHome(): string | undefined {
  const home = Deno.env.get("HOME");
  if (!home) return undefined;
  try {
    return Deno.realPathSync(home);
  } catch {
    return home;
  }
}

/** `path` with symlinks resolved, or undefined if it does not exist. */
function realPath(path: string): string | undefined {
  try {
    return Deno.realPathSync(path);
  } catch {
    return undefined;
  }
}

/** The learned rule that lets the command change `file`, if any. */
function writableBy(
  rules: readonly LearnedFsRule[],
  file: string,
): string | undefined {
  const real = realPath(file) ?? file;
  const writes = ["write_file", "make_reg", "remove_file", "refer"];
  return rules.find((r) =>
    isBeneath(real, r.path) && r.rights.some((x) => writes.includes(x))
  )?.written;
}

function ended(status: ExitStatus): string {
  return "signal" in status
    ? `signal ${signalName(status.signal)}`
    : `exit status ${status.code}`;
}

/** `landlockd learn`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values, rest: command } = parseOptions("learn", args, OPTIONS, {
    command: true,
  });
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (command.length === 0) {
    throw new UsageError(
      "no command given: landlockd learn -o policy.toml -- COMMAND",
      "learn",
    );
  }
  if (command[0] === "") {
    printError('cannot run "": the command name is empty');
    return EXIT.NOT_FOUND;
  }
  const output = values.output;
  if (output === "") {
    throw new UsageError("-o needs a file name", "learn");
  }
  try {
    if (output !== undefined && !values.force && exists(output)) {
      refuseExisting(output);
    }
    return await learn(command, output, values.base, values.force ?? false);
  } catch (e) {
    if (e instanceof OutputExistsError || e instanceof OutputWriteError) {
      printError(e.message);
      return EXIT.POLICY;
    }
    throw e;
  }
}

async function learn(
  command: string[],
  output: string | undefined,
  baseRef: string | undefined,
  force: boolean,
): Promise<number> {
  openSymbols();
  makeNonDumpable();
  const baseSource = baseRef !== undefined ? readBase(baseRef) : undefined;
  const name = baseSource?.name ?? "(learn: no Landlock restrictions)";
  let result: RunResult;
  let base: LearnBase | undefined;
  try {
    const policy: Policy = baseSource
      ? await loadPolicy(baseSource)
      : UNRESTRICTED;
    const plan = await planSandbox(policy);
    if (baseSource) {
      base = {
        ref: extendsRef(baseRef!),
        plan: resolvePlan(plan.landlock, realPath),
      };
      refuseSelfWrite(
        policy,
        plan,
        sourceFile(baseSource),
        loadedFrom(policy).flatMap((s) => sourceFile(s) ?? []),
      );
    }
    printError(
      baseSource
        ? `learn: ${
          command[0]
        } runs under ${baseSource.name} only; what it needs beyond it is learned (and refused now, so the run may fail)`
        : `learn: ${
          command[0]
        } runs WITHOUT Landlock restrictions (only landlockd's seccomp baseline): it can do anything you can`,
    );
    result = await runPlanned(
      plan,
      { argv: command, path: Deno.env.get("PATH") },
      NO_AUDIT,
      name,
      { observe: { mode: "all", limit: LEARN_RECORD_LIMIT } },
    );
  } catch (e) {
    const failure = runFailure(e, baseSource ?? { name, text: "" });
    if (!failure) throw e;
    printError(failure.message);
    return failureStatus(failure.kind);
  }
  if (base && result.landlock) {
    // Judged against the base as enforced: with the egress proxy's port,
    // which the command's connects to the proxy used (no rule for it).
    base = { ...base, plan: resolvePlan(result.landlock, realPath) };
  }
  if (!result.accesses) {
    printError(
      "learn: this landlockd has no access observer (seccomp user notification); nothing was recorded and nothing written",
    );
    return EXIT.POLICY;
  }
  const log: AccessLog = {
    ...result.accesses,
    cutShort: result.accesses.cutShort || "signal" in result.status,
  };
  const learned = learnPolicy(log, {
    cwd: Deno.cwd(),
    home: realHome(),
    base,
    probe: probeResolved,
    argv: command,
    ended: ended(result.status),
    ...(result.proxy ? { proxy: result.proxy } : {}),
  });
  // Checked as `landlockd lint` checks it, before anything is written.
  const source: Source = {
    name: output ?? "the learned policy",
    text: learned.toml,
  };
  const diags = locate(source, lintPolicy(source));
  if (diags.length) {
    printError(
      `learn: the learned policy does not lint clean (a bug in landlockd learn); nothing written:\n${
        diags.map((d) => formatDiagnostic(source, d)).join("\n")
      }\n${learned.toml}`,
    );
    return EXIT.POLICY;
  }
  if (output === undefined) {
    await Deno.stdout.write(new TextEncoder().encode(learned.toml));
  } else {
    writeAtomically(output, learned.toml, force);
  }
  // landlockd run refuses a policy that lets the command rewrite it or a
  // file it extends: say so now, with what to do.
  const baseFile = baseSource ? sourceFile(baseSource) : undefined;
  for (const file of [output, baseFile]) {
    const writable = file && writableBy(learned.fs, file);
    if (writable) {
      printError(
        `learn: note: the learned policy lets the command write ${writable}, which holds ${file}; landlockd run refuses a policy the command could rewrite, so move the file elsewhere (for example ~/.config/landlockd/policies/NAME.toml, then --policy NAME)`,
      );
    }
  }
  if (output !== undefined) {
    printError(
      `learn: wrote ${output}: ${learned.fs.length} file rule${
        learned.fs.length === 1 ? "" : "s"
      }, ${learned.net.length} port rule${learned.net.length === 1 ? "" : "s"}${
        learned.hosts.length
          ? `, ${learned.hosts.length} allow_hosts entr${
            learned.hosts.length === 1 ? "y" : "ies"
          }`
          : ""
      }${
        log.cutShort ? " (cut short)" : ""
      }; check it with: landlockd run --policy-file ${output} --dry-run`,
    );
  }
  return result.exitCode;
}
