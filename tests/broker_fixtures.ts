/**
 * The broker tests' fixture: a tree with a probe, declared files, scratch
 * and export roots and a secret outside them, and a policy where Landlock
 * allows only running the probe. Shared by tests/broker_test.ts and the
 * escape attempts in tests/attacks/.
 *
 * @module
 */
import {
  chownTree,
  policyFile,
  PROBE,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";

/** A tree: bin/probe, resolv (allow_read), log (allow_write), scratch/, export/, outside/secret. */
export function brokerTree(): string {
  const dir = tempDir();
  for (const d of ["bin", "scratch", "export", "outside"]) {
    Deno.mkdirSync(`${dir}/${d}`);
  }
  Deno.writeTextFileSync(`${dir}/resolv`, "nameserver 192.0.2.1\n");
  Deno.writeTextFileSync(`${dir}/log`, "");
  Deno.writeTextFileSync(`${dir}/outside/secret`, "SECRET\n");
  Deno.writeTextFileSync(`${dir}/scratch/existing`, "x\n");
  Deno.writeTextFileSync(`${dir}/export/published-before`, "x\n");
  Deno.copyFileSync(PROBE, `${dir}/bin/probe`);
  Deno.chmodSync(`${dir}/bin/probe`, 0o755);
  chownTree(dir);
  return dir;
}

/** Landlock allows only running the probe; everything else is the broker's. */
export function brokerPolicy(dir: string, extra = ""): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = [
  "execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
  "make_dir", "make_reg", "make_sym", "refer", "truncate",
]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

[broker]
allow_read = ["${dir}/resolv"]
allow_write = ["${dir}/log"]
scratch = ["${dir}/scratch"]
export = ["${dir}/export"]
${extra}`);
}

export async function probe(
  dir: string,
  as: (typeof USERS)[number],
  ...ops: string[]
) {
  return await sandboxed(brokerPolicy(dir), [`${dir}/bin/probe`, ...ops], {
    as,
  });
}
