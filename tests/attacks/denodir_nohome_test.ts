/**
 * With HOME, XDG_CACHE_HOME and DENO_DIR all unset (cron, `env -i`, a
 * system service), Deno still keeps its cache in the home directory that
 * /etc/passwd gives the user, but landlockd's self-write check found no
 * DENO_DIR and protected none: a policy that could write root's
 * ~/.cache/deno was accepted, and the command could plant code the next
 * start loads. landlockd now takes the home from /etc/passwd as Deno does.
 */
import assert from "node:assert/strict";
import { policyFile, RUN_ROOT } from "../helpers.ts";

const ALL_WRITE =
  `"write_file", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer"`;

/** root's home as /etc/passwd has it. */
function passwdHome(): string {
  const line = Deno.readTextFileSync("/etc/passwd").split("\n")
    .find((l) => l.split(":")[2] === "0");
  return line!.split(":")[5];
}

/** `landlockd run` with no HOME, XDG_CACHE_HOME or DENO_DIR. */
function runWithoutHome(args: string[]) {
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--cached-only",
      "--allow-all",
      `${RUN_ROOT}main.ts`,
      ...args,
    ],
    clearEnv: true,
    env: { PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin", NO_COLOR: "1" },
    cwd: "/",
  }).outputSync();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr).replace(/^(Download|Initialize) .*\n/gm, ""),
  };
}

Deno.test({
  name:
    "[root] without HOME, a policy that can write Deno's cache in the passwd home is refused",
  ignore: Deno.uid() !== 0,
  fn() {
    const cache = `${passwdHome()}/.cache/deno`;
    // Only a folder of its own inside the cache: enough to plant code in
    // (the check protects the whole tree), nothing else is touched.
    const dir = Deno.makeTempDirSync({ dir: cache, prefix: "landlockd-test-" });
    try {
      const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", ${ALL_WRITE}]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}"
  allowed_access = [${ALL_WRITE}]
`);
      // Before the fix: exit 0, and the file was there.
      const r = runWithoutHome([
        "run",
        "--policy-file",
        policy,
        "--",
        "sh",
        "-c",
        `echo planted > ${dir}/planted`,
      ]);
      assert.throws(
        () => Deno.statSync(`${dir}/planted`),
        Deno.errors.NotFound,
      );
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        `landlockd: ${policy}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${dir}" lets the command change Deno's cache (DENO_DIR), which the next start loads code from, "${cache}", and a later run would trust what it wrote there; set DENO_DIR to a directory this policy cannot write\n`,
      );

      // The allowed counterpart: without HOME, a run that writes nothing
      // of landlockd's still runs.
      const ok = runWithoutHome([
        "run",
        "--policy",
        "ci-default",
        "--",
        "/bin/echo",
        "hi",
      ]);
      assert.equal(ok.stderr, "");
      assert.equal(ok.code, 0);
      assert.equal(ok.stdout, "hi\n");
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
