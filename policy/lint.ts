/**
 * `landlockd lint`: every error in a policy, plus warnings for rules that
 * can never matter. Looks at the filesystem (rule paths must exist).
 *
 * @module
 */

import type { Diagnostic, Source } from "./diagnostic.ts";
import { expandPolicy } from "./expand.ts";
import { isBeneath } from "./paths.ts";
import { FILE_RIGHTS, type FsRight } from "./rights.ts";
import type { BaselineRelaxation, Policy } from "./schema.ts";
import { validatePolicy } from "./validate.ts";
import { relocate } from "./origins.ts";
import { addfdWarnings } from "./addfd_lint.ts";
import {
  handledNet,
  ioUringConflict,
  NET_RESTRICTS_NOTHING,
  netRestricts,
  socketRules,
} from "./net_sockets.ts";

/** How a path looks on this host, for lint's checks. */
export type PathInfo = "directory" | "file" | "missing";

/** Default probe: follows symlinks, as Landlock does when opening a rule path. */
export function statPath(path: string): PathInfo {
  try {
    return Deno.statSync(path).isDirectory ? "directory" : "file";
  } catch {
    return "missing";
  }
}

export { isBeneath };

/** Lints a document: syntax, schema, paths, then rules that cannot matter. */
export function lintPolicy(
  source: Source,
  probe: (path: string) => PathInfo = statPath,
): Diagnostic[] {
  const result = validatePolicy(source, { resolve: true });
  if (!result.policy) return result.diagnostics;
  const { policy, diagnostics } = expandPolicy(result.policy);
  // Diagnostics about a merged policy name the file each key came from.
  const placed = (d: Diagnostic[]) => relocate(result.policy, source, d);
  if (diagnostics.length) return placed(diagnostics);
  // What the run refuses (sandbox/seccomp.ts) is an error here too.
  const conflict = ioUringConflict(policy);
  return placed([
    ...(conflict
      ? [{
        severity: "error" as const,
        path: ["seccomp", "allow"],
        message: conflict,
      }]
      : []),
    ...checkPaths(policy, probe),
    ...warnings(policy, probe),
    ...addfdWarnings(policy),
  ]);
}

function checkPaths(
  policy: Policy,
  probe: (path: string) => PathInfo,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  (policy.fs_layer ?? []).forEach((layer, i) =>
    (layer.rule ?? []).forEach((rule, j) => {
      if (probe(rule.path) === "missing" && !rule.optional) {
        out.push({
          severity: "error",
          path: ["fs_layer", i, "rule", j, "path"],
          message: `"${rule.path}" does not exist`,
        });
      }
    })
  );
  return out;
}

/** What each `[seccomp] allow` entry gives up, as lint says it. */
const GIVES_UP: Record<BaselineRelaxation, string> = {
  io_uring:
    "io_uring operations bypass seccomp: the sandbox can open sockets (MPTCP, which Landlock's TCP rules do not cover, and any call in [seccomp] deny) and do I/O that no seccomp rule sees",
  userfaultfd:
    "userfaultfd lets the sandbox stall any read of its memory, including the broker's reads of the paths it names, holding up landlockd (and a daemon's other runs)",
};

function warning(path: (string | number)[], message: string): Diagnostic {
  return { severity: "warning", path, message };
}

