/**
 * The mount part of a plan: which namespaces the child needs and the mount
 * steps it runs in them, before Landlock (a Landlock-restricted thread
 * cannot mount). Mount targets are paths as the command sees them: inside
 * `runtime.root` when there is one. Rule paths stay host paths.
 *
 * @module
 */

import { PathError } from "../policy/diagnostic.ts";
import type { Policy } from "../policy/schema.ts";
import type { MountStep } from "../syscalls/process.ts";
import {
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
  MS_BIND,
  MS_NODEV,
  MS_NOEXEC,
  MS_NOSUID,
  MS_PRIVATE,
  MS_REC,
} from "../syscalls/constants.ts";

/** A mount as `--dry-run` and audit events describe it. */
export interface PlannedMount {
  kind: "tmpfs" | "bind" | "proc";
  /** Where the command sees it. */
  target: string;
  /** Where it is mounted before the pivot (a host path). */
  host_target: string;
  source?: string;
  read_only?: boolean;
  key: (string | number)[];
}

/** Namespaces, mounts and the root, or undefined when none are asked for. */
export interface MountPlan {
  namespaces: ("user" | "mount" | "pid")[];
  clone_flags: number;
  mounts: PlannedMount[];
  root?: string;
  cwd?: string;
  steps: MountStep[];
}

function exists(path: string, dir: boolean): boolean {
  try {
    const st = Deno.statSync(path);
    return dir ? st.isDirectory : true;
  } catch {
    return false;
  }
}

function need(
  path: string,
  key: (string | number)[],
  what: string,
  dir = true,
) {
  if (!exists(path, dir)) {
    throw new PathError({
      severity: "error",
      path: key,
      message: exists(path, false)
        ? `${what} "${path}" is not a directory`
        : `${what} "${path}" does not exist`,
    });
  }
}

/**
 * Plans namespaces and mounts; `uid` decides whether a user namespace is
 * needed. `owner` makes tmpfs mounts belong to that user instead of to
 * the one mounting them (a root daemon running another user's command).
 */
export function planMounts(
  policy: Policy,
  uid = Deno.uid() ?? 0,
  brokered = false,
  owner?: { uid: number; gid: number },
): MountPlan | undefined {
  const m = policy.mount;
  const root = policy.runtime?.root;
  const cwd = policy.runtime?.cwd;
  const any =
    (m?.tmpfs?.length ?? 0) + (m?.bind?.length ?? 0) + (m?.proc?.length ?? 0) >
      0;
  if (!any && !root && !brokered) {
    return cwd
      ? { namespaces: [], clone_flags: 0, mounts: [], cwd, steps: [] }
      : undefined;
  }
  const base = root ? root.replace(/\/+$/, "") : "";
  if (root) need(root, ["runtime", "root"], "the rootfs");
  const mounts: PlannedMount[] = [];
  (m?.tmpfs ?? []).forEach((target, i) =>
    mounts.push({
      kind: "tmpfs",
      target,
      host_target: base + target,
      key: ["mount", "tmpfs", i],
    })
  );
  (m?.bind ?? []).forEach((b, i) => {
    need(b.source, ["mount", "bind", i, "source"], "bind source", false);
    mounts.push({
      kind: "bind",
      source: b.source,
      target: b.target,
      host_target: base + b.target,
      read_only: b.read_only,
      key: ["mount", "bind", i, "target"],
    });
  });
  (m?.proc ?? []).forEach((target, i) =>
    mounts.push({
      kind: "proc",
      target,
      host_target: base + target,
      key: ["mount", "proc", i],
    })
  );
  for (const mt of mounts) {
    need(
      mt.host_target,
      mt.key,
      root ? "mount target (inside the rootfs)" : "mount target",
      mt.kind !== "bind",
    );
  }

  const steps: MountStep[] = [
    { op: "mount", target: "/", flags: MS_REC | MS_PRIVATE },
  ];
  if (root) {
    steps.push({
      op: "mount",
      source: root,
      target: root,
      flags: MS_BIND | MS_REC,
    });
  }
  for (const mt of mounts) {
    if (mt.kind === "tmpfs") {
      steps.push({
        op: "mount",
        source: "tmpfs",
        target: mt.host_target,
        fstype: "tmpfs",
        flags: MS_NOSUID | MS_NODEV,
        data: owner
          ? `mode=0755,uid=${owner.uid},gid=${owner.gid}`
          : "mode=0755",
      });
    } else if (mt.kind === "bind") {
      steps.push({
        op: "mount",
        source: mt.source,
        target: mt.host_target,
        flags: MS_BIND | MS_REC,
      });
      if (mt.read_only) steps.push({ op: "rdonly", target: mt.host_target });
    } else {
      steps.push({
        op: "mount",
        source: "proc",
        target: mt.host_target,
        fstype: "proc",
        flags: MS_NOSUID | MS_NODEV | MS_NOEXEC,
      });
    }
  }
  if (root) steps.push({ op: "pivot", target: root });

  const namespaces: MountPlan["namespaces"] = [];
  let flags = CLONE_NEWNS;
  if (uid !== 0) {
    namespaces.push("user");
    flags |= CLONE_NEWUSER;
  }
  namespaces.push("mount");
  if (brokered || mounts.some((mt) => mt.kind === "proc")) {
    namespaces.push("pid");
    flags |= CLONE_NEWPID;
  }
  return {
    namespaces,
    clone_flags: flags,
    mounts,
    root,
    cwd: cwd ?? (root ? "/" : undefined),
    steps,
  };
}

/** What to say when a namespace or mount step fails. */
export function mountFailureHint(
  plan: MountPlan,
  index: number,
  errno: string,
): string {
  const step = plan.steps[index];
  const what = step?.op === "pivot"
    ? `cannot pivot into the rootfs "${plan.root}"`
    : step?.op === "rdonly"
    ? `cannot make the bind mount on "${step.target}" read-only`
    : step?.op === "mount" && step.fstype === undefined &&
        step.source !== undefined && step.source !== step.target
    ? `cannot bind-mount "${step.source}" on "${step.target}"`
    : `cannot mount ${
      step?.fstype ?? (step?.target === "/" ? "" : "a bind mount")
    } on "${step?.target}"`;
  const hint = errno === "EPERM" || errno === "EACCES"
    ? plan.namespaces.includes("user")
      ? "; unprivileged user namespaces may be restricted here (kernel.apparmor_restrict_unprivileged_userns=1, user.max_user_namespaces=0 or kernel.unprivileged_userns_clone=0): see landlockd abi"
      : ""
    : errno === "ENOENT"
    ? "; create the mount target first"
    : "";
  return `${what.replace(/ +/g, " ")}${hint}`;
}
