/**
 * The plan: what a validated policy becomes on a kernel with a given
 * Landlock ABI. Pure functions only; tested from tables in plan_test.ts.
 *
 * @module
 */

import { formatKeyPath } from "./locate.ts";
import { handledNet, netRestricts } from "./net_sockets.ts";
import {
  FILE_RIGHTS,
  FS_RIGHTS,
  type FsRight,
  inBitOrder,
  kernelForAbi,
  NET_RIGHTS,
  type NetRight,
  type Right,
  type Scope,
  SCOPE_NAMES,
  SCOPES,
} from "./rights.ts";
import type { Policy } from "./schema.ts";

/** A `path_beneath` rule as it will be added. */
export interface PlannedPathRule {
  /** Where the rule is in the policy, e.g. `fs_layer[0].rule[2]`. */
  key: string;
  path: string;
  allowed_access: FsRight[];
  /** Skipped when the path does not exist. */
  optional: boolean;
}

/** A `net_port` rule as it will be added. */
export interface PlannedPortRule {
  port: number;
  allowed_access: NetRight[];
  /**
   * The egress proxy's port (`[net] allow_hosts`), known only once the
   * proxy listens: `port` is 0 until {@link withProxyPort} sets it.
   */
  proxy?: true;
}

/** One ruleset, restricted as one Landlock layer. */
export interface PlannedLayer {
  /** The policy sections this layer enforces, e.g. `fs_layer[0]`, `net`. */
  from: string[];
  handled_access_fs: FsRight[];
  handled_access_net: NetRight[];
  scoped: Scope[];
  path_beneath: PlannedPathRule[];
  net_port: PlannedPortRule[];
}

/** A right or scope the kernel lacks, and where the policy asked for it. */
export interface DroppedRight {
  key: string;
  right: string;
  needs_abi: number;
}

/**
 * A right the kernel lacks whose absence makes the sandbox stricter than
 * the policy, never looser: on Landlock ABI 1, which predates `refer`, the
 * kernel denies every rename and link across directories, so a rule that
 * allows `refer` cannot be honoured. Not a dropped right: nothing the
 * policy denies becomes possible, so even strict compat accepts it.
 */
export interface StricterRight {
  key: string;
  right: "refer";
  needs_abi: number;
  effect: string;
}

/** What ABI 1 does instead of `refer`, in the kernel's terms. */
export const REFER_ON_ABI_1 =
  "the kernel denies every rename and link across directories (EXDEV), including where this rule allows them";

/** How much of the policy the kernel enforces. */
export type EnforcementStatus =
  | "fully_enforced"
  | "partially_enforced"
  | "not_enforced";

/** The policy's Landlock part, fitted to one ABI. */
export interface LandlockPlan {
  abi: number;
  compat: Policy["compat"];
  layers: PlannedLayer[];
  dropped: DroppedRight[];
  /** Rights whose absence is stricter than the policy (see StricterRight). */
  stricter: StricterRight[];
  status: EnforcementStatus;
}

/** Strict compatibility and a kernel that lacks something the policy needs. */
export class CompatError extends Error {
  override name = "CompatError";

  constructor(readonly abi: number, readonly missing: DroppedRight[]) {
    super(
      missing.map((m) =>
        `${m.key}: "${m.right}" needs Landlock ABI ${m.needs_abi} (Linux ${
          kernelForAbi(m.needs_abi)
        }), but this kernel provides ABI ${abi}`
      ).join("\n") +
        '\nset compat = "best_effort" to run without what is missing, or use a newer kernel',
    );
  }
}

/** The Landlock ABI that added TCP port rules (Linux 6.7). */
export const NET_ABI = 4;

/**
 * `[net] allow_hosts` on a kernel without TCP rules: nothing could keep
 * connections away from anything but the proxy, so the run is refused
 * whatever `compat` says.
 */
export class EgressCompatError extends CompatError {
  override name = "EgressCompatError";

  constructor(abi: number) {
    super(abi, [{
      key: "net.allow_hosts",
      right: "connect_tcp",
      needs_abi: NET_ABI,
    }]);
    this.message =
      `net.allow_hosts: confining TCP connects to landlockd's egress proxy needs Landlock ABI ${NET_ABI} (Linux ${
        kernelForAbi(NET_ABI)
      }), but this kernel provides ABI ${abi}; allow_hosts is refused even with compat = "best_effort", since without it every host would be reachable`;
  }
}

/**
 * The plan with the egress proxy's port filled in; throws if the plan has
 * no proxy rule (the caller started a proxy the policy did not ask for).
 */
export function withProxyPort(plan: LandlockPlan, port: number): LandlockPlan {
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new RangeError(`proxy port ${port} is not a TCP port`);
  }
  let found = false;
  const layers = plan.layers.map((layer) => ({
    ...layer,
    net_port: layer.net_port.map((r) => {
      if (!r.proxy) return r;
      found = true;
      return { ...r, port };
    }),
  }));
  if (!found) throw new Error("the plan has no egress proxy rule");
  return { ...plan, layers };
}

/** Whether a planned port rule is the proxy's, still without its port. */
export function unfilledProxyRule(plan: LandlockPlan): boolean {
  return plan.layers.some((l) =>
    l.net_port.some((r) => r.proxy && r.port === 0)
  );
}

function keep<K extends string>(
  table: Record<K, Right>,
  names: readonly K[],
  abi: number,
  key: string,
  dropped: DroppedRight[],
): K[] {
  const kept: K[] = [];
  for (const name of inBitOrder(table, names)) {
    if (table[name].abi <= abi) kept.push(name);
    else dropped.push({ key, right: name, needs_abi: table[name].abi });
  }
  return kept;
}

