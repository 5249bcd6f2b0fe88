/**
 * `landlockd abi`: what this kernel offers landlockd.
 *
 * @module
 */

import { ABI_VERSIONS } from "../policy/rights.ts";
import { probeNamespaces as probe } from "../syscalls/process.ts";
import { landlockSupport } from "../sandbox/kernel.ts";
import { CLONE_NEWNS, CLONE_NEWUSER } from "../syscalls/constants.ts";
import { describeErrno } from "../syscalls/errno.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT } from "./exit_codes.ts";
import { stableJson } from "./output.ts";

const OPTIONS = {
  json: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

export const HELP = `Usage: landlockd abi [--json]

Show the Landlock ABI, which features it supports and what each needs,
and whether seccomp user notification and user namespaces are available.
`;

function readProc(path: string): string | undefined {
  try {
    return Deno.readTextFileSync(path).trim();
  } catch {
    return undefined;
  }
}

/** Whether unprivileged users can create user namespaces, and if not, why. */
export function userNamespaceSupport(): {
  unprivileged: boolean;
  reason?: string;
} {
  const max = readProc("/proc/sys/user/max_user_namespaces");
  if (max === "0") {
    return { unprivileged: false, reason: "user.max_user_namespaces is 0" };
  }
  if (readProc("/proc/sys/kernel/unprivileged_userns_clone") === "0") {
    return {
      unprivileged: false,
      reason: "kernel.unprivileged_userns_clone is 0",
    };
  }
  if (
    readProc("/proc/sys/kernel/apparmor_restrict_unprivileged_userns") === "1"
  ) {
    return {
      unprivileged: false,
      reason: "kernel.apparmor_restrict_unprivileged_userns is 1 (AppArmor)",
    };
  }
  return { unprivileged: true };
}

/** Creates a child with these namespaces and mounts a tmpfs in it. */
function probeNamespaces(flags: number): { ok: boolean; error?: string } {
  const r = probe(flags);
  return r === 0 ? { ok: true } : { ok: false, error: describeErrno(-r) };
}

/** Everything `abi` reports, as data. */
export function abiReport() {
  const ll = landlockSupport();
  const actions = readProc("/proc/sys/kernel/seccomp/actions_avail") ?? "";
  return {
    landlock: {
      available: ll.abi > 0,
      abi: ll.abi,
      kernel_abi: ll.kernel_abi,
      ...(ll.reason ? { note: ll.reason } : {}),
      features: ABI_VERSIONS.map((v) => ({
        abi: v.abi,
        linux: v.kernel,
        feature: v.adds,
        supported: v.abi <= ll.abi,
      })),
    },
    seccomp: {
      filter: actions.length > 0,
      user_notify: actions.split(/\s+/).includes("user_notif"),
    },
    user_namespaces: userNamespaceSupport(),
    namespaces_for_mounts: Deno.uid() === 0
      ? { namespaces: ["mount"], ...probeNamespaces(CLONE_NEWNS) }
      : {
        namespaces: ["user", "mount"],
        ...probeNamespaces(CLONE_NEWUSER | CLONE_NEWNS),
      },
  };
}

/** `landlockd abi`; returns the exit code. */
export function main(args: string[]): number {
  const { values } = parseOptions("abi", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  const report = abiReport();
  if (values.json) {
    console.log(stableJson(report));
    return EXIT.OK;
  }
  const ll = report.landlock;
  const lines = [
    ll.available
      ? `Landlock ABI ${ll.abi}${
        ll.kernel_abi !== ll.abi ? ` (kernel reports ${ll.kernel_abi})` : ""
      }`
      : "Landlock: unavailable",
    ...(ll.note ? [`  ${ll.note}`] : []),
    ...ll.features.map((f) =>
      `  ${
        f.supported ? "yes" : "no "
      }  ABI ${f.abi} (Linux ${f.linux}): ${f.feature}`
    ),
    `seccomp filters: ${report.seccomp.filter ? "yes" : "no"}`,
    `seccomp user notification: ${report.seccomp.user_notify ? "yes" : "no"}`,
    `unprivileged user namespaces: ${
      report.user_namespaces.unprivileged
        ? "yes"
        : `no (${report.user_namespaces.reason})`
    }`,
    `[mount] and [runtime] here: ${
      report.namespaces_for_mounts.ok
        ? `yes (created a ${
          report.namespaces_for_mounts.namespaces.join(" and ")
        } namespace)`
        : `no: ${report.namespaces_for_mounts.error}; policies without them still run`
    }`,
  ];
  console.log(lines.join("\n"));
  return EXIT.OK;
}
