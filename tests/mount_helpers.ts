/**
 * A directory tree and a [mount] policy shared by the mount tests and the
 * daemon's.
 *
 * @module
 */

import { chownTree, policyFile, PROBE, tempDir } from "./helpers.ts";

/** A tree for mount tests: tmp/ (tmpfs target), src/f, dst/, ro/ (bind targets), bin/probe. */
export function mountTree(): string {
  const d = tempDir();
  for (const sub of ["tmp", "src", "dst", "ro", "bin"]) {
    Deno.mkdirSync(`${d}/${sub}`);
  }
  Deno.writeTextFileSync(`${d}/src/f`, "from the host\n");
  Deno.copyFileSync(PROBE, `${d}/bin/probe`);
  Deno.chmodSync(`${d}/bin/probe`, 0o755);
  chownTree(d);
  return d;
}

/** Rules for the tree, a tmpfs on tmp/, binds of src/ on dst/ and (read-only) ro/. */
export function mountPolicy(d: string, extra = ""): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg", "truncate"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${d}"
  allowed_access = ["read_file", "read_dir", "write_file", "make_reg", "truncate"]
  [[fs_layer.rule]]
  path = "${d}/tmp"
  allowed_access = ["read_file", "read_dir", "write_file", "make_reg", "truncate"]

[mount]
tmpfs = ["${d}/tmp"]
bind = [
  { source = "${d}/src", target = "${d}/dst" },
  { source = "${d}/src", target = "${d}/ro", read_only = true },
]
${extra}`);
}
