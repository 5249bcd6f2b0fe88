/**
 * Turns a Landlock plan into ruleset fds, one per layer.
 *
 * @module
 */

import { cstring } from "../ffi/mod.ts";
import { PathError } from "../policy/diagnostic.ts";
import {
  fitRuleToTarget,
  type LandlockPlan,
  type PlannedPathRule,
  type TargetKind,
} from "../policy/plan.ts";
import { FS_RIGHTS, NET_RIGHTS, SCOPES, toMask } from "../policy/rights.ts";
import { describeErrno, SyscallError } from "../syscalls/errno.ts";
import {
  addNetPort,
  addPathBeneath,
  createRuleset,
} from "../syscalls/landlock.ts";
import { close, openPath } from "../syscalls/sys.ts";

/** `["fs_layer", 0, "rule", 2]` for `fs_layer[0].rule[2]`. */
export function keyPath(key: string): (string | number)[] {
  return key.split(/[.[\]]+/).filter((p) => p !== "").map((p) =>
    /^\d+$/.test(p) ? Number(p) : p
  );
}

/** The kind of object behind an O_PATH fd. */
function kindOfFd(fd: number): TargetKind {
  return Deno.statSync(`/proc/self/fd/${fd}`).isDirectory
    ? "directory"
    : "file";
}

/**
 * Opens a rule's path; a missing path becomes a diagnostic at its key, or
 * -1 when the rule is optional.
 */
export function openRulePath(rule: PlannedPathRule): number {
  try {
    return openPath(rule.path, cstring(rule.path));
  } catch (e) {
    if (!(e instanceof SyscallError)) throw e;
    if (e.code === "ENOENT" && rule.optional) return -1;
    throw new PathError({
      severity: "error",
      path: [...keyPath(rule.key), "path"],
      message: e.code === "ENOENT"
        ? `"${rule.path}" does not exist`
        : `cannot open "${rule.path}": ${describeErrno(e.errno)}`,
    });
  }
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

/**
 * Creates one ruleset per planned layer and adds its rules. Returns the fds
 * (close-on-exec) in restriction order; on failure closes what it made.
 */
export function buildRulesets(plan: LandlockPlan): number[] {
  const fds: number[] = [];
  try {
    for (const layer of plan.layers) {
      const fd = createRuleset({
        handled_access_fs: toMask(FS_RIGHTS, layer.handled_access_fs),
        handled_access_net: toMask(NET_RIGHTS, layer.handled_access_net),
        scoped: toMask(SCOPES, layer.scoped),
      });
      fds.push(fd);
      for (const planned of layer.path_beneath) {
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
        addNetPort(fd, toMask(NET_RIGHTS, rule.allowed_access), rule.port);
      }
    }
    return fds;
  } catch (e) {
    fds.forEach(close);
    throw e;
  }
}
