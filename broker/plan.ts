/**
 * The broker's part of a plan: declared paths canonicalised (a missing one
 * is an error), and the system calls to intercept on this architecture.
 *
 * @module
 */

import { PathError } from "../policy/diagnostic.ts";
import type { Policy } from "../policy/schema.ts";
import type { Arch } from "../seccomp/filter.ts";
import { syscallTable } from "../seccomp/table.ts";
import type { FastPath } from "../syscalls/seccomp_notify.ts";
import { type AddfdGrant, type Grants, normalize } from "./paths.ts";
import { plantable } from "./symlinks.ts";
import {
  callsOn,
  MOUNT_CALLS,
  NEW_MOUNT_API,
  OPEN_CALLS,
  TREE_CALLS,
} from "./requests.ts";
import { MOUNT_ATTR, type MountGrants } from "./mounts.ts";
import { planUdp } from "./udp_plan.ts";
import type { TcpPlan, UdpPlan } from "./udp_rules.ts";
import { UDP_CALLS } from "./udp_calls.ts";

/** What the broker grants and which calls it sees. */
export interface BrokerPlan {
  grants: Grants;
  /** Brokered mounts, when `mount_tmpfs` or `mount_bind` declare any. */
  mounts?: MountGrants;
  notify: string[];
  /** The rest of the mount family, refused with the policy's errno. */
  deny: string[];
  /** `[net] udp = "dns"`: the nameservers datagrams may go to. */
  udp?: UdpPlan;
  /** `[net] allow_hosts`: TCP connects reach the proxy on 127.0.0.1 only. */
  tcp?: TcpPlan;
}

type Kind = "allow_read" | "allow_write" | "scratch" | "export";

function canonical(
  policy: Policy,
  path: string,
  key: Kind,
  index: number,
  want: "file" | "directory",
): string {
  const planted = plantable(path, policy);
  if (planted) {
    throw new PathError({
      severity: "error",
      path: ["broker", key, index],
      message:
        `"${path}" goes through the symlink "${planted.link}", in a directory the sandbox may change (make_sym, or make_dir with refer): an earlier run could have put it there. Declare the path it leads to instead`,
    });
  }
  let real: string;
  try {
    real = Deno.realPathSync(path);
  } catch (e) {
    throw new PathError({
      severity: "error",
      path: ["broker", key, index],
      message: e instanceof Deno.errors.NotFound
        ? `"${path}" does not exist`
        : `cannot resolve "${path}": ${(e as Error).message}`,
    });
  }
  const isDir = Deno.statSync(real).isDirectory;
  if (isDir !== (want === "directory")) {
    throw new PathError({
      severity: "error",
      path: ["broker", key, index],
      message: want === "directory"
        ? `"${path}" is not a directory`
        : `"${path}" is a directory; declare files here, directories as scratch or export`,
    });
  }
  return real;
}

/**
 * The `open` and `scratch_open` rules of `[[broker.addfd]]`, each target
 * normalised and, when it exists, canonical too. The mount actions
 * (`open_tree`, `fsopen`, `fsmount`) are left out: landlockd's broker hands
 * out eventfd tokens for mount fds (broker/mounts.ts), which these rules do
 * not narrow. Any rule, of any action, still makes the list present, and so
 * every open and scratch_open fd need a covering rule.
 */
export function addfdGrants(
  rules: NonNullable<NonNullable<Policy["broker"]>["addfd"]>,
): AddfdGrant[] {
  const out: AddfdGrant[] = [];
  for (const r of rules) {
    if (r.action !== "open" && r.action !== "scratch_open") continue;
    const targets = [normalize(r.target)];
    try {
      const real = Deno.realPathSync(r.target);
      if (real !== targets[0]) targets.push(real);
    } catch {
      // a target that does not exist covers only its written path
    }
    out.push({
      action: r.action,
      targets,
      ...(r.mode ? { mode: r.mode } : {}),
    });
  }
  return out;
}

/**
 * The broker plan, or undefined when `[broker]` declares nothing,
 * `[net] udp` is not "dns" and `[net] allow_hosts` is not set.
 */
export function planBroker(policy: Policy, arch: Arch): BrokerPlan | undefined {
  const files = planFiles(policy, arch);
  const udp = planUdp(policy);
  const tcp = planTcp(policy);
  if (!udp && !tcp) return files;
  const grants = files?.grants ??
    { files: new Map(), scratch: [], export: [] };
  const calls = udp ? UDP_CALLS : ["connect"];
  return {
    grants,
    ...(files?.mounts ? { mounts: files.mounts } : {}),
    notify: [...files?.notify ?? [], ...callsOn(arch, calls)],
    deny: files?.deny ?? [],
    ...(udp ? { udp } : {}),
    ...(tcp ? { tcp } : {}),
  };
}

