/**
 * A small stand-in for the GitHub runner, enough to run action.yml's
 * composite steps exactly as the runner would: each step's `env:` values
 * are evaluated (only `inputs.*`, `github.*` and `steps.*.outputs.*`
 * expressions, which is all action.yml uses), its `run:` is written to a
 * file and run with `bash --noprofile --norc -eo pipefail FILE`, and the
 * step's GITHUB_OUTPUT file is read back for later steps.
 *
 * @module
 */

import { parse } from "yaml";
import { As, chownTree, NOBODY_HOME, ROOT } from "./helpers.ts";

/** One step of a composite action. */
interface Step {
  id?: string;
  shell: string;
  run: string;
  env?: Record<string, string>;
}

/** action.yml as far as these tests need it. */
export interface ActionManifest {
  inputs: Record<string, { default?: string }>;
  runs: { using: string; steps: Step[] };
}

/** The parsed action.yml at the repository root. */
export function readAction(): ActionManifest {
  return parse(Deno.readTextFileSync(`${ROOT}action.yml`));
}

/** The runner's files and directories for one job (all in `dir`). */
export interface Job {
  dir: string;
  env: Record<string, string>;
}

/** A fresh job: RUNNER_* and GITHUB_* pointing at files in a temp dir. */
export function newJob(dir: string, arch = "X64"): Job {
  for (const d of ["tool-cache", "temp", "work"]) Deno.mkdirSync(`${dir}/${d}`);
  for (const f of ["path", "summary"]) {
    Deno.writeTextFileSync(`${dir}/${f}`, "");
  }
  chownTree(dir);
  return {
    dir,
    env: {
      RUNNER_OS: "Linux",
      RUNNER_ARCH: arch,
      RUNNER_TOOL_CACHE: `${dir}/tool-cache`,
      RUNNER_TEMP: `${dir}/temp`,
      GITHUB_PATH: `${dir}/path`,
      GITHUB_STEP_SUMMARY: `${dir}/summary`,
      GITHUB_ACTIONS: "true",
      GITHUB_ACTION_PATH: ROOT.replace(/\/$/, ""),
    },
  };
}

/** What a finished composite action left behind. */
export interface ActionResult {
  code: number;
  stdout: string;
  stderr: string;
  outputs: Record<string, Record<string, string>>;
}

function parseOutputs(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split("\n")) {
    const eq = line.indexOf("=");
    if (eq > 0) out[line.slice(0, eq)] = line.slice(eq + 1);
  }
  return out;
}

function evaluate(
  value: string,
  ctx: {
    inputs: Record<string, string>;
    outputs: Record<string, Record<string, string>>;
    github: Record<string, string>;
  },
): string {
  return value.replace(/\$\{\{\s*([^}]+?)\s*\}\}/g, (_, expr: string) => {
    let m = /^inputs\.([\w-]+)$/.exec(expr);
    if (m) return ctx.inputs[m[1]] ?? "";
    m = /^steps\.([\w-]+)\.outputs\.([\w-]+)$/.exec(expr);
    if (m) return ctx.outputs[m[1]]?.[m[2]] ?? "";
    m = /^github\.(action_ref|action_repository)$/.exec(expr);
    if (m) return ctx.github[m[1]] ?? "";
    throw new Error(`the test runner cannot evaluate \${{ ${expr} }}`);
  });
}

/**
 * Runs action.yml's steps with `inputs` in `job`, as `as`; stops at the
 * first failing step, like the runner.
 */
export async function runAction(
  job: Job,
  inputs: Record<string, string>,
  { as = "root", env = {}, ref = "" }: {
    as?: As;
    env?: Record<string, string>;
    /** The ref in `uses: OWNER/REPO@REF` (github.action_ref). */
    ref?: string;
  } = {},
): Promise<ActionResult> {
  const action = readAction();
  const withDefaults: Record<string, string> = {};
  for (const [name, spec] of Object.entries(action.inputs)) {
    withDefaults[name] = inputs[name] ?? spec.default ?? "";
  }
  const outputs: Record<string, Record<string, string>> = {};
  let stdout = "";
  let stderr = "";
  for (const [i, step] of action.runs.steps.entries()) {
    if (step.shell !== "bash") throw new Error(`step ${i}: shell is not bash`);
    const script = `${job.dir}/temp/step-${i}.sh`;
    const outputFile = `${job.dir}/output-${i}`;
    Deno.writeTextFileSync(script, step.run);
    Deno.writeTextFileSync(outputFile, "");
    chownTree(job.dir);
    const stepEnv: Record<string, string> = {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/root",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      ...job.env,
      ...env,
      GITHUB_OUTPUT: outputFile,
    };
    if (as === "nobody") {
      Deno.mkdirSync(NOBODY_HOME, { recursive: true });
      Deno.chownSync(NOBODY_HOME, 65534, 65534);
      stepEnv.HOME = NOBODY_HOME;
      stepEnv.DENO_DIR = `${NOBODY_HOME}/deno`;
    }
    for (const [k, v] of Object.entries(step.env ?? {})) {
      stepEnv[k] = evaluate(String(v), {
        inputs: withDefaults,
        outputs,
        github: { action_ref: ref, action_repository: "landlockd/landlockd" },
      });
    }
    const argv = ["bash", "--noprofile", "--norc", "-eo", "pipefail", script];
    const cmd = as === "nobody"
      ? [
        "setpriv",
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--",
        ...argv,
      ]
      : argv;
    const out = await new Deno.Command(cmd[0], {
      args: cmd.slice(1),
      env: stepEnv,
      clearEnv: true,
      cwd: `${job.dir}/work`,
      stdin: "null",
    }).output();
    stdout += new TextDecoder().decode(out.stdout);
    stderr += new TextDecoder().decode(out.stderr);
    outputs[step.id ?? `${i}`] = parseOutputs(
      Deno.readTextFileSync(outputFile),
    );
    if (out.code !== 0) return { code: out.code, stdout, stderr, outputs };
  }
  return { code: 0, stdout, stderr, outputs };
}
