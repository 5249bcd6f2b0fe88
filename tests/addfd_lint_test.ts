/**
 * `[[broker.addfd]]` in the C landlockd's policy style: our own seed-style
 * fixtures (written for this test, not copied). Valid ones lint clean (some
 * with a warning saying what the rule does here); each class of error gets
 * one precise message naming file:line and key, `lint` exiting 1 and `run`
 * 125.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, tempDir } from "./helpers.ts";

const d = tempDir("addfd-");
Deno.mkdirSync(`${d}/scratch`);
Deno.writeTextFileSync(`${d}/conf`, "x\n");
Deno.writeTextFileSync(`${d}/out.log`, "");

const LAYER = `[[fs_layer]]
handled_access_fs = ["read_file", "write_file"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["read_file"]
`;

const VALID: { name: string; toml: string; warnings: RegExp[] }[] = [
  {
    name: "a [broker] holding only an addfd rule (the seed's shape)",
    toml: `version = 1

[broker]
  [[broker.addfd]]
  action = "open"
  target = "${d}/conf"
  mode = "read"
`,
    warnings: [
      /warning: broker: without an \[\[fs_layer\]\]/,
      /:6: warning: broker\.addfd\[0\]\.target: no allow_read or allow_write file is at or beneath/,
    ],
  },
  {
    name: "read and write open rules covering the declared files",
    toml: `version = 1
${LAYER}
[broker]
allow_read = ["${d}/conf"]
allow_write = ["${d}/out.log"]

  [[broker.addfd]]
  action = "open"
  target = "${d}/conf"
  mode = "read"

  [[broker.addfd]]
  action = "open"
  target = "${d}/out.log"
  mode = "write"
`,
    warnings: [],
  },
  {
    name: "an open rule without mode on a directory above the files",
    toml: `version = 1
${LAYER}
[broker]
allow_read = ["${d}/conf"]
  [[broker.addfd]]
  action = "open"
  target = "${d}"
`,
    warnings: [],
  },
  {
    name: "a scratch_open rule on a scratch root",
    toml: `version = 1
${LAYER}
[broker]
scratch = ["${d}/scratch"]
  [[broker.addfd]]
  action = "scratch_open"
  target = "${d}/scratch"
  mode = "write"
`,
    warnings: [],
  },
  {
    name: "an open rule leaving a declared file uncovered",
    toml: `version = 1
${LAYER}
[broker]
allow_read = ["${d}/conf"]
allow_write = ["${d}/out.log"]
  [[broker.addfd]]
  action = "open"
  target = "${d}/conf"
`,
    warnings: [
      /:10: warning: broker\.allow_write\[0\]: no \[\[broker\.addfd\]\] open rule covers ".*out\.log": with addfd rules, the broker refuses its opens \(EACCES\)/,
    ],
  },
  ...(["open_tree", "fsopen", "fsmount"] as const).map((action) => ({
    name: `action = "${action}"`,
    toml: `version = 1
${LAYER}
[broker]
  [[broker.addfd]]
  action = "${action}"
  target = "/mnt"
`,
    warnings: [
      new RegExp(
        `:10: warning: broker\\.addfd\\[0\\]\\.action: landlockd's broker never injects an fd for ${action}`,
      ),
    ],
  })),
];

for (const c of VALID) {
  Deno.test(`seed-style addfd policy lints clean: ${c.name}`, async () => {
    const r = await landlockd(["lint", "--policy-file", policyFile(c.toml)]);
    assert.equal(r.code, 0, r.stderr);
    for (const w of c.warnings) assert.match(r.stderr, w);
    const count = r.stderr.split("\n").filter((l) => l.includes("warning:"))
      .length;
    assert.equal(count, c.warnings.length, r.stderr);
  });
}

const HEAD = `version = 1\n\n[broker]\n  [[broker.addfd]]\n`;

const INVALID: { name: string; toml: string; message: string }[] = [
  {
    name: "a missing target",
    toml: `${HEAD}  action = "open"\n  mode = "read"\n`,
    message: ":4: broker.addfd[0].target: missing; expected an absolute path",
  },
  {
    name: "a relative target",
    toml: `${HEAD}  action = "open"\n  target = "tmp/conf"\n`,
    message:
      ":6: broker.addfd[0].target: expected an absolute path (starting with / or ${VARIABLE})",
  },
  {
    name: "an unknown action",
    toml: `${HEAD}  action = "opne"\n  target = "/tmp"\n`,
    message:
      ':5: broker.addfd[0].action: unknown value "opne" (did you mean "open"?); expected one of: open, open_tree, scratch_open, fsopen, fsmount',
  },
  {
    name: "an unknown mode",
    toml: `${HEAD}  action = "open"\n  target = "/tmp"\n  mode = "readwrite"\n`,
    message:
      ':7: broker.addfd[0].mode: unknown value "readwrite"; expected one of: read, write',
  },
  {
    name: "a missing action",
    toml: `${HEAD}  target = "/tmp"\n`,
    message: ":4: broker.addfd[0].action: missing; expected one of: open,",
  },
  {
    name: "an unknown key in a rule",
    toml: `${HEAD}  action = "open"\n  target = "/tmp"\n  flags = 1\n`,
    message:
      ":7: broker.addfd[0].flags: unknown key; expected one of: action, target, mode",
  },
  {
    name: "an empty addfd list",
    toml: `version = 1\n[broker]\naddfd = []\n`,
    message: ":3: broker.addfd: must not be empty",
  },
];

for (const c of INVALID) {
  Deno.test(`lint and run reject a seed-style addfd policy with ${c.name}`, async () => {
    const file = policyFile(c.toml);
    for (const cmd of ["lint", "run"]) {
      const r = await landlockd([
        cmd,
        "--policy-file",
        file,
        ...(cmd === "run" ? ["--", "true"] : []),
      ]);
      assert.equal(r.code, cmd === "lint" ? 1 : 125, `${cmd}: ${r.stderr}`);
      assert.ok(
        r.stderr.includes(`${file}${c.message}`),
        `${cmd}: expected ${JSON.stringify(file + c.message)} in:\n${r.stderr}`,
      );
      const errors = r.stderr.split("\n").filter((l) =>
        l.includes(file) && !/invalid: \d+ error/.test(l) &&
        !l.includes("warning:")
      );
      assert.equal(errors.length, 1, r.stderr);
    }
  });
}

Deno.test("addfd rules survive printing a policy as TOML (policy show, OCI)", async () => {
  const { policyToToml } = await import("../policy/toml_out.ts");
  const { parse } = await import("smol-toml");
  const addfd = [
    { action: "open" as const, target: "/etc/hostname", mode: "read" as const },
    { action: "scratch_open" as const, target: "/tmp/s" },
  ];
  const text = policyToToml({
    version: 1,
    broker: { allow_read: ["/etc/hostname"], addfd },
  });
  const back = parse(text) as { broker: { addfd: unknown } };
  assert.deepEqual(back.broker.addfd, addfd);
});
