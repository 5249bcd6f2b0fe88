/**
 * The policy format, version 1, as a zod schema: the single source of truth
 * for validation, for the TypeScript types and for the JSON Schema that
 * `deno task schema` writes.
 *
 * Only checks that need nothing but the document live here. Checks that look
 * at the filesystem (does a rule path exist?) are in `validate.ts`.
 *
 * @module
 */

import { z } from "zod";
import { hostArch } from "../seccomp/filter.ts";
import {
  FS_RIGHT_NAMES,
  type FsRight,
  NET_RIGHT_NAMES,
  type NetRight,
} from "./rights.ts";
import { expandFsRights, FS_GROUP_NAMES } from "./groups.ts";
import {
  hasNoNul,
  hook,
  isAbsolutePath,
  isDeniable,
  isKnownSyscall,
  restrictsSomething,
  rightsOutsideHandled,
} from "./checks.ts";
import { HOST_RULE_FORM, isHostRule, parseHostRule } from "./hosts.ts";
import { handledNet, NET_RESTRICTS_NOTHING } from "./net_sockets.ts";

/** The kernel's limit on stacked Landlock layers per process. */
export const MAX_LAYERS = 16;

// `.meta(hook(...))` names, in the JSON Schema, the check or transform of
// policy/checks.ts that the generated validator must run there.
const absolutePath = z.string().check(
  z.refine(isAbsolutePath, {
    message: "expected an absolute path (starting with / or ${VARIABLE})",
  }),
  z.refine(hasNoNul, {
    message: "a path cannot contain a NUL byte",
  }),
).meta(hook("absolute_path"));

const pathList = z.array(absolutePath);
/** Rights and groups (policy/groups.ts); validated lists hold rights only. */
const fsRights = z.array(z.enum([...FS_RIGHT_NAMES, ...FS_GROUP_NAMES])).min(1)
  .transform(expandFsRights).meta(hook("fs_rights"));
const netRight = z.enum(NET_RIGHT_NAMES);

const pathBeneathRule = z.strictObject({
  path: absolutePath.describe("Host path the rule applies to, and beneath it"),
  allowed_access: fsRights.describe(
    'Rights granted here; groups "ro", "rx", "rw", "all" may stand for rights',
  ),
  optional: z.boolean().default(false).describe(
    "Skip the rule when the path does not exist on this host (it only narrows access)",
  ),
});

function subsetOfHandled<R extends string>(
  handled: readonly R[],
  rules: readonly { allowed_access: readonly R[] }[] | undefined,
  handledKey: string,
  ctx: z.RefinementCtx,
) {
  for (const { index, right } of rightsOutsideHandled(handled, rules)) {
    ctx.addIssue({
      code: "custom",
      // No index: a group in the list stands for several rights.
      path: ["rule", index, "allowed_access"],
      message:
        `right "${right}" is not in this layer's ${handledKey}; a rule can only allow rights its layer handles`,
    });
  }
}

const fsLayer = z.strictObject({
  handled_access_fs: fsRights.describe(
    'Rights this layer denies unless a rule allows them; groups "ro", "rx", "rw", "all" may stand for rights',
  ),
  rule: z.array(pathBeneathRule).optional(),
}).superRefine((layer, ctx) =>
  subsetOfHandled<FsRight>(
    layer.handled_access_fs,
    layer.rule,
    "handled_access_fs",
    ctx,
  )
).meta(hook("rules_within_handled_fs"));

const netPortRule = z.strictObject({
  port: z.int().min(0).max(65535).describe("TCP port"),
  allowed_access: z.array(netRight).min(1),
});

/** `[[fs_rule]]`: a rule an extending file adds to its bases' layers. */
export const fsRuleSchema = z.strictObject({
  path: absolutePath.describe("Host path the rule applies to, and beneath it"),
  allowed_access: fsRights.describe("Rights granted here"),
  optional: z.boolean().default(false).describe(
    "Skip the rule when the path does not exist on this host",
  ),
  layer: z.int().min(0).max(MAX_LAYERS - 1).optional().describe(
    "Index of the base layer to add the rule to; default: every base layer, each with the rights it handles",
  ),
});

/** The keys only an extending file uses (policy/extends.ts). */
export const extendingKeys = z.strictObject({
  extends: z.union([z.string(), z.array(z.string()).min(1)]).describe(
    "Policies this one builds on: names (like --policy) or paths relative to this file",
  ),
  fs_rule: z.array(fsRuleSchema).optional().describe(
    "Rules added to the bases' [[fs_layer]]s (widening them)",
  ),
  net_rule: z.array(netPortRule).optional().describe(
    "Port rules added to the bases' [net] (widening it)",
  ),
});

