/**
 * Each class of policy error gets one precise message (file, line, key
 * path, what was expected): `lint` exits 1, `run` 125 (landlockd's own failure).
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, tempDir } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

const CASES: { name: string; toml: string; message: string }[] = [
  {
    name: "a TOML syntax error",
    toml: `version = 1\n[[fs_layer]]\nhandled_access_fs = [read_file]\n`,
    message: ":3:22: TOML syntax error: invalid value",
  },
  {
    name: "an unknown key",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\nhandeled = 1\n`,
    message:
      ":4: fs_layer[0].handeled: unknown key; expected one of: handled_access_fs, rule",
  },
  {
    name: "a misspelt section",
    toml: `version = 1\n[nett]\nhandled_access_net = ["bind_tcp"]\n`,
    message:
      ':2: nett: unknown key (did you mean "net"?); expected one of: version,',
  },
  {
    name: "an unknown right",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "/"\nallowed_access = ["rea_file"]\n`,
    message:
      ':6: fs_layer[0].rule[0].allowed_access[0]: unknown filesystem right "rea_file" (did you mean "read_file"?); expected one of: execute, write_file,',
  },
  {
    name: "a port out of range",
    toml:
      `version = 1\n[net]\nhandled_access_net = ["bind_tcp"]\n[[net.rule]]\nport = 70000\nallowed_access = ["bind_tcp"]\n`,
    message:
      ":5: net.rule[0].port: expected an integer from 0 to 65535, got number 70000",
  },
  {
    name: "a rule allowing a right its layer does not handle",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "/"\nallowed_access = ["read_file", "write_file"]\n`,
    message:
      ':6: fs_layer[0].rule[0].allowed_access: right "write_file" is not in this layer\'s handled_access_fs; a rule can only allow rights its layer handles',
  },
  {
    name: "a relative path",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "usr"\nallowed_access = ["read_file"]\n`,
    message:
      ":5: fs_layer[0].rule[0].path: expected an absolute path (starting with / or ${VARIABLE})",
  },
  {
    name: "a rule path that does not exist",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "/nonexistent/landlockd"\nallowed_access = ["read_file"]\n`,
    message:
      ':5: fs_layer[0].rule[0].path: "/nonexistent/landlockd" does not exist',
  },
  {
    name: "an empty allowed_access",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "/"\nallowed_access = []\n`,
    message: ":6: fs_layer[0].rule[0].allowed_access: must not be empty",
  },
  {
    name: "a policy that restricts nothing",
    toml: `version = 1\n`,
    message:
      ": this policy restricts nothing: add an [[fs_layer]], [net], [scope], [seccomp] deny list, [mount] or [runtime] root",
  },
  {
    name: "a wrong version",
    toml: `version = 2\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n`,
    message: ":1: version: expected version = 1, got number 2",
  },
  {
    name: "a wrong type",
    toml: `version = 1\n[[fs_layer]]\nhandled_access_fs = "read_file"\n`,
    message:
      ':3: fs_layer[0].handled_access_fs: expected an array, got the string "read_file"',
  },
  {
    name: "an unset ${VARIABLE} in a path",
    toml:
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_file"]\n[[fs_layer.rule]]\npath = "\${LANDLOCKD_TEST_UNSET}/x"\nallowed_access = ["read_file"]\n`,
    message:
      ":5: fs_layer[0].rule[0].path: ${LANDLOCKD_TEST_UNSET} is not set in the environment",
  },
];

for (const c of CASES) {
  Deno.test(`lint and run reject ${c.name} with one precise message`, async () => {
    const file = policyFile(c.toml);
    // Every run validates anew: run twice, same answer.
    for (const cmd of [["lint"], ["run"], ["run"]]) {
      const args = [
        ...cmd,
        "--policy-file",
        file,
        ...(cmd[0] === "run" ? ["--", "true"] : []),
      ];
      const r = await landlockd(args);
      assert.equal(r.code, cmd[0] === "lint" ? 1 : 125, `${cmd}: ${r.stderr}`);
      assert.ok(
        r.stderr.includes(`${file}${c.message}`),
        `${cmd}: expected ${JSON.stringify(file + c.message)} in:\n${r.stderr}`,
      );
      const errors = r.stderr.split("\n").filter((l) =>
        l.includes(file) && !/invalid: \d+ error/.test(l)
      );
      assert.equal(errors.length, 1, r.stderr);
    }
  });
}

Deno.test("lint lists every error at once", async () => {
  const file = policyFile(
    `version = 1\n[[fs_layer]]\nhandled_access_fs = ["red_file"]\n[[fs_layer.rule]]\npath = "x"\nallowed_access = []\n`,
  );
  const r = await landlockd(["lint", "--policy-file", file]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /:3: fs_layer\[0\]\.handled_access_fs\[0\]: unknown filesystem right "red_file"/,
  );
  assert.match(
    r.stderr,
    /:5: fs_layer\[0\]\.rule\[0\]\.path: expected an absolute path/,
  );
  assert.match(
    r.stderr,
    /:6: fs_layer\[0\]\.rule\[0\]\.allowed_access: must not be empty/,
  );
  assert.match(r.stderr, /invalid: 3 errors/);
});

Deno.test("lint warns about rules that can never matter, and still passes", async () => {
  const dir = tempDir();
  Deno.mkdirSync(`${dir}/a/b`, { recursive: true });
  Deno.writeTextFileSync(`${dir}/a/f`, "");
  const file = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/a"
  allowed_access = ["read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/a/b"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/a/f"
  allowed_access = ["read_dir", "read_file"]
[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/a/b"
  allowed_access = ["read_file"]
`);
  const r = await landlockd(["lint", "--policy-file", file]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /:7: warning: fs_layer\[0\]\.rule\[1\]: can never matter: fs_layer\[0\]\.rule\[0\] already allows/,
  );
  assert.match(
    r.stderr,
    /:12: warning: fs_layer\[0\]\.rule\[2\]\.allowed_access: ".*\/a\/f" is not a directory, so read_dir can never apply to it/,
  );
  assert.match(
    r.stderr,
    /:12: warning: fs_layer\[0\]\.rule\[2\]\.allowed_access: read_file can never take effect at ".*\/a\/f": fs_layer\[1\] handles it and allows it nowhere on this path/,
  );
  assert.match(r.stderr, /valid with \d+ warnings/);
});

Deno.test("usage errors exit 2 and point at --help", async () => {
  for (
    const [args, msg] of [
      [["run", "--bogus"], 'run: unknown option "--bogus"'],
      [["run", "--policy", "ci-default"], "run: no command given"],
      [["run", "--", "true"], "run: a policy is needed"],
      [["frobnicate"], 'unknown command "frobnicate"'],
      [["run", "--policy"], 'option "--policy" needs a value'],
    ] as const
  ) {
    const r = await landlockd([...args]);
    assert.equal(r.code, 125, `${args}: ${r.stderr}`);
    assert.ok(r.stderr.includes(msg), r.stderr);
    assert.match(r.stderr, /--help/);
  }
});

Deno.test("policy names cannot escape the search path", async () => {
  for (const name of ["../etc/passwd", ".", "..", "a/b"]) {
    const r = await landlockd(["run", "--policy", name, "--", "true"]);
    assert.equal(r.code, 125);
    assert.match(r.stderr, /Invalid policy name/);
  }
});

testAtAbi(
  6,
  "scopes",
  "--policy NAME searches LANDLOCKD_POLICY_PATH before the starter policies",
  async () => {
    const dir = tempDir();
    Deno.writeTextFileSync(
      `${dir}/ci-default.toml`,
      `version = 1\n[scope]\nsignal = true\n`,
    );
    const r = await landlockd(["run", "--policy", "ci-default", "--dry-run"], {
      env: { LANDLOCKD_POLICY_PATH: `/nonexistent:${dir}` },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.equal(JSON.parse(r.stdout).policy, `${dir}/ci-default.toml`);
    const missing = await landlockd([
      "run",
      "--policy",
      "no-such-policy",
      "--",
      "true",
    ]);
    assert.equal(missing.code, 125);
    assert.match(
      missing.stderr,
      /No policy named "no-such-policy" in .* or the starter policies \(ci-default, hermetic-build, net-fetch, net-fetch-hosts, prepared-root, prepared-root-net\)/,
    );
  },
);

if (Deno.uid() === 0) {
  Deno.test(
    "[nobody] --policy NAME with an unreadable search directory (another user's config) is one precise error, not a guess",
    async () => {
      const dir = tempDir();
      Deno.mkdirSync(`${dir}/landlockd/policies`, { recursive: true });
      Deno.writeTextFileSync(
        `${dir}/landlockd/policies/ci-default.toml`,
        "version = 1\n",
      );
      Deno.chmodSync(dir, 0o700);
      const r = await landlockd(
        ["run", "--policy", "ci-default", "--", "true"],
        { as: "nobody", env: { XDG_CONFIG_HOME: dir } },
      );
      assert.equal(r.code, 125, r.stderr);
      assert.equal(
        r.stderr,
        `landlockd: Cannot look up policy "ci-default": "${dir}/landlockd/policies/ci-default.toml" is on the policy search path but cannot be read: Permission denied (EACCES); if it comes from XDG_CONFIG_HOME of another user (kept by sudo -u or setpriv), set XDG_CONFIG_HOME to your own, or use --policy-file\n`,
      );
    },
  );
}