/** `[net] allow_hosts`: the TCP plan, its proxy port still 0. */
export function planTcp(policy: Policy): TcpPlan | undefined {
  if (policy.net?.allow_hosts === undefined) return undefined;
  const rulePorts = (policy.net.rule ?? [])
    .filter((r) => r.allowed_access.includes("connect_tcp"))
    .map((r) => r.port);
  return { proxy_port: 0, rule_ports: [...new Set(rulePorts)] };
}

/** The part of the plan `[broker]` declares. */
function planFiles(policy: Policy, arch: Arch): BrokerPlan | undefined {
  const b = policy.broker;
  if (!b) return undefined;
  const files: Grants["files"] = new Map();
  const addFiles = (key: "allow_read" | "allow_write", writable: boolean) =>
    (b[key] ?? []).forEach((path, i) => {
      const real = canonical(policy, path, key, i, "file");
      const grant = {
        canonical: real,
        writable: writable || (files.get(real)?.writable ?? false),
      };
      files.set(normalize(path), grant);
      files.set(real, grant);
    });
  addFiles("allow_read", false);
  addFiles("allow_write", true);
  const roots = (key: "scratch" | "export") =>
    (b[key] ?? []).map((p, i) => canonical(policy, p, key, i, "directory"));
  const grants: Grants = {
    files,
    scratch: roots("scratch"),
    export: roots("export"),
    ...(b.addfd ? { addfd: addfdGrants(b.addfd) } : {}),
  };
  const trees = grants.scratch.length + grants.export.length > 0;
  const declaredMounts = (b.mount_tmpfs?.length ?? 0) +
    (b.mount_bind?.length ?? 0) + (b.mount_object?.length ?? 0);
  const mounts: MountGrants | undefined = declaredMounts > 0
    ? {
      tmpfs: (b.mount_tmpfs ?? []).map((t) => normalize(t)),
      bind: (b.mount_bind ?? []).map((m) => ({
        source: normalize(m.source),
        target: normalize(m.target),
        read_only: m.read_only ?? false,
      })),
      objects: (b.mount_object ?? []).map((o) => ({
        name: o.name,
        fs_type: o.fs_type,
        attach: o.attach.map((a) => normalize(a)),
        attrs: (o.attrs ?? []).reduce((m, a) => m | MOUNT_ATTR[a], 0),
      })),
      errno: policy.seccomp?.errno ?? 1,
    }
    : undefined;
  if (!files.size && !trees && !mounts) return undefined;
  return {
    grants,
    mounts,
    notify: callsOn(arch, [
      ...OPEN_CALLS,
      ...(trees ? TREE_CALLS : []),
      ...(mounts ? MOUNT_CALLS : []),
    ]),
    deny: mounts ? callsOn(arch, NEW_MOUNT_API) : [],
  };
}

/** The plan as JSON for `--dry-run`: every name the broker matches. */
export function describeBroker(plan: BrokerPlan) {
  return {
    files: [...plan.grants.files].map(([path, g]) => ({
      path,
      canonical: g.canonical,
      access: g.writable ? "read_write" : "read",
    })),
    scratch: plan.grants.scratch,
    export: plan.grants.export,
    ...(plan.grants.addfd ? { addfd: plan.grants.addfd } : {}),
    ...(plan.mounts ? { mounts: plan.mounts } : {}),
    ...(plan.udp ? { udp: plan.udp } : {}),
    ...(plan.tcp ? { tcp: plan.tcp } : {}),
    notify: plan.notify,
  };
}

/** Path argument index of each open-family call. */
const PATH_ARG: Record<string, number> = {
  openat: 1,
  openat2: 1,
  open: 0,
  creat: 0,
};

/** What the C fast path needs: declared prefixes and open-family calls. */
export function fastPath(plan: BrokerPlan, arch: Arch): FastPath {
  const table = syscallTable(arch);
  return {
    prefixes: [
      ...plan.grants.files.keys(),
      ...plan.grants.scratch,
      ...plan.grants.export,
    ],
    calls: callsOn(arch, OPEN_CALLS).map((n) => [table[n], PATH_ARG[n]]),
  };
}
