/**
 * Lint warnings for `[[broker.addfd]]`: rules that narrow nothing here, and
 * declared broker paths that a rule set leaves without an fd. The policy
 * stays valid; these say where it does less than it reads.
 *
 * @module
 */

import type { Diagnostic } from "./diagnostic.ts";
import { isBeneath } from "./paths.ts";
import type { Policy } from "./schema.ts";

/** Actions landlockd's broker never answers with an fd. */
const NO_FD = new Set(["open_tree", "fsopen", "fsmount"]);

/** The path and, when it resolves, its canonical form. */
function names(path: string): string[] {
  try {
    const real = Deno.realPathSync(path);
    return real === path ? [path] : [path, real];
  } catch {
    return [path];
  }
}

function covers(targets: string[], path: string): boolean {
  const ps = names(path);
  return targets.some((t) =>
    names(t).some((n) => ps.some((p) => isBeneath(p, n)))
  );
}

/** Warnings about `[[broker.addfd]]` (none when the policy has no rules). */
export function addfdWarnings(policy: Policy): Diagnostic[] {
  const b = policy.broker;
  const rules = b?.addfd ?? [];
  if (!b || !rules.length) return [];
  const out: Diagnostic[] = [];
  const warn = (path: (string | number)[], message: string) =>
    out.push({ severity: "warning", path, message });
  const targets = (action: string) =>
    rules.filter((r) => r.action === action).map((r) => r.target);
  const files = [
    ...(b.allow_read ?? []).map((p, i) => ["allow_read", i, p] as const),
    ...(b.allow_write ?? []).map((p, i) => ["allow_write", i, p] as const),
  ];

  rules.forEach((r, i) => {
    if (NO_FD.has(r.action)) {
      warn(
        ["broker", "addfd", i, "action"],
        `landlockd's broker never injects an fd for ${r.action}: a declared mount (mount_bind, mount_object) gets an eventfd token standing for a mount fd the broker keeps, any other is refused with the policy's errno; this rule grants nothing`,
      );
    } else if (r.action === "open") {
      if (!files.some(([, , p]) => covers([r.target], p))) {
        warn(
          ["broker", "addfd", i, "target"],
          `no allow_read or allow_write file is at or beneath "${r.target}"; this rule injects nothing`,
        );
      }
    } else if (
      !(b.scratch ?? []).some((s) =>
        covers([r.target], s) || covers([s], r.target)
      )
    ) {
      warn(
        ["broker", "addfd", i, "target"],
        `"${r.target}" is not a scratch root or beneath one; this rule injects nothing`,
      );
    }
  });

  // With any addfd rule, every fd the broker injects needs a covering one.
  const open = targets("open");
  for (const [key, i, p] of files) {
    if (!covers(open, p)) {
      warn(
        ["broker", key, i],
        `no [[broker.addfd]] open rule covers "${p}": with addfd rules, the broker refuses its opens (EACCES)`,
      );
    }
  }
  const scratchOpen = targets("scratch_open");
  (b.scratch ?? []).forEach((s, i) => {
    if (!scratchOpen.some((t) => covers([t], s) || covers([s], t))) {
      warn(
        ["broker", "scratch", i],
        `no [[broker.addfd]] scratch_open rule covers "${s}": with addfd rules, the broker refuses opens beneath it (EACCES)`,
      );
    }
  });
  return out;
}
