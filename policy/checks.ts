/**
 * The policy checks that JSON Schema cannot say (absolute paths, known
 * system calls, rules within their layer's rights, "restricts something")
 * and the one transform (right groups → rights), as plain functions without
 * zod. The zod schema (schema.ts) refines with these very functions, and the
 * validator generated from the JSON Schema (validator.generated.ts) calls
 * them through {@link HOOKS}, named by the schema's `x-landlockd` keyword;
 * so both accept by the same code.
 *
 * @module
 */

import { hostArch } from "../seccomp/filter.ts";
import { syscallNumber } from "../seccomp/table.ts";
import { expandFsRights, type FsRightOrGroup } from "./groups.ts";
import { isHostRule } from "./hosts.ts";
import { handledNet, netRestricts, type NetTable } from "./net_sockets.ts";

/** Calls landlockd itself makes between installing the filter and exec. */
export const NEEDED_TO_START = ["execve", "sendmsg", "close"];

/** A rule path starts with `/` or `${VARIABLE}`. */
export const isAbsolutePath = (p: string): boolean =>
  p.startsWith("/") || p.startsWith("${");

/** A path or value handed to the kernel cannot hold a NUL byte. */
export const hasNoNul = (s: string): boolean => !s.includes("\0");

/** Whether `name` is a system call of this host's architecture. */
export const isKnownSyscall = (name: string): boolean =>
  syscallNumber(hostArch(), name) !== undefined;

/** Whether landlockd can deny `name` and still start the command. */
export const isDeniable = (name: string): boolean =>
  !NEEDED_TO_START.includes(name);

/**
 * The rights rules allow that their layer does not handle, with the rule's
 * index: each is an error.
 */
export function rightsOutsideHandled<R extends string>(
  handled: readonly R[],
  rules: readonly { allowed_access: readonly R[] }[] | undefined,
): { index: number; right: R }[] {
  const set = new Set(handled);
  const out: { index: number; right: R }[] = [];
  (rules ?? []).forEach((rule, index) =>
    rule.allowed_access.forEach((right) => {
      if (!set.has(right)) out.push({ index, right });
    })
  );
  return out;
}

/** The parts of a validated policy {@link restrictsSomething} reads. */
export interface RestrictingParts {
  fs_layer?: readonly unknown[];
  net?: NetTable;
  scope?: { abstract_unix_socket?: boolean; signal?: boolean };
  seccomp?: { deny: readonly unknown[] };
  mount?: {
    tmpfs?: readonly unknown[];
    bind?: readonly unknown[];
    proc?: readonly unknown[];
  };
  runtime?: { root?: string };
  broker?: unknown;
}

/**
 * Whether a policy restricts anything: a layer, a `[net]` that restricts
 * TCP, UDP or raw sockets (policy/net_sockets.ts), a scope, a deny
 * list, or a `[mount]` view, `[runtime]` root or `[broker]` (which confine
 * what the command can see; a broker alone is valid, lint warns).
 */
export function restrictsSomething(p: RestrictingParts): boolean {
  const confines = (p.mount?.tmpfs?.length ?? 0) > 0 ||
    (p.mount?.bind?.length ?? 0) > 0 || (p.mount?.proc?.length ?? 0) > 0 ||
    p.runtime?.root !== undefined || p.broker !== undefined;
  return (p.fs_layer?.length ?? 0) > 0 ||
    (p.net !== undefined && netRestricts(p.net)) ||
    p.scope?.abstract_unix_socket === true || p.scope?.signal === true ||
    (p.seccomp?.deny.length ?? 0) > 0 || confines;
}

/** What a hook does with a value that passed the JSON Schema checks. */
export type Hook =
  | { check: (value: never) => boolean }
  | { transform: (value: never) => unknown };

/**
 * The `x-landlockd` names the JSON Schema carries, for the generated
 * validator: a check runs on the node's output, a transform replaces it.
 */
export const HOOKS = {
  absolute_path: {
    check: (p: string) => isAbsolutePath(p) && hasNoNul(p),
  },
  no_nul: { check: hasNoNul },
  syscall_name: {
    check: (name: string) => isKnownSyscall(name) && isDeniable(name),
  },
  fs_rights: {
    transform: (names: FsRightOrGroup[]) => expandFsRights(names),
  },
  rules_within_handled_fs: {
    check: (layer: {
      handled_access_fs: string[];
      rule?: { allowed_access: string[] }[];
    }) =>
      rightsOutsideHandled(layer.handled_access_fs, layer.rule).length === 0,
  },
  rules_within_handled_net: {
    check: (net: NetTable & { rule?: { allowed_access: string[] }[] }) =>
      rightsOutsideHandled(handledNet(net), net.rule).length === 0,
  },
  host_rule: { check: isHostRule },
  restricts_something: { check: restrictsSomething },
} as const satisfies Record<string, Hook>;

/** A name the JSON Schema's `x-landlockd` keyword may carry. */
export type HookName = keyof typeof HOOKS;

/** The `x-landlockd` annotation for a zod schema's `.meta()`. */
export function hook(name: HookName): { "x-landlockd": HookName } {
  return { "x-landlockd": name };
}