/** The values of `[net] udp`. */
export const UDP_MODES = ["allow", "deny", "dns"] as const;

const hostRule = z.string().check(
  z.refine(isHostRule, {
    error: (issue) =>
      `${parseHostRule(String(issue.input))}; ${HOST_RULE_FORM}`,
  }),
).meta(hook("host_rule"));

const net = z.strictObject({
  handled_access_net: z.array(netRight).min(1).optional().describe(
    'TCP operations denied unless a rule allows the port; default ["connect_tcp"], or none when [net] sets only udp and/or raw',
  ),
  rule: z.array(netPortRule).optional(),
  udp: z.enum(UDP_MODES).optional().describe(
    'IPv4/IPv6 datagram sockets: "allow" (default; "deny" with allow_hosts), "deny" (socket() fails, ICMP ping sockets too) or "dns" (UDP only to the nameservers of /etc/resolv.conf, port 53, checked by the broker)',
  ),
  raw: z.boolean().optional().describe(
    'false: refuse raw (SOCK_RAW, SOCK_PACKET), AF_PACKET and AF_XDP sockets; default true, false with allow_hosts or where udp is not "allow" (a raw socket can send UDP)',
  ),
  allow_hosts: z.array(hostRule).optional().describe(
    'Hosts reachable through landlockd\'s egress proxy: "host[:port]", "*.suffix[:port]", an IP or range; port 443 by default, 80 after "http://". TCP connects go only to the proxy and the ports of [[net.rule]]',
  ),
}).superRefine((section, ctx) => {
  subsetOfHandled<NetRight>(
    handledNet(section),
    section.rule,
    "handled_access_net",
    ctx,
  );
}).meta(hook("rules_within_handled_net"));

const scope = z.strictObject({
  abstract_unix_socket: z.boolean().optional().describe(
    "Refuse connecting to abstract unix sockets created outside the sandbox",
  ),
  signal: z.boolean().optional().describe(
    "Refuse signalling processes outside the sandbox",
  ),
});

const bindMount = z.strictObject({
  source: absolutePath,
  target: absolutePath,
  read_only: z.boolean().default(false),
});

const mountAttr = z.enum(["readonly", "nosuid", "nodev", "noexec"]);

/** Actions of a `[[broker.addfd]]` rule (the C landlockd's names). */
export const ADDFD_ACTIONS = [
  "open",
  "open_tree",
  "scratch_open",
  "fsopen",
  "fsmount",
] as const;

/** Modes of a `[[broker.addfd]]` rule. */
export const ADDFD_MODES = ["read", "write"] as const;

const addfdRule = z.strictObject({
  action: z.enum(ADDFD_ACTIONS).describe(
    "Which brokered opens it narrows: open (allow_read/allow_write files), scratch_open (opens beneath scratch roots); open_tree, fsopen, fsmount are accepted and narrow nothing (mount fds stay with the broker)",
  ),
  target: absolutePath.describe(
    "The path the fd may be for, and beneath it",
  ),
  mode: z.enum(ADDFD_MODES).optional().describe(
    "read: only read-only fds; write: read or write fds (never more than the grant); absent: what the grant allows",
  ),
});

const broker = z.strictObject({
  allow_read: pathList.optional().describe("Host files the sandbox may read"),
  allow_write: pathList.optional().describe(
    "Host files the sandbox may read and write",
  ),
  scratch: pathList.optional().describe(
    "Directories the sandbox may create, rename and delete entries beneath",
  ),
  export: pathList.optional().describe(
    "Directories scratch entries may be published into",
  ),
  mount_tmpfs: pathList.optional(),
  mount_bind: z.array(bindMount).optional(),
  mount_object: z.array(z.strictObject({
    name: z.string().min(1),
    fs_type: z.enum(["tmpfs", "proc"]),
    attach: pathList,
    attrs: z.array(mountAttr).default([]),
  })).optional(),
  addfd: z.array(addfdRule).min(1).optional().describe(
    "Narrows which brokered opens get an fd injected (SECCOMP_IOCTL_NOTIF_ADDFD); see README [broker]",
  ),
});

