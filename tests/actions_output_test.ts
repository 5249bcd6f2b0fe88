/**
 * CI-native output: `lint` findings as GitHub annotations, a degraded run's
 * warning as an annotation, and a run's section in $GITHUB_STEP_SUMMARY,
 * under GITHUB_ACTIONS=true or --format github; the plain terminal output
 * is unchanged otherwise. The runs are real sandboxed runs.
 */

import assert from "node:assert/strict";
import {
  chownTree,
  landlockd,
  policyFile,
  PROBE,
  probeResults,
  tempDir,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

/** An error on line 14 (col 3) and a warning on line 9 (col 3). */
const LINT_ME = `version = 1
[[fs_layer]]
handled_access_fs = ["read_file", "read_dir"]

  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["read_file"]

  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["read_file"]

  [[fs_layer.rule]]
  path = "/nonexistent, 100%"
  allowed_access = ["read_dir"]
`;

Deno.test("lint prints GitHub annotations with file, line and column", async (t) => {
  const file = policyFile(LINT_ME);
  const error =
    `::error file=${file},line=14,col=3,title=landlockd lint::fs_layer[0].rule[2].path: "/nonexistent, 100%25" does not exist`;
  const warning =
    `::warning file=${file},line=9,col=3,title=landlockd lint::fs_layer[0].rule[1]: can never matter: fs_layer[0].rule[0] already allows these rights at or above "/usr"`;
  const summary = `${file}: invalid: 1 error, 1 warning\n`;

  await t.step("with --format github", async () => {
    const r = await landlockd([
      "lint",
      "--format",
      "github",
      "--policy-file",
      file,
    ]);
    assert.equal(r.code, 1);
    assert.deepEqual(r.stdout.split("\n"), [error, warning, ""]);
    assert.equal(r.stderr, summary);
  });

  await t.step(
    "with GITHUB_ACTIONS=true, relative to GITHUB_WORKSPACE",
    async () => {
      const dir = file.slice(0, file.lastIndexOf("/"));
      const r = await landlockd(["lint", "--policy-file", file], {
        env: { GITHUB_ACTIONS: "true", GITHUB_WORKSPACE: dir },
      });
      assert.equal(r.code, 1);
      assert.deepEqual(r.stdout.split("\n"), [
        error.replace(`file=${file}`, "file=policy.toml"),
        warning.replace(`file=${file}`, "file=policy.toml"),
        "",
      ]);
    },
  );

  await t.step("plain otherwise, and with --format plain", async () => {
    const plain =
      `${file}:14: fs_layer[0].rule[2].path: "/nonexistent, 100%" does not exist\n` +
      `${file}:9: warning: fs_layer[0].rule[1]: can never matter: fs_layer[0].rule[0] already allows these rights at or above "/usr"\n` +
      summary;
    for (
      const [args, env] of [
        [[], {}],
        [["--format", "plain"], { GITHUB_ACTIONS: "true" }],
      ] as const
    ) {
      const r = await landlockd(["lint", ...args, "--policy-file", file], {
        env,
      });
      assert.equal(r.code, 1);
      assert.equal(r.stdout, "");
      assert.equal(r.stderr, plain);
    }
  });

  await t.step("a named policy has no file to point at", async () => {
    const r = await landlockd([
      "lint",
      "--format",
      "github",
      "--policy",
      "ci-default",
    ]);
    assert.equal(r.code, 0, r.stderr);
    assert.equal(r.stdout, "");
  });

  await t.step("an unknown format is a usage error", async () => {
    const r = await landlockd([
      "lint",
      "--format",
      "json",
      "--policy",
      "ci-default",
    ]);
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      /^landlockd: lint: --format takes plain or github, got "json"$/m,
    );
  });
});

/** best_effort, handling bind_tcp (ABI 4): capped at ABI 3, that right drops. */
function degradedPolicy(dir: string): string {
  return policyFile(
    `version = 1
compat = "best_effort"
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["write_file", "make_reg"]
[net]
handled_access_net = ["bind_tcp"]
`,
    dir,
  );
}

