/**
 * Command-line options: `--name VALUE`, `--name=VALUE`, boolean `--flag`,
 * and single-letter aliases. Strict: anything unknown is a usage error.
 *
 * Written here rather than taken from `node:util` parseArgs, whose import
 * starts Deno's Node compatibility layer: about 12 ms on every `run`,
 * four times landlockd's whole start-up budget (see bench/README.md).
 *
 * @module
 */

import { UsageError } from "./exit_codes.ts";

/** One option: a string value or a boolean flag. */
export interface OptionSpec {
  type: "string" | "boolean";
  short?: string;
  /** Strings only: may be given more than once. */
  multiple?: boolean;
}

/** Options by long name. */
export type OptionSpecs = Record<string, OptionSpec>;

/** Parsed values: strings, string lists (multiple) or booleans. */
export type OptionValues<O extends OptionSpecs> = {
  [K in keyof O]?: O[K]["type"] extends "boolean" ? boolean
    : O[K]["multiple"] extends true ? string[]
    : string;
};

function lookup(
  specs: OptionSpecs,
  token: string,
): [string, OptionSpec] | undefined {
  if (token.startsWith("--")) {
    const name = token.slice(2);
    return specs[name] ? [name, specs[name]] : undefined;
  }
  return Object.entries(specs).find(([, s]) =>
    s.short && `-${s.short}` === token
  );
}

/**
 * Parses options; with `command`, stops at `--` or at the first argument
 * that is not an option and returns the rest as the command to run (so
 * `run --policy p ls -l` keeps `-l` for `ls`). Without it, such an
 * argument is a positional.
 */
export function parseOptions<O extends OptionSpecs>(
  name: string,
  args: readonly string[],
  specs: O,
  { command = false, positionals = 0 } = {},
): { values: OptionValues<O>; rest: string[] } {
  const values: Record<string, string | string[] | boolean> = {};
  const rest: string[] = [];
  for (let i = 0; i < args.length; i++) {
    const arg = args[i];
    if (arg === "--") {
      rest.push(...args.slice(i + 1));
      break;
    }
    if (!arg.startsWith("-") || arg === "-") {
      if (command) {
        rest.push(...args.slice(i));
        break;
      }
      rest.push(arg);
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const token = eq > 0 ? arg.slice(0, eq) : arg;
    const found = lookup(specs, token);
    if (!found) throw new UsageError(`unknown option "${token}"`, name);
    const [key, spec] = found;
    if (spec.type === "boolean") {
      if (eq > 0) {
        throw new UsageError(`option "${token}" takes no value`, name);
      }
      values[key] = true;
      continue;
    }
    let value: string;
    if (eq > 0) value = arg.slice(eq + 1);
    else if (i + 1 < args.length) value = args[++i];
    else throw new UsageError(`option "${token}" needs a value`, name);
    if (spec.multiple) {
      values[key] = [...(values[key] as string[] | undefined ?? []), value];
    } else if (key in values) {
      throw new UsageError(`option "${token}" given more than once`, name);
    } else values[key] = value;
  }
  if (!command && rest.length > positionals) {
    throw new UsageError(`unexpected argument "${rest[positionals]}"`, name);
  }
  return { values: values as OptionValues<O>, rest };
}