const mount = z.strictObject({
  tmpfs: pathList.optional(),
  bind: z.array(bindMount).optional(),
  proc: pathList.optional(),
});

const runtime = z.strictObject({
  root: absolutePath.optional().describe("Prepared rootfs to pivot into"),
  cwd: absolutePath.optional().describe("Working directory inside the root"),
});

const envPattern = z.string().regex(/^[A-Za-z0-9_*?]+$/, {
  message:
    "expected a variable name or a pattern of letters, digits, _, * and ?",
});

const env = z.strictObject({
  clear: z.boolean().default(false).describe(
    "Start the command from an empty environment",
  ),
  keep: z.array(envPattern).default([]).describe(
    "Names or patterns (* and ?) passed on even when cleared, unset or landlockd's own",
  ),
  set: z.record(
    z.string().regex(/^[A-Za-z_][A-Za-z0-9_]*$/, {
      message:
        "expected a variable name (a letter or _, then letters, digits, _)",
    }),
    z.string().refine(hasNoNul, {
      message: "a value cannot contain a NUL byte",
    }).meta(hook("no_nul")),
  ).default({}).describe("Variables to set; values may use ${VAR}"),
  unset: z.array(envPattern).default([]).describe(
    "Names or patterns (* and ?) removed from the environment",
  ),
});

/**
 * What `[seccomp] allow` may lift from the built-in baseline (lint warns
 * what each gives up).
 */
export const BASELINE_RELAXATIONS = ["io_uring", "userfaultfd"] as const;

/** One entry of `[seccomp] allow`. */
export type BaselineRelaxation = (typeof BASELINE_RELAXATIONS)[number];

const syscallName = z.string().check(
  z.refine(isKnownSyscall, {
    error: (issue) =>
      `unknown system call ${JSON.stringify(issue.input)} on ${hostArch()}`,
  }),
  z.refine(isDeniable, {
    error: (issue) =>
      `cannot deny ${issue.input}: landlockd needs it to start the command`,
  }),
).meta(hook("syscall_name"));

const seccomp = z.strictObject({
  deny: z.array(syscallName).default([]).describe(
    "System calls that fail with errno",
  ),
  errno: z.int().min(1).max(4095).default(1).describe(
    "errno the denied calls fail with (default 1, EPERM)",
  ),
  allow: z.array(z.enum(BASELINE_RELAXATIONS)).default([]).describe(
    "Parts of the built-in baseline to lift: io_uring (io_uring_setup, io_uring_enter, io_uring_register), userfaultfd (userfaultfd, ioctl USERFAULTFD_IOC_NEW)",
  ),
  memfd_exec: z.boolean().optional().describe(
    "false: memfd_create fails with errno unless MFD_NOEXEC_SEAL is given, so code written into a memfd cannot be executed; default true",
  ),
});

/** The policy document. */
export const policySchema = z.strictObject({
  version: z.literal(1).describe("Policy format version"),
  extends: extendingKeys.shape.extends.optional(),
  fs_rule: extendingKeys.shape.fs_rule,
  net_rule: extendingKeys.shape.net_rule,
  description: z.string().optional(),
  compat: z.enum(["strict", "best_effort"]).default("strict").describe(
    "strict: refuse to run when the kernel lacks a requested right; best_effort: drop it and report",
  ),
  fs_layer: z.array(fsLayer).max(MAX_LAYERS, {
    message: `expected at most ${MAX_LAYERS} layers (the kernel's limit)`,
  }).optional(),
  net: net.optional(),
  scope: scope.optional(),
  broker: broker.optional(),
  mount: mount.optional(),
  runtime: runtime.optional(),
  seccomp: seccomp.optional(),
  env: env.optional().describe(
    "The command's environment: clear, keep, set, unset (landlockd's own LANDLOCKD_* and LISTEN_* are always removed unless kept)",
  ),
}).superRefine((p, ctx) => {
  if (!restrictsSomething(p)) {
    ctx.addIssue({
      code: "custom",
      path: [],
      message:
        "this policy restricts nothing: add an [[fs_layer]], [net], [scope], [seccomp] deny list, [mount] or [runtime] root" +
        (p.net !== undefined ? `; ${NET_RESTRICTS_NOTHING}` : ""),
    });
  }
}).meta(hook("restricts_something"));

/** A validated policy. */
export type Policy = z.output<typeof policySchema>;
/** One `[[fs_layer]]`. */
export type FsLayer = NonNullable<Policy["fs_layer"]>[number];
