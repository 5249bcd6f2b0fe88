/**
 * `landlockd policy show NAME` and `landlockd policy list`: what the named
 * policies are and where each comes from (the search path of `--policy`,
 * then the starter policies built into landlockd).
 *
 * @module
 */

import { lazyImport } from "../lazy_import.ts";
import {
  BUILTIN_POLICIES,
  builtinPolicyNames,
  policySearchPath,
  readNamedPolicy,
} from "../policy/source.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";

const SHOW_OPTIONS = {
  merged: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** One named policy and where it was found. */
export interface NamedPolicy {
  name: string;
  /** A file path, or `built in`. */
  source: string;
  /** The earlier entry of the same name that `--policy NAME` uses instead. */
  shadowedBy?: string;
}

function tomlNames(dir: string | URL): string[] {
  try {
    return [...Deno.readDirSync(dir)]
      .filter((e) => (e.isFile || e.isSymlink) && e.name.endsWith(".toml"))
      .map((e) => e.name.slice(0, -5))
      .sort();
  } catch {
    return []; // a search directory that does not exist lists nothing
  }
}

/** Every named policy in search order, shadowed ones marked. */
export function listPolicies(): NamedPolicy[] {
  const out: NamedPolicy[] = [];
  const first = new Map<string, string>();
  const add = (name: string, source: string) => {
    const shadowedBy = first.get(name);
    out.push({ name, source, ...(shadowedBy ? { shadowedBy } : {}) });
    if (!shadowedBy) first.set(name, source);
  };
  for (const dir of policySearchPath()) {
    for (const name of tomlNames(dir)) add(name, `${dir}/${name}.toml`);
  }
  for (const name of builtinPolicyNames()) add(name, "built in");
  return out;
}

function list(args: string[]): number {
  parseOptions("policy list", args, { help: SHOW_OPTIONS.help });
  const rows = listPolicies();
  const width = Math.max(4, ...rows.map((r) => r.name.length));
  console.log(`${"NAME".padEnd(width)}  SOURCE`);
  for (const r of rows) {
    console.log(
      `${r.name.padEnd(width)}  ${r.source}${
        r.shadowedBy ? ` (shadowed by ${r.shadowedBy})` : ""
      }`,
    );
  }
  return EXIT.OK;
}

async function show(args: string[]): Promise<number> {
  const { values, rest } = parseOptions("policy show", args, SHOW_OPTIONS, {
    positionals: 1,
  });
  const name = rest[0];
  if (name === undefined) {
    throw new UsageError("a policy name is needed", "policy show");
  }
  const source = readNamedPolicy(name);
  const where = source.location?.startsWith(BUILTIN_POLICIES.href)
    ? "built into landlockd"
    : source.name;
  if (values.merged) {
    const { flattenPolicy } = await lazyImport<
      typeof import("../policy/flatten.ts")
    >("../policy/flatten.ts", import.meta.url);
    const merged = flattenPolicy(source);
    console.log(`# policy "${name}": ${where}\n${merged.text}`);
    return EXIT.OK;
  }
  console.log(`# policy "${name}": ${where}`);
  console.log(source.text.replace(/\n$/, ""));
  return EXIT.OK;
}

/** The `policy` subcommands this module runs. */
export const POLICY_COMMANDS: Record<
  string,
  (args: string[]) => number | Promise<number>
> = { show, list };

/** Help for show and list. */
export const POLICY_CMD_HELP = `
       landlockd policy show NAME [--merged]
       landlockd policy list

  show       print a named policy (as --policy NAME finds it: the search
             path, then the starter policies) with where it comes from;
             --merged prints it merged with the policies it extends
  list       every named policy in search order, with its file or
             "built in", and which are shadowed by an earlier one`;
