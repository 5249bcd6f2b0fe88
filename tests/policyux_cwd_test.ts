/**
 * `--dry-run` warns when the working directory would be hidden by a
 * [mount] or not be listable under the policy; it stays quiet otherwise.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, tempDir } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

async function dryRunStderr(args: string[], cwd: string): Promise<string> {
  const r = await landlockd(["run", "--dry-run", ...args, "--", "/bin/true"], {
    cwd,
  });
  assert.equal(r.code, 0, r.stderr);
  return r.stderr;
}

testAtAbi(
  4,
  "bind_tcp, connect_tcp (hermetic-build)",
  "a working directory under a [mount] tmpfs is reported as hidden",
  async () => {
    const dir = tempDir(); // under /tmp, which hermetic-build mounts a tmpfs on
    const stderr = await dryRunStderr(["--policy", "hermetic-build"], dir);
    assert.ok(
      stderr.includes(
        `warning: the working directory "${dir}" is hidden by the tmpfs mounted on "/tmp"`,
      ),
      stderr,
    );
  },
);

Deno.test("a working directory no rule lets the command list is reported", async () => {
  const dir = tempDir();
  const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["ro", "execute"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["rx"]
`);
  const stderr = await dryRunStderr(["--policy-file", policy], dir);
  assert.ok(
    stderr.includes(
      `warning: the working directory "${dir}" is not reachable under the policy: no rule allows read_dir there`,
    ),
    stderr,
  );
});

testAtAbi(
  3,
  "truncate (ci-default)",
  "no working-directory warning when it is visible and listable",
  async () => {
    const stderr = await dryRunStderr(["--policy", "ci-default"], tempDir());
    assert.equal(stderr, "");
  },
);
