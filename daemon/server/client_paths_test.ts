import assert from "node:assert/strict";
import { validatePolicy } from "../../policy/validate.ts";
import { clientPaths } from "./client_paths.ts";

function policy(text: string) {
  const { policy } = validatePolicy({ name: "p.toml", text });
  assert.ok(policy);
  return policy;
}

Deno.test("clientPaths lists every host path a run resolves, with its key; mount targets inside the rootfs", () => {
  const p = policy(`version = 1
[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["read_file"]
[runtime]
root = "/srv/root/"
[mount]
tmpfs = ["/tmp"]
bind = [{ source = "/data", target = "/mnt" }]
proc = ["/proc"]
[broker]
allow_read = ["/r"]
allow_write = ["/w"]
scratch = ["/s"]
export = ["/e"]
mount_bind = [{ source = "/inside", target = "/x" }]
`);
  assert.deepEqual(
    clientPaths(p).map((c) => [c.key.join("."), c.path]),
    [
      ["runtime.root", "/srv/root/"],
      ["fs_layer.0.rule.0.path", "/usr"],
      ["mount.tmpfs.0", "/srv/root/tmp"],
      ["mount.bind.0.source", "/data"],
      ["mount.bind.0.target", "/srv/root/mnt"],
      ["mount.proc.0", "/srv/root/proc"],
      ["broker.allow_read.0", "/r"],
      ["broker.allow_write.0", "/w"],
      ["broker.scratch.0", "/s"],
      ["broker.export.0", "/e"],
      // mount_bind sources are the sandbox's paths under a rootfs: not here.
    ],
  );
});

Deno.test("clientPaths: without a rootfs, brokered mount_bind sources are host paths and listed", () => {
  const p = policy(`version = 1
[scope]
signal = true
[broker]
mount_bind = [{ source = "/data", target = "/mnt" }]
`);
  assert.deepEqual(clientPaths(p), [
    { path: "/data", key: ["broker", "mount_bind", 0, "source"] },
  ]);
});
