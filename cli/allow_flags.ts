/**
 * `run --allow-read/--allow-exec/--allow-write PATH`,
 * `--allow-bind/--allow-connect PORT` and `--compat MODE`: one-line rules.
 * With `--policy`/`--policy-file` they widen it through `extends`
 * (policy/extends.ts); alone they are the whole policy, allowing nothing
 * else.
 *
 * @module
 */

import type { Source } from "../policy/diagnostic.ts";
import { UsageError } from "./exit_codes.ts";

/** The options this module adds to `run`. */
export const ALLOW_OPTIONS = {
  "allow-read": { type: "string", multiple: true },
  "allow-exec": { type: "string", multiple: true },
  "allow-write": { type: "string", multiple: true },
  "allow-bind": { type: "string", multiple: true },
  "allow-connect": { type: "string", multiple: true },
  compat: { type: "string" },
} as const;

/** What each path flag grants (policy/groups.ts). */
const PATH_FLAGS = {
  "allow-read": "ro",
  "allow-exec": "rx",
  "allow-write": "rw",
} as const;

const PORT_FLAGS = {
  "allow-bind": "bind_tcp",
  "allow-connect": "connect_tcp",
} as const;

/** The help text for these options. */
export const ALLOW_HELP =
  `  --allow-read PATH    allow reading PATH and beneath it ("ro"); repeatable
  --allow-exec PATH    allow reading and executing there ("rx"); repeatable
  --allow-write PATH   allow reading, creating, changing and removing ("rw")
  --allow-bind PORT    allow binding TCP PORT; repeatable
  --allow-connect PORT allow connecting to TCP PORT; repeatable
                       With --policy/--policy-file these widen it (as
                       [[fs_rule]]/[[net_rule]] in a file extending it);
                       alone they are the whole policy: nothing else is
                       allowed, and TCP bind/connect only to those ports
  --compat MODE        strict or best_effort, overriding the policy's
                       (alone, --allow-* policies are best_effort)`;

type Values =
  & {
    [K in keyof typeof ALLOW_OPTIONS]?: K extends "compat" ? string : string[];
  }
  & { policy?: string; "policy-file"?: string; "oci-config"?: string };

function normalize(path: string): string {
  const out: string[] = [];
  for (const part of path.split("/")) {
    if (part === "" || part === ".") continue;
    if (part === "..") out.pop();
    else out.push(part);
  }
  return `/${out.join("/")}`;
}

function absolute(flag: string, path: string): string {
  if (path === "" || path.includes("\0")) {
    throw new UsageError(
      `--${flag} ${JSON.stringify(path)}: expected a path`,
      "run",
    );
  }
  if (path.startsWith("/") || path.startsWith("${")) return path;
  return normalize(`${Deno.cwd()}/${path}`);
}

function port(flag: string, value: string): number {
  const n = Number(value);
  if (!/^[0-9]+$/.test(value) || n > 65535) {
    throw new UsageError(
      `--${flag} ${JSON.stringify(value)}: expected a TCP port from 0 to 65535`,
      "run",
    );
  }
  return n;
}

const str = (s: string) => JSON.stringify(s);

/**
 * The policy the flags describe, or undefined when none is given (then the
 * policy comes from --policy/--policy-file/--oci-config alone). `base` is
 * the policy those name, already read.
 */
export function allowFlagsPolicy(
  values: Values,
  base: () => Source | undefined,
): Source | undefined {
  const given = [...Object.keys(PATH_FLAGS), ...Object.keys(PORT_FLAGS)]
    .some((f) => (values[f as keyof Values]?.length ?? 0) > 0);
  const compat = values.compat;
  if (!given && compat === undefined) return undefined;
  if (compat !== undefined && compat !== "strict" && compat !== "best_effort") {
    throw new UsageError(
      `--compat ${JSON.stringify(compat)}: expected strict or best_effort`,
      "run",
    );
  }
  if (
    !given && values.policy === undefined &&
    values["policy-file"] === undefined
  ) {
    throw new UsageError(
      "--compat overrides a policy's: give --policy or --policy-file",
      "run",
    );
  }
  if (values["oci-config"] !== undefined) {
    throw new UsageError(
      "--allow-* and --compat widen --policy or --policy-file, not --oci-config",
      "run",
    );
  }
  const fsRules: string[] = [];
  for (const [flag, group] of Object.entries(PATH_FLAGS)) {
    for (const p of values[flag as keyof typeof PATH_FLAGS] ?? []) {
      fsRules.push(
        `  { path = ${
          str(absolute(flag, p))
        }, allowed_access = ["${group}"] }, # --${flag}`,
      );
    }
  }
  const netRules: string[] = [];
  for (const [flag, right] of Object.entries(PORT_FLAGS)) {
    for (const p of values[flag as keyof typeof PORT_FLAGS] ?? []) {
      netRules.push(
        `  { port = ${
          port(flag, p)
        }, allowed_access = ["${right}"] }, # --${flag}`,
      );
    }
  }
  const source = values.policy !== undefined ||
      values["policy-file"] !== undefined
    ? base()
    : undefined;
  const lines = ["# landlockd run --allow-* --compat", "version = 1"];
  if (source) {
    const loc = source.location ?? "";
    const spec = loc.startsWith("/")
      ? loc
      : /^[a-z]+:/.test(loc)
      ? values.policy!
      : normalize(`${Deno.cwd()}/${loc}`);
    lines.push(`extends = ${str(spec)}`);
    if (compat) lines.push(`compat = ${str(compat)}`);
    if (fsRules.length) lines.push("fs_rule = [", ...fsRules, "]");
    if (netRules.length) lines.push("net_rule = [", ...netRules, "]");
  } else {
    lines.push(`compat = ${str(compat ?? "best_effort")}`);
    lines.push("[[fs_layer]]", 'handled_access_fs = ["all"]');
    if (fsRules.length) lines.push("rule = [", ...fsRules, "]");
    lines.push(
      "[net]",
      'handled_access_net = ["bind_tcp", "connect_tcp"]',
    );
    if (netRules.length) lines.push("rule = [", ...netRules, "]");
  }
  return { name: "(--allow-* flags)", text: lines.join("\n") + "\n" };
}
