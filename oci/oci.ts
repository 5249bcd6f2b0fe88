/**
 * A landlockd policy from an OCI runtime config's `process.landlock`, in
 * either proposed shape:
 *
 * - runtime-spec PR #1241: `handledAccess.handledAccessFS`,
 *   `handledAccess.handledAccessNetwork`, `rules.pathBeneath[{allowedAccess,
 *   paths}]`, `rules.networkPort[{allowedAccess: ["bind"|"connect"], ports}]`,
 *   `enableBestEffort`;
 * - PR #1111: `ruleset.handledAccessFS`, `rules.pathBeneath`,
 *   `disableBestEffort`.
 *
 * Best effort, defined here because the two proposals contradict each other
 * (#1241 defaults to strict, #1111 to best effort): landlockd is strict
 * unless the config asks for best effort in so many words, with
 * `enableBestEffort: true` or `disableBestEffort: false`. A missing flag
 * never weakens a sandbox.
 *
 * No container runtime applies this object today; landlockd does.
 *
 * @module
 */

import { z } from "zod";
import type { Diagnostic } from "../policy/diagnostic.ts";
import type { PolicyDocument } from "../policy/toml_out.ts";
import {
  FS_RIGHT_NAMES,
  type FsRight,
  type NetRight,
} from "../policy/rights.ts";

/** `LANDLOCK_ACCESS_FS_READ_FILE`, `read_file`, `readFile` → `read_file`. */
function fsRight(name: string): FsRight | undefined {
  const n = name.replace(/^LANDLOCK_ACCESS_FS_/i, "")
    .replace(/([a-z])([A-Z])/g, "$1_$2").toLowerCase();
  return (FS_RIGHT_NAMES as string[]).includes(n) ? n as FsRight : undefined;
}

/** `bind`, `bind_tcp`, `LANDLOCK_ACCESS_NET_BIND_TCP` → `bind_tcp`. */
function netRight(name: string): NetRight | undefined {
  const n = name.replace(/^LANDLOCK_ACCESS_NET_/i, "").toLowerCase();
  if (n === "bind" || n === "bind_tcp") return "bind_tcp";
  if (n === "connect" || n === "connect_tcp") return "connect_tcp";
  return undefined;
}

const fsRightName = z.string().refine((s) => fsRight(s) !== undefined, {
  error: (i) =>
    `unknown filesystem access ${JSON.stringify(i.input)}; expected one of: ${
      FS_RIGHT_NAMES.join(", ")
    }`,
});
const netRightName = z.string().refine((s) => netRight(s) !== undefined, {
  error: (i) =>
    `unknown network access ${
      JSON.stringify(i.input)
    }; expected "bind" or "connect"`,
});
const port = z.union([
  z.int(),
  z.string().regex(/^\d+$/, {
    message: "expected a port: an integer or a string of digits",
  }),
])
  .transform(Number)
  .pipe(
    z.int().min(0).max(65535, { message: "expected a port from 0 to 65535" }),
  );

const pathBeneath = z.object({
  allowedAccess: z.array(fsRightName).min(1),
  paths: z.array(
    z.string().startsWith("/", { message: "expected an absolute path" }),
  ).min(1),
});

const landlockObject = z.object({
  handledAccess: z.object({
    handledAccessFS: z.array(fsRightName).optional(),
    handledAccessNetwork: z.array(netRightName).optional(),
  }).optional(),
  ruleset: z.object({ handledAccessFS: z.array(fsRightName).optional() })
    .optional(),
  rules: z.object({
    pathBeneath: z.array(pathBeneath).optional(),
    networkPort: z.array(z.object({
      allowedAccess: z.array(netRightName).min(1),
      ports: z.array(port).min(1),
    })).optional(),
  }).optional(),
  enableBestEffort: z.boolean().optional(),
  disableBestEffort: z.boolean().optional(),
});

const config = z.object({
  process: z.object({
    landlock: landlockObject.optional().refine((v) => v !== undefined, {
      message: "the config has no process.landlock object",
    }),
  }, { error: "expected a process object" }),
}, { error: "expected an OCI runtime config (a JSON object)" });

/** The converted policy, which proposal it followed, and what to tell. */
export interface OciPolicy {
  document: PolicyDocument;
  shape: "PR #1241" | "PR #1111";
  notes: string[];
}

function unique<T>(items: Iterable<T>): T[] {
  return [...new Set(items)];
}

/** Converts `config.json` text; a Diagnostic list means it could not be used. */
export function policyFromOci(text: string): OciPolicy | Diagnostic[] {
  let json: unknown;
  try {
    json = JSON.parse(text);
  } catch (e) {
    return [{
      severity: "error",
      path: [],
      message: `not valid JSON: ${(e as Error).message}`,
    }];
  }
  const parsed = config.safeParse(json);
  if (!parsed.success) {
    return parsed.error.issues.map((i) => ({
      severity: "error" as const,
      path: i.path as (string | number)[],
      message: i.message,
    }));
  }
  const ll = parsed.data.process.landlock!;
  const shape = ll.handledAccess || ll.enableBestEffort !== undefined ||
      ll.rules?.networkPort
    ? "PR #1241"
    : "PR #1111";
  const rules = (ll.rules?.pathBeneath ?? []).flatMap((r) =>
    r.paths.map((path) => ({
      path,
      allowed_access: unique(r.allowedAccess.map((a) => fsRight(a)!)),
    }))
  );
  const declaredFs = ll.handledAccess?.handledAccessFS ??
    ll.ruleset?.handledAccessFS;
  const handledFs = unique([
    ...(declaredFs ?? []).map((a) => fsRight(a)!),
    // A rule's rights must be handled; a config that lists rules but no
    // handled set means those rights.
    ...rules.flatMap((r) => r.allowed_access),
  ]);
  const ports = (ll.rules?.networkPort ?? []).flatMap((r) =>
    r.ports.map((p) => ({
      port: p,
      allowed_access: unique(r.allowedAccess.map((a) => netRight(a)!)),
    }))
  );
  const handledNet = unique([
    ...(ll.handledAccess?.handledAccessNetwork ?? []).map((a) => netRight(a)!),
    ...ports.flatMap((p) => p.allowed_access),
  ]);
  const bestEffort = ll.enableBestEffort === true ||
    ll.disableBestEffort === false;

  const document: PolicyDocument = {
    version: 1,
    description: `From an OCI config's process.landlock (${shape} shape)`,
    compat: bestEffort ? "best_effort" : "strict",
  };
  if (handledFs.length) {
    document.fs_layer = [{ handled_access_fs: handledFs, rule: rules }];
  }
  if (handledNet.length) {
    document.net = { handled_access_net: handledNet, rule: ports };
  }
  const notes = [
    "No OCI runtime applies process.landlock today (runc, crun and youki ignore it);",
    "wrap the container's command with `landlockd run` to enforce it.",
    `Shape: ${shape}; compat = "${document.compat}" (${
      bestEffort
        ? "the config asks for best effort explicitly"
        : "strict unless the config asks for best effort explicitly"
    }).`,
  ];
  if (!handledFs.length && !handledNet.length) {
    return [{
      severity: "error",
      path: ["process", "landlock"],
      message:
        "the Landlock object restricts nothing: no handled access and no rules",
    }];
  }
  return { document, shape, notes };
}
