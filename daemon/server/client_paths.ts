/**
 * What a root daemon may open for a client: only what the client itself
 * could reach. Every host path the daemon resolves on a client's behalf
 * (`[runtime] root`, Landlock rule paths, `[mount]` sources and targets,
 * brokered `mount_bind` sources, broker `allow_read`, `allow_write`,
 * `scratch` and `export`) is opened with O_PATH with the client's fsuid,
 * fsgid and groups (syscalls/identity.ts `reachAs`: this thread only, set
 * back after the opens, as for the broker's roots). A path the client
 * cannot reach refuses the run, naming the key and path.
 *
 * This check gives the message and keeps `stat` results of paths the
 * client cannot see from reaching it. The enforcement itself is where the
 * paths are used: the spawned child mounts and pivots, and the mount helper
 * serves brokered mounts, with the client's fsuid (ffi/spawn.c, ffi/init.c), and
 * the broker thread opens files with it (daemon/broker_worker.ts). So a
 * path swapped for a symlink after this check still fails with EACCES.
 *
 * @module
 */

import { PathError } from "../../policy/diagnostic.ts";
import type { Policy } from "../../policy/schema.ts";
import { describeErrno, errno } from "../../syscalls/errno.ts";
import type { Identity } from "../../syscalls/process.ts";
import { reachAs } from "../../syscalls/identity.ts";

export { reachAs };

/** A host path the daemon would resolve for the client, and its policy key. */
export interface ClientPath {
  path: string;
  key: (string | number)[];
}

/**
 * The host paths a run of `policy` makes the daemon resolve. Brokered
 * `mount_bind` sources are as the sandbox sees them: host paths only
 * without a `[runtime] root` (with one, the mount helper's own check is
 * the only one).
 */
export function clientPaths(policy: Policy): ClientPath[] {
  const out: ClientPath[] = [];
  const root = policy.runtime?.root;
  const base = root ? root.replace(/\/+$/, "") : "";
  if (root) out.push({ path: root, key: ["runtime", "root"] });
  // Rule paths: the daemon opens them (O_PATH) to build the rulesets; one
  // it could open and the client could not would tell the client whether
  // a path it cannot see exists.
  (policy.fs_layer ?? []).forEach((layer, i) =>
    (layer.rule ?? []).forEach((rule, j) =>
      out.push({ path: rule.path, key: ["fs_layer", i, "rule", j, "path"] })
    )
  );
  const m = policy.mount;
  (m?.tmpfs ?? []).forEach((t, i) =>
    out.push({ path: base + t, key: ["mount", "tmpfs", i] })
  );
  (m?.bind ?? []).forEach((b, i) => {
    out.push({ path: b.source, key: ["mount", "bind", i, "source"] });
    out.push({ path: base + b.target, key: ["mount", "bind", i, "target"] });
  });
  (m?.proc ?? []).forEach((t, i) =>
    out.push({ path: base + t, key: ["mount", "proc", i] })
  );
  const b = policy.broker;
  for (const k of ["allow_read", "allow_write", "scratch", "export"] as const) {
    (b?.[k] ?? []).forEach((path, i) =>
      out.push({ path, key: ["broker", k, i] })
    );
  }
  if (!root) {
    (b?.mount_bind ?? []).forEach((mb, i) =>
      out.push({ path: mb.source, key: ["broker", "mount_bind", i, "source"] })
    );
  }
  return out;
}

/** errnos that mean "the client may not reach this". */
const REFUSED = new Set([errno.EACCES, errno.EPERM]);

/**
 * Throws a PathError for the first path of `policy` that `ids` cannot
 * reach. Other errors (a missing path) are left to the usual checks,
 * which then speak of a path the client can see.
 */
export function checkClientPaths(policy: Policy, ids: Identity): void {
  const paths = clientPaths(policy);
  const errs = reachAs(ids, paths.map((p) => p.path));
  const i = errs.findIndex((e) => REFUSED.has(e));
  if (i < 0) return;
  throw new PathError({
    severity: "error",
    path: paths[i].key,
    message: `uid ${ids.uid} cannot reach "${paths[i].path}": ${
      describeErrno(errs[i])
    }; a root daemon opens, mounts and brokers paths for a client only with the client's own credentials`,
  });
}