for (const as of USERS) {
  Deno.test(`a degraded run warns as an annotation and still enforces the rest (as ${as})`, async () => {
    const dir = tempDir();
    Deno.mkdirSync(`${dir}/allowed`);
    Deno.mkdirSync(`${dir}/denied`);
    Deno.writeTextFileSync(`${dir}/summary.md`, "");
    chownTree(dir);
    const policy = degradedPolicy(dir);
    const argv = [
      "run",
      "--policy-file",
      policy,
      "--",
      PROBE,
      "create",
      `${dir}/allowed/f`,
      "create",
      `${dir}/denied/f`,
    ];
    const dropped =
      `Landlock is partially enforced (ABI capped at 3 by LANDLOCKD_ABI_MAX); compat = "best_effort" dropped: net.handled_access_net bind_tcp (ABI 4)`;

    const gh = await landlockd(argv, {
      as,
      env: {
        LANDLOCKD_ABI_MAX: "3",
        GITHUB_ACTIONS: "true",
        GITHUB_STEP_SUMMARY: `${dir}/summary.md`,
      },
    });
    assert.equal(gh.code, 0, gh.stderr);
    assert.deepEqual(probeResults(gh.stdout), {
      [`create ${dir}/allowed/f`]: "OK",
      [`create ${dir}/denied/f`]: "EACCES",
    });
    assert.match(
      gh.stdout,
      new RegExp(`^::warning title=landlockd run::${escape(dropped)}$`, "m"),
    );
    // (as nobody, a fresh DENO_DIR may add "Download …" lines)
    assert.doesNotMatch(gh.stderr, /warning/);
    const summary = Deno.readTextFileSync(`${dir}/summary.md`);
    assert.match(summary, /^### landlockd run$/m);
    assert.match(
      summary,
      new RegExp(`^\\| Policy \\| ${escape(policy)} \\|$`, "m"),
    );
    assert.match(
      summary,
      /^\| Enforcement \| partially enforced \(Landlock ABI 3; dropped: net\.handled_access_net bind_tcp\) \|$/m,
    );
    assert.match(summary, /^\| Exit status \| 0 \|$/m);
    assert.match(summary, /^\| Duration \| \d+\.\d\d s \|$/m);
    assert.match(summary, /^\| Denials \| none known /m);

    Deno.removeSync(`${dir}/allowed/f`);
    const plain = await landlockd(argv, {
      as,
      env: { LANDLOCKD_ABI_MAX: "3" },
    });
    assert.equal(plain.code, 0, plain.stderr);
    assert.match(
      plain.stderr,
      new RegExp(`^landlockd: warning: ${escape(dropped)}$`, "m"),
    );
    assert.doesNotMatch(plain.stdout, /::/);
    assert.deepEqual(probeResults(plain.stdout), {
      [`create ${dir}/allowed/f`]: "OK",
      [`create ${dir}/denied/f`]: "EACCES",
    });

    // --format github asks for annotations outside GitHub Actions too.
    Deno.removeSync(`${dir}/allowed/f`);
    const [run, ...rest] = argv;
    const asked = await landlockd([run, "--format", "github", ...rest], {
      as,
      env: { LANDLOCKD_ABI_MAX: "3" },
    });
    assert.equal(asked.code, 0, asked.stderr);
    assert.match(
      asked.stdout,
      new RegExp(`^::warning title=landlockd run::${escape(dropped)}$`, "m"),
    );
    assert.doesNotMatch(asked.stderr, /warning/);
    const wrong = await landlockd([run, "--format", "json", ...rest], { as });
    assert.equal(wrong.code, 125);
    assert.match(wrong.stderr, /--format takes plain or github, got "json"/);
  });
}

function escape(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");
}

Deno.test("the summary lists the broker's denials and a failing command's status", async () => {
  const dir = tempDir();
  const secret = `${dir}/readonly`;
  Deno.writeTextFileSync(secret, "x\n");
  Deno.writeTextFileSync(`${dir}/summary.md`, "# earlier steps\n");
  const policy = policyFile(
    `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
[broker]
allow_read = ["${secret}"]
`,
    dir,
  );
  const r = await landlockd([
    "run",
    "--policy-file",
    policy,
    "--",
    "sh",
    "-c",
    `"$0" read ${secret} write ${secret}; exit 3`,
    PROBE,
  ], {
    env: { GITHUB_STEP_SUMMARY: `${dir}/summary.md` },
  });
  assert.equal(r.code, 3, r.stderr);
  assert.deepEqual(probeResults(r.stdout), {
    [`read ${secret}`]: "OK",
    [`write ${secret}`]: "EACCES",
  });
  const summary = Deno.readTextFileSync(`${dir}/summary.md`);
  assert.ok(
    summary.startsWith("# earlier steps\n### landlockd run\n"),
    summary,
  );
  assert.match(summary, /^\| Exit status \| 3 \|$/m);
  assert.match(summary, /^\| Denials \| 1 by the broker \|$/m);
  assert.match(
    summary,
    new RegExp(`^- \`openat\` write \`${escape(secret)}\`$`, "m"),
  );
});

testAtAbi(
  3,
  "truncate (ci-default)",
  "a run that cannot start still writes its summary, with the error",
  async () => {
    const dir = tempDir();
    Deno.writeTextFileSync(`${dir}/summary.md`, "");
    const r = await landlockd([
      "run",
      "--policy",
      "ci-default",
      "--",
      "/nonexistent/cmd",
    ], {
      env: { GITHUB_STEP_SUMMARY: `${dir}/summary.md` },
    });
    assert.equal(r.code, 127);
    const summary = Deno.readTextFileSync(`${dir}/summary.md`);
    assert.match(summary, /^\| Exit status \| 127 \|$/m);
    assert.match(summary, /^\| Error \| .*\/nonexistent\/cmd/m);
  },
);
