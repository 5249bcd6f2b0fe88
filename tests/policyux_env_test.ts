/**
 * `[env]` on real runs, as root and nobody: the starter policies keep
 * credentials and landlockd's own variables from the command, a policy can
 * keep one back explicitly, and the daemon applies [env] to the
 * environment its client sends. landlockd's own /proc/PID/environ is not
 * readable from the sandbox as nobody (non-dumpable; syscalls/dumpable.ts).
 */
import assert from "node:assert/strict";
import {
  landlockd,
  outsideTmpDir,
  policyFile,
  tempDir,
  USERS,
} from "./helpers.ts";
import { startDaemon } from "./daemon_helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

const SECRETS = {
  GITHUB_TOKEN: "ghp_secret",
  AWS_SECRET_ACCESS_KEY: "aws_secret",
  NODE_AUTH_TOKEN: "node_secret",
  npm_config__authToken: "npm_secret",
  DEPLOY_KEY: "deploy_secret",
  LANDLOCKD_TEST_OWN: "own_secret",
  LISTEN_FDNAMES: "listen_secret",
  HARMLESS: "visible",
};

function envOf(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.split("\n").filter((l) => l.includes("=")).map((l) => {
      const i = l.indexOf("=");
      return [l.slice(0, i), l.slice(i + 1)];
    }),
  );
}

for (const as of USERS) {
  for (const policy of ["ci-default", "net-fetch", "hermetic-build"]) {
    const [abi, what] = policy === "ci-default"
      ? [3, "truncate (ci-default)"]
      : [4, `bind_tcp, connect_tcp (${policy})`];
    testAtAbi(
      abi,
      what,
      `[${as}] ${policy}: credentials and LANDLOCKD_*/LISTEN_* never reach the command`,
      async () => {
        const r = await landlockd(
          ["run", "--policy", policy, "--", "/usr/bin/env"],
          { as, env: SECRETS },
        );
        assert.equal(r.code, 0, r.stderr);
        const env = envOf(r.stdout);
        assert.equal(env.HARMLESS, "visible");
        for (const k of Object.keys(SECRETS).filter((k) => k !== "HARMLESS")) {
          assert.equal(env[k], undefined, `${k} reached the command`);
        }
      },
    );
  }

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] a policy extending ci-default keeps one credential and sets a variable`,
    async () => {
      const policy = policyFile(
        `extends = "ci-default"
[env]
keep = ["GITHUB_TOKEN"]
set = { TOOL_HOME = "\${HOME}/tool" }
`,
        outsideTmpDir(),
      ); // ci-default writes /tmp
      const r = await landlockd(
        ["run", "--policy-file", policy, "--", "/usr/bin/env"],
        { as, env: SECRETS },
      );
      assert.equal(r.code, 0, r.stderr);
      const env = envOf(r.stdout);
      assert.equal(env.GITHUB_TOKEN, "ghp_secret");
      assert.equal(env.AWS_SECRET_ACCESS_KEY, undefined);
      assert.equal(env.TOOL_HOME, `${env.HOME}/tool`);
    },
  );

  Deno.test(`[${as}] clear = true starts empty except what is kept or set`, async () => {
    const policy = policyFile(`version = 1
[seccomp]
deny = ["ptrace"]
[env]
clear = true
keep = ["PATH"]
set = { ONLY = "this" }
`);
    const r = await landlockd(
      ["run", "--policy-file", policy, "--", "/usr/bin/env"],
      { as, env: SECRETS },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(Object.keys(envOf(r.stdout)).sort(), ["ONLY", "PATH"]);
  });

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] the daemon applies [env] to the environment its client sends`,
    async () => {
      const d = await startDaemon({ as });
      try {
        const r = await landlockd(
          [
            "run",
            ...["--socket", d.socket, "--policy", "ci-default"],
            "--",
            "/usr/bin/env",
          ],
          { as, env: SECRETS },
        );
        assert.equal(r.code, 0, r.stderr);
        const env = envOf(r.stdout);
        assert.equal(env.HARMLESS, "visible");
        assert.equal(env.GITHUB_TOKEN, undefined);
        assert.equal(env.LANDLOCKD_TEST_OWN, undefined);
      } finally {
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  );

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] ci-default: landlockd's own /proc/PPID/environ ${
      as === "root" ? "stays readable to root (CAP_SYS_PTRACE)" : "is EACCES"
    }`,
    async () => {
      const dir = tempDir();
      const r = await landlockd(
        [
          "run",
          ...["--policy", "ci-default"],
          "--",
          "/bin/sh",
          "-c",
          "cat /proc/$PPID/environ >/dev/null 2>&1 && echo READ || echo DENIED",
        ],
        { as, env: SECRETS, cwd: dir },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout.trim(), as === "root" ? "READ" : "DENIED");
    },
  );
}