function emptyLayer(from: string): PlannedLayer {
  return {
    from: [from],
    handled_access_fs: [],
    handled_access_net: [],
    scoped: [],
    path_beneath: [],
    net_port: [],
  };
}

/**
 * Fits the policy's Landlock sections to `abi` (0: no Landlock).
 * Under `compat = "strict"` anything missing throws {@link CompatError};
 * under `"best_effort"` it is dropped and listed in `dropped`.
 *
 * `[net]` and `[scope]` join the first `[[fs_layer]]`'s ruleset: they
 * govern other objects, so one layer enforces the same as two.
 */
export function planLandlock(policy: Policy, abi: number): LandlockPlan {
  const dropped: DroppedRight[] = [];
  const stricter: StricterRight[] = [];
  const layers: PlannedLayer[] = [];
  // ABI 1 denies what `refer` governs outright: handling it there is exact.
  const referImplied = abi >= 1 && abi < FS_RIGHTS.refer.abi;

  (policy.fs_layer ?? []).forEach((layer, i) => {
    const key = formatKeyPath(["fs_layer", i]);
    const planned = emptyLayer(key);
    const handlesRefer = layer.handled_access_fs.includes("refer");
    planned.handled_access_fs = keep(
      FS_RIGHTS,
      referImplied
        ? layer.handled_access_fs.filter((r) => r !== "refer")
        : layer.handled_access_fs,
      abi,
      `${key}.handled_access_fs`,
      dropped,
    );
    (layer.rule ?? []).forEach((rule, j) => {
      if (
        referImplied && handlesRefer && rule.allowed_access.includes("refer")
      ) {
        stricter.push({
          key: `${key}.rule[${j}].allowed_access`,
          right: "refer",
          needs_abi: FS_RIGHTS.refer.abi,
          effect: REFER_ON_ABI_1,
        });
      }
      const allowed = keep(
        FS_RIGHTS,
        rule.allowed_access,
        abi,
        `${key}.rule[${j}].allowed_access`,
        [],
      );
      if (allowed.length) {
        planned.path_beneath.push({
          key: `${key}.rule[${j}]`,
          path: rule.path,
          allowed_access: allowed,
          optional: rule.optional ?? false,
        });
      }
    });
    if (planned.handled_access_fs.length) layers.push(planned);
  });

  const first = () => {
    if (!layers.length) layers.push(emptyLayer("net"));
    return layers[0];
  };
  if (policy.net?.allow_hosts !== undefined && abi < NET_ABI) {
    throw new EgressCompatError(abi);
  }
  if (policy.net) {
    // The defaults (none for a [net] of udp/raw only; connect_tcp with
    // allow_hosts, which confines connects to the proxy) are in handledNet.
    const handled = keep(
      NET_RIGHTS,
      handledNet(policy.net),
      abi,
      "net.handled_access_net",
      dropped,
    );
    if (handled.length) {
      const layer = first();
      if (!layer.from.includes("net")) layer.from.push("net");
      layer.handled_access_net = handled;
      for (const rule of policy.net.rule ?? []) {
        const allowed = keep(NET_RIGHTS, rule.allowed_access, abi, "", []);
        if (allowed.length) {
          layer.net_port.push({ port: rule.port, allowed_access: allowed });
        }
      }
      if (policy.net.allow_hosts !== undefined) {
        layer.net_port.push({
          port: 0,
          allowed_access: ["connect_tcp"],
          proxy: true,
        });
      }
    }
  }
  if (policy.net && netRestricts(policy.net) && !layers.length && abi >= 1) {
    // A [net] of udp/raw only handles no Landlock right, and without a
    // Landlock domain root (CAP_SYS_PTRACE) traces landlockd, which holds
    // every capability and no filter, and any process runs as the same
    // uid: its network is the command's. One handled right nobody needs
    // (creating block devices) gives the command a domain, and Landlock
    // refuses tracing a process outside it.
    first().handled_access_fs = ["make_block"];
  }
  const scopes = SCOPE_NAMES.filter((s) => policy.scope?.[s] === true);
  const scoped = keep(SCOPES, scopes, abi, "scope", dropped);
  if (scoped.length) {
    const layer = first();
    if (!layer.from.includes("scope")) layer.from.push("scope");
    layer.scoped = scoped;
  }

  if (dropped.length && policy.compat === "strict") {
    throw new CompatError(abi, dropped);
  }
  // Status describes what the policy asked for: asking for nothing drops nothing.
  const status: EnforcementStatus = dropped.length === 0
    ? "fully_enforced"
    : layers.length
    ? "partially_enforced"
    : "not_enforced";
  return { abi, compat: policy.compat, layers, dropped, stricter, status };
}

/** What a rule path turned out to be when it was opened. */
export type TargetKind = "directory" | "file";

/**
 * Rights beyond {@link FILE_RIGHTS} cannot apply to a file that is not a
 * directory (the kernel refuses them with EINVAL); this drops them from
 * such rules and says which. Dropping them changes nothing: those rights
 * only ever concern directory entries.
 */
export function fitRuleToTarget(
  rule: PlannedPathRule,
  kind: TargetKind,
): { rule: PlannedPathRule; ignored: FsRight[] } {
  if (kind === "directory") return { rule, ignored: [] };
  const allowed = rule.allowed_access.filter((r) => FILE_RIGHTS.includes(r));
  const ignored = rule.allowed_access.filter((r) => !FILE_RIGHTS.includes(r));
  return { rule: { ...rule, allowed_access: allowed }, ignored };
}
