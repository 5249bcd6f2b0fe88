/**
 * A PATH candidate the policy does not allow executing (a version
 * manager's shim) is skipped by the child for a later one; landlockd warns
 * at --dry-run and at run time, naming both. Root and nobody.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, tempDir, USERS } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

function shimDir(): string {
  const dir = tempDir("shims-");
  Deno.writeTextFileSync(`${dir}/true`, "#!/bin/sh\necho SHIM\n");
  Deno.chmodSync(`${dir}/true`, 0o755);
  return dir;
}

const POLICY = () =>
  policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute"]
  [[fs_layer.rule]]
  path = "/bin"
  allowed_access = ["execute"]
  [[fs_layer.rule]]
  path = "/lib"
  allowed_access = ["execute"]
  [[fs_layer.rule]]
  path = "/lib64"
  allowed_access = ["execute"]
  optional = true
`);

for (const as of USERS) {
  Deno.test(`[${as}] a denied PATH candidate is skipped, with a warning naming what runs instead`, async () => {
    const shims = shimDir();
    const env = { PATH: `${shims}:/usr/bin:/bin` };
    const r = await landlockd(
      ["run", "--policy-file", POLICY(), "--", "true"],
      { as, env },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.ok(!r.stdout.includes("SHIM"));
    assert.ok(
      r.stderr.includes(
        `landlockd: warning: "${shims}/true" is on PATH, but the policy does not allow executing it; "/usr/bin/true" runs instead`,
      ),
      r.stderr,
    );
  });
}

testAtAbi(
  3,
  "truncate (ci-default)",
  "--dry-run resolves the command through PATH under the policy",
  async () => {
    const shims = shimDir();
    const r = await landlockd(
      ["run", "--dry-run", "--policy-file", POLICY(), "--", "true"],
      { env: { PATH: `${shims}:/usr/bin:/bin` } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(JSON.parse(r.stdout).executable, {
      path: "/usr/bin/true",
      skipped: [`${shims}/true`],
    });
    assert.match(r.stderr, /warning: ".*\/true" is on PATH, but the policy/);
    const allowed = await landlockd(
      ["run", "--dry-run", "--policy", "ci-default", "--", "true"],
      { env: { PATH: `${shims}:/usr/bin:/bin` } },
    );
    assert.deepEqual(JSON.parse(allowed.stdout).executable, {
      path: `${shims}/true`,
      skipped: [],
    });
    assert.equal(allowed.stderr, "");
  },
);
