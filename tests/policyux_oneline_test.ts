/**
 * One-line rules (`run --allow-*`, `--compat`), `policy show`/`list`,
 * `run -- ""`, and `${PWD}`/`${HOME}`: on the real kernel, as root and
 * nobody where a sandbox runs.
 */
import assert from "node:assert/strict";
import {
  assertProbe,
  freePort,
  fsTree,
  landlockd,
  policyFile,
  tempDir,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

for (const as of USERS) {
  testAtAbi(
    4,
    "bind_tcp (--allow-* alone)",
    `[${as}] --allow-* alone are the whole policy: what they name works, the rest is EACCES`,
    async () => {
      const dir = fsTree();
      const bind = freePort();
      const other = freePort();
      const r = await landlockd([
        "run",
        ...["--allow-exec", `${dir}/bin`],
        ...["--allow-read", `${dir}/denied`],
        ...["--allow-write", `${dir}/allowed`],
        ...["--allow-bind", String(bind)],
        "--",
        `${dir}/bin/probe`,
        ...["read", `${dir}/denied/file`],
        ...["write", `${dir}/denied/file`],
        ...["create", `${dir}/allowed/new`],
        ...["read", "/etc/passwd"],
        ...["exec", "/bin/true"],
        ...["bind", String(bind)],
        ...["bind", String(other)],
      ], { as });
      assertProbe(r, {
        [`read ${dir}/denied/file`]: "OK",
        [`write ${dir}/denied/file`]: "EACCES",
        [`create ${dir}/allowed/new`]: "OK",
        ["read /etc/passwd"]: "EACCES",
        ["exec /bin/true"]: "EACCES",
        [`bind ${bind}`]: "OK",
        [`bind ${other}`]: "EACCES",
      });
    },
  );

  testAtAbi(
    3,
    "truncate (the rw group)",
    `[${as}] --allow-write widens --policy-file through extends`,
    async () => {
      const dir = fsTree();
      const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["rw", "execute"]
  [[fs_layer.rule]]
  path = "${dir}"
  allowed_access = ["rx"]
`);
      const r = await landlockd([
        "run",
        ...["--policy-file", policy],
        ...["--allow-write", `${dir}/allowed`],
        "--",
        `${dir}/bin/probe`,
        ...["create", `${dir}/allowed/new`],
        ...["create", `${dir}/denied/new`],
      ], { as });
      assertProbe(r, {
        [`create ${dir}/allowed/new`]: "OK",
        [`create ${dir}/denied/new`]: "EACCES",
      });
    },
  );
}

async function dryRun(args: string[], cwd?: string) {
  const r = await landlockd(["run", "--dry-run", ...args, "--", "true"], {
    cwd,
  });
  assert.equal(r.code, 0, r.stderr);
  return JSON.parse(r.stdout);
}

testAtAbi(
  5,
  "ioctl_dev (--allow-* alone handle all 16 rights)",
  "--compat overrides the policy's; --allow-* alone are best_effort",
  async () => {
    const named = await dryRun([
      "--policy",
      "ci-default",
      "--compat",
      "best_effort",
    ]);
    assert.equal(named.landlock.compat, "best_effort");
    const alone = await dryRun(["--allow-read", "/usr"]);
    assert.equal(alone.landlock.compat, "best_effort");
    assert.equal(alone.landlock.layers[0].handled_access_fs.length, 16);
    assert.deepEqual(alone.landlock.layers[0].handled_access_net, [
      "bind_tcp",
      "connect_tcp",
    ]);
    const strict = await dryRun(["--allow-read", "/usr", "--compat", "strict"]);
    assert.equal(strict.landlock.compat, "strict");
  },
);

Deno.test("a relative --allow-* path is taken from the working directory", async () => {
  const dir = tempDir();
  const plan = await dryRun(["--allow-write", "."], dir);
  assert.equal(plan.landlock.layers[0].path_beneath[0].path, dir);
});

/** One usage error per class: exit 125, naming the flag and what it expects. */
const USAGE: { args: string[]; message: string }[] = [
  {
    args: ["--allow-bind", "http"],
    message: 'run: --allow-bind "http": expected a TCP port from 0 to 65535',
  },
  {
    args: ["--allow-connect", "70000"],
    message:
      'run: --allow-connect "70000": expected a TCP port from 0 to 65535',
  },
  {
    args: ["--allow-read", ""],
    message: 'run: --allow-read "": expected a path',
  },
  {
    args: ["--policy", "ci-default", "--compat", "loose"],
    message: 'run: --compat "loose": expected strict or best_effort',
  },
  {
    args: ["--compat", "strict"],
    message:
      "run: --compat overrides a policy's: give --policy or --policy-file",
  },
  {
    args: ["--oci-config", "/dev/null", "--allow-read", "/usr"],
    message:
      "run: --allow-* and --compat widen --policy or --policy-file, not --oci-config",
  },
];

for (const c of USAGE) {
  Deno.test(`usage error: run ${c.args.join(" ")}`, async () => {
    const r = await landlockd(["run", ...c.args, "--", "true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.ok(r.stderr.includes(c.message), r.stderr);
  });
}

Deno.test("--allow-connect on a policy that does not restrict TCP says so", async () => {
  const r = await landlockd([
    "run",
    ...["--policy", "ci-default", "--allow-connect", "443"],
    "--",
    "true",
  ]);
  assert.notEqual(r.code, 0);
  assert.match(r.stderr, /do not restrict these TCP operations/);
});

Deno.test('run -- "" exits 127 with a clear message', async () => {
  const r = await landlockd(["run", "--policy", "ci-default", "--", ""]);
  assert.equal(r.code, 127);
  assert.match(r.stderr, /cannot run "": the command name is empty/);
});

Deno.test("policy list shows each name's source, and which are shadowed", async () => {
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/ci-default.toml`, "version = 1\n");
  Deno.writeTextFileSync(`${dir}/mine.toml`, "version = 1\n");
  const r = await landlockd(["policy", "list"], {
    env: { LANDLOCKD_POLICY_PATH: dir },
  });
  assert.equal(r.code, 0, r.stderr);
  const lines = r.stdout.split("\n");
  assert.ok(lines.some((l) => /^mine +.*\/mine\.toml$/.test(l)), r.stdout);
  assert.ok(
    lines.some((l) =>
      /^ci-default +built in \(shadowed by .*\/ci-default\.toml\)$/.test(l)
    ),
    r.stdout,
  );
  assert.ok(lines.some((l) => /^hermetic-build +built in$/.test(l)));
});

Deno.test("policy show prints a built-in policy with its source; --merged merges", async () => {
  const r = await landlockd(["policy", "show", "net-fetch"]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^# policy "net-fetch": built into landlockd\n/);
  assert.ok(r.stdout.includes("[net]"));
  const dir = tempDir();
  Deno.writeTextFileSync(
    `${dir}/ws.toml`,
    'extends = "ci-default"\nfs_rule = [{ path = "/srv", allowed_access = ["ro"] }]\n',
  );
  const m = await landlockd(["policy", "show", "ws", "--merged"], {
    env: { LANDLOCKD_POLICY_PATH: dir },
  });
  assert.equal(m.code, 0, m.stderr);
  assert.ok(m.stdout.includes(`# policy "ws": ${dir}/ws.toml`), m.stdout);
  assert.ok(m.stdout.includes('path = "/srv"'));
  assert.ok(!/^extends/m.test(m.stdout), m.stdout);
});

Deno.test("an unknown policy subcommand says so (exit 125)", async () => {
  const r = await landlockd(["policy", "shwo", "ci-default"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /unknown subcommand "shwo": use show, list/);
});

Deno.test("${PWD} is the working directory and ${HOME} falls back to /etc/passwd; other unset variables stay errors", async () => {
  const dir = tempDir();
  const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["ro"]
  [[fs_layer.rule]]
  path = "\${PWD}"
  allowed_access = ["ro"]
  [[fs_layer.rule]]
  path = "\${HOME}"
  allowed_access = ["ro"]
`);
  const r = await landlockd(
    ["run", "--dry-run", "--policy-file", policy, "--", "true"],
    { cwd: dir, env: { HOME: "" } },
  );
  assert.equal(r.code, 0, r.stderr);
  const rules = JSON.parse(r.stdout).landlock.layers[0].path_beneath;
  assert.equal(rules[0].path, dir);
  assert.equal(rules[1].path, Deno.uid() === 0 ? "/root" : rules[1].path);
  const unset = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["ro"]
  [[fs_layer.rule]]
  path = "\${LANDLOCKD_TEST_UNSET}"
  allowed_access = ["ro"]
`);
  const u = await landlockd(["run", "--policy-file", unset, "--", "true"]);
  assert.notEqual(u.code, 0);
  assert.match(
    u.stderr,
    /:5: fs_layer\[0\]\.rule\[0\]\.path: \$\{LANDLOCKD_TEST_UNSET\} is not set/,
  );
});