/** Warnings only; the policy is valid. */
export function warnings(
  policy: Policy,
  probe: (path: string) => PathInfo = statPath,
): Diagnostic[] {
  const out: Diagnostic[] = [];
  const layers = policy.fs_layer ?? [];

  // A port rule beside allow_hosts lets connections there skip the proxy.
  if (policy.net?.allow_hosts !== undefined) {
    (policy.net.rule ?? []).forEach((rule, j) => {
      if (!rule.allowed_access.includes("connect_tcp")) return;
      out.push(warning(
        ["net", "rule", j],
        `connect_tcp to port ${rule.port} bypasses the allow_hosts proxy: the command may connect to any host on that port`,
      ));
    });
  }

  layers.forEach((layer, i) => {
    const rules = layer.rule ?? [];
    rules.forEach((rule, j) => {
      const at = ["fs_layer", i, "rule", j];
      if (probe(rule.path) === "file") {
        const ignored = rule.allowed_access.filter((r) =>
          !FILE_RIGHTS.includes(r)
        );
        if (ignored.length) {
          out.push(warning(
            [...at, "allowed_access"],
            `"${rule.path}" is not a directory, so ${
              ignored.join(", ")
            } can never apply to it`,
          ));
        }
      }
      // A rule whose rights an ancestor rule of the same layer already grants.
      const cover = rules.findIndex((other, k) =>
        k !== j && isBeneath(rule.path, other.path) &&
        (other.path !== rule.path || k < j) &&
        rule.allowed_access.every((r) => other.allowed_access.includes(r))
      );
      if (cover >= 0) {
        out.push(warning(
          at,
          `can never matter: fs_layer[${i}].rule[${cover}] already allows these rights at or above "${rule.path}"`,
        ));
      }
      // Rights another layer handles but allows nowhere on this path.
      const blocked = new Map<number, FsRight[]>();
      layers.forEach((otherLayer, k) => {
        if (k === i) return;
        for (const right of rule.allowed_access) {
          if (!otherLayer.handled_access_fs.includes(right)) continue;
          const allowedThere = (otherLayer.rule ?? []).some((o) =>
            o.allowed_access.includes(right) &&
            (isBeneath(rule.path, o.path) || isBeneath(o.path, rule.path))
          );
          if (!allowedThere) blocked.set(k, [...blocked.get(k) ?? [], right]);
        }
      });
      for (const [k, rights] of blocked) {
        out.push(warning(
          [...at, "allowed_access"],
          `${
            rights.join(", ")
          } can never take effect at "${rule.path}": fs_layer[${k}] handles ${
            rights.length > 1 ? "them" : "it"
          } and allows ${
            rights.length > 1 ? "them" : "it"
          } nowhere on this path (stacked layers intersect)`,
        ));
      }
    });
  });

  const ports = new Map<number, number>();
  (policy.net?.rule ?? []).forEach((rule, j) => {
    if (ports.has(rule.port)) {
      out.push(warning(
        ["net", "rule", j, "port"],
        `port ${rule.port} already has net.rule[${
          ports.get(rule.port)
        }]; the rights are combined`,
      ));
    } else ports.set(rule.port, j);
  });

  const net = policy.net;
  if (
    net && handledNet(net).includes("connect_tcp") &&
    socketRules(net).udp === "allow" && net.udp === undefined
  ) {
    out.push(warning(
      ["net"],
      'UDP is unrestricted: [net] limits TCP connects, but Landlock does not cover UDP (QUIC, direct DNS); add udp = "deny", or udp = "dns" to allow only the nameservers',
    ));
  }

  if (net && net.raw === true && socketRules(net).udp !== "allow") {
    out.push(warning(
      ["net", "raw"],
      `raw = true lets a process with CAP_NET_RAW (root) send UDP through a raw socket, past udp = "${
        socketRules(net).udp
      }"; leave raw out (it defaults to false where UDP is restricted) unless the command needs raw sockets`,
    ));
  }

  if (net && !netRestricts(net)) {
    out.push(warning(["net"], NET_RESTRICTS_NOTHING));
  }

  if (policy.broker && !layers.length) {
    out.push(warning(
      ["broker"],
      "without an [[fs_layer]], the broker's exceptions grant nothing beyond what the command can already do",
    ));
  }

  (policy.seccomp?.allow ?? []).forEach((name, i) => {
    out.push(warning(["seccomp", "allow", i], GIVES_UP[name]));
  });

  // Mount targets and the rootfs are useless when no rule reaches them.
  if (layers.length) {
    const root = policy.runtime?.root?.replace(/\/+$/, "") ?? "";
    const covered = (hostPath: string) =>
      layers.every((l) =>
        (l.rule ?? []).some((r) => isBeneath(hostPath, r.path))
      );
    const targets: [string, (string | number)[]][] = [
      ...(policy.runtime?.root
        ? [
          [policy.runtime.root, ["runtime", "root"]] as [
            string,
            (string | number)[],
          ],
        ]
        : []),
      ...(policy.mount?.tmpfs ?? []).map((t, i) =>
        [root + t, ["mount", "tmpfs", i]] as [string, (string | number)[]]
      ),
      ...(policy.mount?.bind ?? []).map((b, i) =>
        [root + b.target, ["mount", "bind", i, "target"]] as [
          string,
          (string | number)[],
        ]
      ),
    ];
    for (const [hostPath, key] of targets) {
      if (!covered(hostPath)) {
        out.push(warning(
          key,
          `"${hostPath}" is not covered by any Landlock rule of every layer, so the sandbox cannot use it`,
        ));
      }
    }
  }
  return out;
}
