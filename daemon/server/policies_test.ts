import assert from "node:assert/strict";
import { PolicyCache } from "./policies.ts";
import type { Trusted } from "../../sandbox/self_write.ts";

const ALL_WRITE =
  `"write_file", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer"`;

function writes(dir: string): string {
  return `version = 1
[[fs_layer]]
handled_access_fs = ["read_file", ${ALL_WRITE}]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}"
  allowed_access = [${ALL_WRITE}]
`;
}

function file(path: string): Trusted {
  return { path, tree: false, what: "this policy file", hint: "move it" };
}

Deno.test("the daemon refuses a plan that writes what its client trusts, every time, and only that", async () => {
  const dir = Deno.makeTempDirSync({ dir: "/dev/shm" });
  try {
    const cache = new PolicyCache();
    const source = { name: "p.toml", text: writes(dir) };
    await cache.plan(source, {}, undefined, [file("/etc/hostname")]);
    for (let i = 0; i < 2; i++) { // made, then cached
      await assert.rejects(
        cache.plan(source, {}, undefined, [file(`${dir}/p.toml`)]),
        new RegExp(
          `lets the command change this policy file, "${dir}/p.toml" \\(not there yet: its directory "${dir}"\\)`,
        ),
      );
    }
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test({
  name:
    "a root daemon says nothing of a trusted path its client cannot reach (no existence oracle)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const dir = Deno.makeTempDirSync({ dir: "/dev/shm" });
    try {
      Deno.chmodSync(dir, 0o755);
      Deno.mkdirSync(`${dir}/hidden`, { mode: 0o700 });
      Deno.writeTextFileSync(`${dir}/hidden/there`, "");
      const nobody = { uid: 65534, gid: 65534, groups: [] };
      const cache = new PolicyCache();
      const source = { name: "p.toml", text: writes(dir) };
      // Hidden, there or not: the same answer (none).
      for (const name of ["there", "missing"]) {
        await cache.plan(source, {}, nobody, [file(`${dir}/hidden/${name}`)]);
      }
      // What nobody can reach is still protected.
      await assert.rejects(
        cache.plan(source, {}, nobody, [file(`${dir}/p.toml`)]),
        /lets the command change this policy file/,
      );
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
