/**
 * `--dry-run`'s warnings about the working directory the command would
 * start in: hidden by a `[mount]` (the command starts in the directory the
 * mount covers, outside the view the policy describes), or not listable
 * under the Landlock rules.
 *
 * @module
 */

import { isBeneath } from "../policy/paths.ts";
import { HOST, type PathProbe } from "./command_path.ts";
import type { SandboxPlan } from "./run.ts";

/** Warnings for starting the command in `cwd` under `plan`. */
export function cwdWarnings(
  plan: Pick<SandboxPlan, "landlock" | "mounts">,
  cwd: string,
  probe: PathProbe = HOST,
): string[] {
  const out: string[] = [];
  // A prepared root or [runtime] cwd decides where the command starts.
  if (plan.mounts?.root !== undefined || plan.mounts?.cwd !== undefined) {
    return out;
  }
  for (const m of plan.mounts?.mounts ?? []) {
    if (isBeneath(cwd, m.target)) {
      out.push(
        `warning: the working directory "${cwd}" is hidden by the ${m.kind} mounted on "${m.target}": the command starts in the directory under the mount, which the policy's rules for "${m.target}" do not cover; run from elsewhere or set [runtime] cwd`,
      );
    }
  }
  const real = probe.realPath(cwd) ?? cwd;
  const blocked = plan.landlock.layers.some((layer) =>
    layer.handled_access_fs.includes("read_dir") &&
    !layer.path_beneath.some((rule) => {
      if (!rule.allowed_access.includes("read_dir")) return false;
      const base = probe.realPath(rule.path);
      return base !== undefined && isBeneath(real, base);
    })
  );
  if (blocked) {
    out.push(
      `warning: the working directory "${cwd}" is not reachable under the policy: no rule allows read_dir there, so the command cannot list it`,
    );
  }
  return out;
}
