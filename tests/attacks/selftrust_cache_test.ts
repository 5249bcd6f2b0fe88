/**
 * Cache poisoning (issue 10, item 3): a policy that lets the command write
 * its cache directory (here `$XDG_CACHE_HOME`, as pip and npm need) must not
 * let the command change how the next run of the same policy is sandboxed.
 * Run 1 rewrites whatever landlockd keeps in that directory; run 2 tries to
 * read a secret the policy denies. landlockd keeps no policy cache, so run 2
 * is refused by the kernel.
 */
import assert from "node:assert/strict";
import {
  chownTree,
  landlockd,
  policyFile,
  python3,
  RUN_ROOT,
  tempDir,
  USERS,
} from "../helpers.ts";

const READ = `["execute", "read_file", "read_dir"]`;
const WRITE =
  `["read_file", "read_dir", "write_file", "make_reg", "make_dir", "remove_file", "remove_dir", "refer"]`;

function rule(path: string, access: string, optional = false): string {
  return `  [[fs_layer.rule]]
  path = "${path}"
  allowed_access = ${access}${optional ? "\n  optional = true" : ""}
`;
}

/** Reads the system and the attack, writes only the cache directory. */
function cachePolicy(cache: string): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg", "make_dir", "remove_file", "remove_dir", "refer"]
${rule("/usr", READ)}${rule("/lib", READ, true)}${rule("/lib64", READ, true)}${
    rule("/etc", READ)
  }${rule("/dev/null", `["read_file", "write_file"]`)}${
    rule(`${RUN_ROOT}tests/attacks`, READ)
  }${rule(cache, WRITE)}`);
}

for (const as of USERS) {
  Deno.test(`[${as}] a command that rewrites its cache directory cannot weaken the next run of the same policy`, async () => {
    const home = tempDir();
    const cache = `${home}/cache`;
    Deno.mkdirSync(cache);
    const secretDir = tempDir();
    Deno.writeTextFileSync(`${secretDir}/secret`, "s3cret\n");
    chownTree(home);
    const policy = cachePolicy(cache);
    // Deno's own cache stays where it was: inside a writable cache
    // directory, run refuses (selftrust_self_test.ts).
    const env: Record<string, string> = { XDG_CACHE_HOME: cache };
    if (as !== "nobody") {
      env.DENO_DIR = Deno.env.get("DENO_DIR") ??
        `${
          Deno.env.get("XDG_CACHE_HOME") ?? `${Deno.env.get("HOME")}/.cache`
        }/deno`;
    }
    const run = (argv: string[]) =>
      landlockd(["run", "--policy-file", policy, "--", ...argv], { as, env });

    // The allowed counterpart: the policy runs, and the cache is writable.
    const poison = await run([
      python3(),
      `${RUN_ROOT}tests/attacks/selftrust_poison_cache.py`,
      cache,
    ]);
    assert.equal(poison.code, 0, poison.stderr);
    // Before the fix: "poisoned 1" (landlockd had cached the policy there).
    assert.equal(poison.stdout, "poisoned 0\n");

    const read = await run(["/usr/bin/cat", `${secretDir}/secret`]);
    assert.equal(read.stdout, "", "the secret leaked");
    assert.equal(read.code, 1);
    assert.match(read.stderr, /Permission denied/);
  });
}
