/**
 * CI can tell landlockd's own failures (125) from the command's status,
 * which passes through unchanged, 1 and 2 included; lint stays 0/1.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, USERS } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

for (const as of USERS) {
  for (const status of [0, 1, 2, 124, 125]) {
    testAtAbi(
      3,
      "truncate (ci-default)",
      `[${as}] run -- sh -c 'exit ${status}' exits ${status}`,
      async () => {
        const r = await landlockd(
          ["run", "--policy", "ci-default", "--", "sh", "-c", `exit ${status}`],
          { as },
        );
        assert.equal(r.code, status, r.stderr);
      },
    );
  }
}

const BAD = 'version = 1\n[[fs_layer]]\nhandled_access_fs = ["red_file"]\n';

Deno.test("a policy error exits 125 from run and 1 from lint", async () => {
  const file = policyFile(BAD);
  const run = await landlockd(["run", "--policy-file", file, "--", "true"]);
  assert.equal(run.code, 125);
  assert.match(run.stderr, /:3: fs_layer\[0\]\.handled_access_fs\[0\]/);
  const lint = await landlockd(["lint", "--policy-file", file]);
  assert.equal(lint.code, 1);
});

Deno.test("a usage error exits 125", async () => {
  const r = await landlockd(["run", "--bogus", "--", "true"]);
  assert.equal(r.code, 125);
});

Deno.test("run --socket to no daemon exits 125", async () => {
  const r = await landlockd([
    "run",
    ...["--socket", "/nonexistent/landlockd.sock", "--policy", "ci-default"],
    "--",
    "true",
  ]);
  assert.equal(r.code, 125, r.stderr);
});
