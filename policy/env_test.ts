import assert from "node:assert/strict";
import {
  commandEnvironment,
  CREDENTIAL_PATTERNS,
  type EnvSpec,
  globMatches,
} from "./env.ts";
import { validatePolicy } from "./validate.ts";

const ENV = {
  PATH: "/usr/bin",
  HOME: "/home/u",
  GITHUB_TOKEN: "g",
  AWS_ACCESS_KEY_ID: "a",
  npm_config__authToken: "n",
  DEPLOY_KEY: "d",
  LANDLOCKD_POLICY_PATH: "/p",
  LISTEN_FDS: "1",
  LANG: "C",
};

const spec = (s: Partial<EnvSpec>): EnvSpec => ({
  clear: false,
  keep: [],
  set: {},
  unset: [],
  ...s,
});

const TABLE: { name: string; spec?: EnvSpec; expected: string[] }[] = [
  {
    name: "no [env]: only landlockd's own variables go",
    expected: [
      "PATH",
      "HOME",
      "GITHUB_TOKEN",
      "AWS_ACCESS_KEY_ID",
      "npm_config__authToken",
      "DEPLOY_KEY",
      "LANG",
    ],
  },
  {
    name: "the credential patterns remove tokens, keys and npm auth",
    spec: spec({ unset: CREDENTIAL_PATTERNS }),
    expected: ["PATH", "HOME", "LANG"],
  },
  {
    name: "keep wins over unset and over landlockd's own",
    spec: spec({
      unset: CREDENTIAL_PATTERNS,
      keep: ["GITHUB_TOKEN", "LISTEN_*"],
    }),
    expected: ["PATH", "HOME", "GITHUB_TOKEN", "LISTEN_FDS", "LANG"],
  },
  {
    name: "clear starts empty; keep brings names back; set adds",
    spec: spec({ clear: true, keep: ["PA?H"], set: { CI: "1" } }),
    expected: ["PATH", "CI"],
  },
];

for (const c of TABLE) {
  Deno.test(`[env] ${c.name}`, () => {
    assert.deepEqual(
      Object.keys(commandEnvironment(c.spec, ENV)).sort(),
      [...c.expected].sort(),
    );
  });
}

Deno.test("set overrides the inherited value", () => {
  assert.equal(
    commandEnvironment(spec({ set: { LANG: "C.UTF-8" } }), ENV).LANG,
    "C.UTF-8",
  );
});

Deno.test("globs: * any run, ? one character, case-insensitive, anchored", () => {
  assert.ok(globMatches("*TOKEN*", "github_token"));
  assert.ok(globMatches("*_KEY", "DEPLOY_KEY"));
  assert.ok(!globMatches("*_KEY", "DEPLOY_KEYS"));
  assert.ok(globMatches("A?B", "AXB"));
  assert.ok(!globMatches("A?B", "AXXB"));
  assert.ok(globMatches("NODE_AUTH_TOKEN", "NODE_AUTH_TOKEN"));
});

Deno.test("globs match as the case-insensitive RegExp they replaced: Unicode case, specials, line breaks, stars", () => {
  // The expression the matcher replaced (`is` flags, no `u`): the oracle.
  const regexp = (pattern: string) =>
    new RegExp(
      `^${
        pattern.replace(/[.+^${}()|[\]\\]/g, "\\$&")
          .replaceAll("*", ".*").replaceAll("?", ".")
      }$`,
      "is",
    );
  const patterns = [
    ...CREDENTIAL_PATTERNS,
    "LANDLOCKD_*",
    "A?B",
    "*",
    "**",
    "?",
    "",
    "a*b*c",
    "*a*a*",
    "X.Y",
    "[ab]",
    "(x)|y",
    "$HOME",
    "a\\b",
    "STRASSE",
    "straße",
    "ſECRET",
    "*SECRET*",
    "K",
    "İ*",
    "ǅ",
  ];
  const names = [
    "",
    "a",
    "AXB",
    "AxxB",
    "aab",
    "abc",
    "aXbYc",
    "acb",
    "aa",
    "aaa",
    "XzY",
    "X.Y",
    "[ab]",
    "a",
    "(x)|y",
    "$HOME",
    "a\\b",
    "github_token",
    "MY_TOKEN_2",
    "DEPLOY_KEY",
    "deploy_key",
    "DEPLOY_KEYS",
    "aws_region",
    "ſecret",
    "ſECRET",
    "SECRET",
    "my_secret",
    "straße",
    "STRASSE",
    "STRAẞE",
    "k",
    "K",
    "K",
    "ı",
    "i",
    "I",
    "İx",
    "i̇x",
    "ǆ",
    "ǅ",
    "Ǆ",
    "line\nTOKEN",
    "TOKEN\n",
    "\uD800TOKEN",
    "npm_config__authToken",
  ];
  for (const pattern of patterns) {
    const re = regexp(pattern);
    for (const name of names) {
      assert.equal(
        globMatches(pattern, name),
        re.test(name),
        `${JSON.stringify(pattern)} against ${JSON.stringify(name)}`,
      );
    }
  }
});

Deno.test("ci-default, net-fetch and hermetic-build unset exactly the documented credential patterns", async () => {
  for (const name of ["ci-default", "net-fetch", "hermetic-build"]) {
    const text = await Deno.readTextFile(
      new URL(`../policies/${name}.toml`, import.meta.url),
    );
    const r = validatePolicy({ name, text });
    assert.ok(r.policy, JSON.stringify(r.diagnostics));
    assert.deepEqual(r.policy.env?.unset, CREDENTIAL_PATTERNS, name);
  }
});

/** One error per class of bad [env] input, with the line. */
const ERRORS: { toml: string; message: string }[] = [
  {
    toml: '[env]\nunset = ["GITHUB TOKEN"]\n',
    message:
      "p.toml:5: env.unset[0]: expected a variable name or a pattern of letters, digits, _, * and ?",
  },
  {
    toml: '[env]\nset = { "1X" = "y" }\n',
    message:
      "p.toml:5: env.set.1X: expected a variable name (a letter or _, then letters, digits, _)",
  },
  {
    toml: "[env]\nset = { X = 1 }\n",
    message: "p.toml:5: env.set.X: expected a string, got number 1",
  },
  {
    toml: '[env]\nclear = "yes"\n',
    message:
      'p.toml:5: env.clear: expected true or false, got the string "yes"',
  },
  {
    toml: '[env]\nkeepp = ["A"]\n',
    message: 'p.toml:5: env.keepp: unknown key (did you mean "keep"?)',
  },
];

const BASE = 'version = 1\n[seccomp]\ndeny = ["ptrace"]\n';

for (const c of ERRORS) {
  Deno.test(`[env] error: ${c.message}`, async () => {
    const { PolicyError } = await import("./diagnostic.ts");
    const source = { name: "p.toml", text: BASE + c.toml };
    const r = validatePolicy(source);
    assert.ok(!r.policy);
    const text = new PolicyError(source, r.diagnostics).message;
    assert.ok(text.startsWith(c.message), text);
  });
}
