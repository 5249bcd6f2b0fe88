/**
 * Turns a Landlock plan into ruleset fds, one per layer.
 *
 * @module
 */

import { PathError } from "../policy/diagnostic.ts";
import {
  fitRuleToTarget,
  type LandlockPlan,
  type PlannedPathRule,
  type TargetKind,
} from "../policy/plan.ts";
import { FS_RIGHTS, NET_RIGHTS, SCOPES, toMask } from "../policy/rights.ts";
import { describeErrno, errno, SyscallError } from "../syscalls/errno.ts";
import {
  addNetPort,
  addPathBeneath,
  addPathRules,
  createRuleset,
  type PathRuleBatch,
  pathRuleBatch,
  type PathRuleFailure,
} from "../syscalls/landlock.ts";
import { close, isDirectoryFd, openPath } from "../syscalls/sys.ts";
import type { LateRule } from "../syscalls/process.ts";
import { isBeneath } from "../policy/paths.ts";
import type { MountPlan } from "./mounts.ts";

/** `["fs_layer", 0, "rule", 2]` for `fs_layer[0].rule[2]`. */
export function keyPath(key: string): (string | number)[] {
  return key.split(/[.[\]]+/).filter((p) => p !== "").map((p) =>
    /^\d+$/.test(p) ? Number(p) : p
  );
}

/** The kind of object behind an O_PATH fd (statx on the fd). */
function kindOfFd(fd: number): TargetKind {
  return isDirectoryFd(fd) ? "directory" : "file";
}

/**
 * Opens a rule's path; a missing path becomes a diagnostic at its key, or
 * -1 when the rule is optional.
 */
export function openRulePath(rule: PlannedPathRule): number {
  try {
    return openPath(rule.path);
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.code === "ENOENT" && rule.optional) return -1;
    throw openFailure(rule, e.errno);
  }
}

/** A rule path that cannot be opened, as a diagnostic at its key. */
function openFailure(rule: PlannedPathRule, err: number): PathError {
  return new PathError({
    severity: "error",
    path: [...keyPath(rule.key), "path"],
    message: err === errno.ENOENT
      ? `"${rule.path}" does not exist`
      : `cannot open "${rule.path}": ${describeErrno(err)}`,
  });
}

/**
 * A layer's path rules laid out for one C call, once per planned list
 * (a cached plan's rulesets are built again each run, from the same list).
 */
const batches = new WeakMap<readonly PlannedPathRule[], PathRuleBatch>();

function batchOf(rules: readonly PlannedPathRule[]): PathRuleBatch {
  let batch = batches.get(rules);
  if (!batch) {
    batch = pathRuleBatch(rules.map((r) => ({
      path: r.path,
      dirMask: toMask(FS_RIGHTS, r.allowed_access),
      fileMask: toMask(
        FS_RIGHTS,
        fitRuleToTarget(r, "file").rule.allowed_access,
      ),
      optional: r.optional,
    })));
    batches.set(rules, batch);
  }
  return batch;
}

/** What a failure of {@link addPathRules} means for its rule. */
function ruleFailure(rule: PlannedPathRule, f: PathRuleFailure): Error {
  if (f.step === "open") return openFailure(rule, f.errno);
  return f.step === "statx"
    ? new SyscallError("statx", f.errno, rule.path)
    : new SyscallError("add a Landlock rule for", f.errno, rule.path);
}

/** The kind of object each rule path names (for `--dry-run`). */
export function ruleTargetKind(rule: PlannedPathRule): TargetKind | "missing" {
  const fd = openRulePath(rule);
  if (fd < 0) return "missing";
  try {
    return kindOfFd(fd);
  } finally {
    close(fd);
  }
}

/** The rulesets, and the rules the child adds after mounting. */
export interface Rulesets {
  fds: number[];
  late: LateRule[];
}

/**
 * Creates one ruleset per planned layer and adds its rules. A rule on a
 * tmpfs or proc mount target is returned as a late rule instead: the new
 * filesystem exists only in the child, and Landlock does not see through a
 * mount to the directory it hides. Closes what it made on failure.
 */
export function buildRulesets(
  plan: LandlockPlan,
  mounts?: MountPlan,
): Rulesets {
  const fresh = (mounts?.mounts ?? []).filter((m) => m.kind !== "bind");
  const fds: number[] = [];
  const late: LateRule[] = [];
  try {
    plan.layers.forEach((layer, index) => {
      const fd = createRuleset({
        handled_access_fs: toMask(FS_RIGHTS, layer.handled_access_fs),
        handled_access_net: toMask(NET_RIGHTS, layer.handled_access_net),
        scoped: toMask(SCOPES, layer.scoped),
      });
      fds.push(fd);
      if (!fresh.length) {
        // Without mounts made for the child: every rule in one C call.
        const failed = addPathRules(fd, batchOf(layer.path_beneath));
        if (failed) throw ruleFailure(layer.path_beneath[failed.index], failed);
      }
      for (const planned of fresh.length ? layer.path_beneath : []) {
        const mount = fresh.find((m) => isBeneath(planned.path, m.host_target));
        if (mount) {
          if (planned.path.replace(/\/+$/, "") !== mount.host_target) {
            throw new PathError({
              severity: "error",
              path: [...keyPath(planned.key), "path"],
              message:
                `"${planned.path}" is inside the ${mount.kind} mounted on "${mount.target}", which is empty when rules are added: put the rule on "${mount.host_target}" itself`,
            });
          }
          late.push({
            path: mount.target,
            allowedAccess: toMask(FS_RIGHTS, planned.allowed_access),
            layer: index,
          });
          continue;
        }
        const parent = openRulePath(planned);
        if (parent < 0) continue; // optional and absent
        try {
          const { rule } = fitRuleToTarget(planned, kindOfFd(parent));
          if (rule.allowed_access.length) {
            addPathBeneath(
              fd,
              toMask(FS_RIGHTS, rule.allowed_access),
              parent,
              rule.path,
            );
          }
        } finally {
          close(parent);
        }
      }
      for (const rule of layer.net_port) {
        if (rule.proxy && rule.port === 0) {
          // Fail closed: a proxy rule without its port would allow port 0.
          throw new Error(
            "internal error: the egress proxy's port was not set before the rules were built",
          );
        }
        addNetPort(fd, toMask(NET_RIGHTS, rule.allowed_access), rule.port);
      }
    });
    return { fds, late };
  } catch (e) {
    fds.forEach(close);
    throw e;
  }
}
