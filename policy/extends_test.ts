import assert from "node:assert/strict";
import { formatDiagnostic, locate, type Source } from "./diagnostic.ts";
import { MAX_EXTENDS_DEPTH } from "./extends.ts";
import { loadedFrom, ruleOrigins } from "./origins.ts";
import { validatePolicy } from "./validate.ts";

const dir = Deno.makeTempDirSync({ prefix: "landlockd-extends-" });
globalThis.addEventListener("unload", () => {
  Deno.removeSync(dir, { recursive: true });
});

function file(name: string, text: string): Source {
  const path = `${dir}/${name}`;
  Deno.writeTextFileSync(path, text);
  return { name: path, text, location: path };
}

function errors(source: Source): string[] {
  const r = validatePolicy(source, { resolve: true });
  assert.ok(!r.policy, "expected errors");
  return locate(source, r.diagnostics).map((d) =>
    formatDiagnostic(source, d).replaceAll(`${dir}/`, "")
  );
}

function merged(source: Source) {
  const r = validatePolicy(source, { resolve: true });
  assert.ok(r.policy, JSON.stringify(r.diagnostics));
  return r.policy;
}

const BASE = `version = 1
description = "base"
[[fs_layer]]
handled_access_fs = ["rw", "execute"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["rx"]
[net]
handled_access_net = ["connect_tcp"]
[scope]
signal = true
[seccomp]
deny = ["ptrace"]
`;

Deno.test("the 3-line ci-default + writable PWD file adds one rw rule to ci-default's layer", () => {
  const text = Deno.readTextFileSync(
    new URL("../examples/ci-default-plus-workspace.toml", import.meta.url),
  );
  assert.ok(text.trim().split("\n").length <= 4);
  const p = merged(file("ws.toml", text));
  assert.equal(p.fs_layer!.length, 1);
  const rules = p.fs_layer![0].rule!;
  assert.equal(rules.at(-1)!.path, "${PWD}");
  assert.equal(rules.at(-1)!.allowed_access.length, 12);
  assert.equal(rules.length, 5);
});

Deno.test("arrays concatenate, scalars and flags of the extending file win", () => {
  file("base.toml", BASE);
  const p = merged(file(
    "child.toml",
    `extends = "./base.toml"
compat = "best_effort"
[[fs_layer]]
handled_access_fs = ["write_file"]
[net]
handled_access_net = ["bind_tcp"]
[scope]
signal = false
abstract_unix_socket = true
[seccomp]
deny = ["mount"]
`,
  ));
  assert.equal(p.version, 1);
  assert.equal(p.compat, "best_effort");
  assert.equal(p.description, "base");
  assert.equal(p.fs_layer!.length, 2);
  assert.deepEqual(p.net!.handled_access_net, ["connect_tcp", "bind_tcp"]);
  assert.deepEqual(p.scope, { signal: false, abstract_unix_socket: true });
  assert.deepEqual(p.seccomp!.deny, ["ptrace", "mount"]);
});

Deno.test("fs_rule goes to every base layer with the rights each handles; layer = N picks one", () => {
  file("two.toml", BASE + `[[fs_layer]]\nhandled_access_fs = ["write_file"]\n`);
  const all = merged(file(
    "all.toml",
    `extends = "./two.toml"\nfs_rule = [{ path = "/srv", allowed_access = ["rw"] }]\n`,
  ));
  assert.equal(all.fs_layer![0].rule!.at(-1)!.allowed_access.length, 12);
  assert.deepEqual(all.fs_layer![1].rule, [{
    path: "/srv",
    allowed_access: ["write_file"],
    optional: false,
  }]);
  const one = merged(file(
    "one.toml",
    `extends = "./two.toml"\nfs_rule = [{ path = "/srv", allowed_access = ["write_file"], layer = 1 }]\n`,
  ));
  assert.equal(one.fs_layer![0].rule!.length, 1);
  assert.equal(one.fs_layer![1].rule!.length, 1);
});

Deno.test("net_rule adds a port to the base's [net]", () => {
  file("base.toml", BASE);
  const p = merged(file(
    "n.toml",
    `extends = "./base.toml"\nnet_rule = [{ port = 443, allowed_access = ["connect_tcp"] }]\n`,
  ));
  assert.deepEqual(p.net!.rule, [{
    port: 443,
    allowed_access: ["connect_tcp"],
  }]);
});

Deno.test("a list of bases merges in order; loadedFrom lists every file", () => {
  file("base.toml", BASE);
  const child = file("list.toml", `extends = ["ci-default", "./base.toml"]\n`);
  const p = merged(child);
  assert.equal(p.fs_layer!.length, 2);
  assert.deepEqual(loadedFrom(p).map((s) => s.name.replace(`${dir}/`, "")), [
    "list.toml",
    'policy "ci-default" (built in)',
    "base.toml",
  ]);
  assert.equal(ruleOrigins(p)!["fs_layer[1].rule[0]"], `${dir}/base.toml:5`);
});

Deno.test("a name never resolves to the file that names it", () => {
  const own = Deno.makeTempDirSync({ dir });
  const path = `${own}/ci-default.toml`;
  const text = `extends = "ci-default"\n[seccomp]\ndeny = ["ptrace"]\n`;
  Deno.writeTextFileSync(path, text);
  Deno.env.set("LANDLOCKD_POLICY_PATH", own);
  try {
    const p = merged({ name: path, text, location: path });
    assert.equal(p.fs_layer!.length, 1);
  } finally {
    Deno.env.delete("LANDLOCKD_POLICY_PATH");
  }
});

/** One case per error class; each names the file and line it is in. */
const ERRORS: {
  name: string;
  files: Record<string, string>;
  top: string;
  message: RegExp;
}[] = [
  {
    name: "a cycle names the chain",
    files: {
      "c1.toml": 'extends = "./c2.toml"\n',
      "c2.toml": 'extends = "./c1.toml"\n',
    },
    top: "c1.toml",
    message:
      /^c2\.toml:1: extends: extends makes a cycle: .*c1\.toml → .*c2\.toml → .*c1\.toml$/,
  },
  {
    name: "depth above 8 names the chain",
    files: Object.fromEntries(
      Array.from({ length: MAX_EXTENDS_DEPTH + 2 }, (_, i) => [
        `d${i}.toml`,
        i === MAX_EXTENDS_DEPTH + 1 ? BASE : `extends = "./d${i + 1}.toml"\n`,
      ]),
    ),
    top: "d0.toml",
    message:
      /^d8\.toml:1: extends: extends is nested more than 8 deep: .*d0\.toml → .*d9\.toml$/,
  },
  {
    name: "a syntax error in a base is reported against the base",
    files: {
      "syn.toml": 'version = 1\ndescription = "x\n',
      "top.toml": 'extends = "./syn.toml"\n',
    },
    top: "top.toml",
    message: /^syn\.toml:2:\d+: TOML syntax error/,
  },
  {
    name: "a schema error in a base is reported against the base's line",
    files: {
      "bb.toml":
        'version = 1\n\n[[fs_layer]]\nhandled_access_fs = ["rw", "exec"]\n',
      "top.toml": 'extends = "./bb.toml"\n',
    },
    top: "top.toml",
    message:
      /^bb\.toml:4: fs_layer\[0\]\.handled_access_fs\[1\]: unknown filesystem right "exec"/,
  },
  {
    name: "an error in the extending file names its own line",
    files: {
      "base.toml": BASE,
      "top.toml":
        'extends = "./base.toml"\n[[fs_layer]]\nhandled_access_fs = ["rw"]\nhandeled = 1\n',
    },
    top: "top.toml",
    message: /^top\.toml:4: fs_layer\[0\]\.handeled: unknown key/,
  },
  {
    name: "a missing base",
    files: { "top.toml": 'version = 1\nextends = "./nope.toml"\n' },
    top: "top.toml",
    message:
      /^top\.toml:2: extends: Cannot read policy ".*nope\.toml": No such file or directory \(ENOENT\)$/,
  },
  {
    name: "an unknown base name",
    files: { "top.toml": 'extends = ["ci-default", "ci-defualt"]\n' },
    top: "top.toml",
    message: /^top\.toml:1: extends\[1\]: No policy named "ci-defualt"/,
  },
  {
    name: "extends of the wrong type",
    files: { "top.toml": "extends = 3\n" },
    top: "top.toml",
    message:
      /^top\.toml:1: extends: expected a policy name or a path relative to this file/,
  },
  {
    name: "fs_rule without extends",
    files: {
      "top.toml":
        'version = 1\nfs_rule = [{ path = "/", allowed_access = ["ro"] }]\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:2: fs_rule: fs_rule adds to the policies this one extends, and it extends none/,
  },
  {
    name: "fs_rule with an unknown key",
    files: {
      "top.toml":
        'extends = "ci-default"\nfs_rule = [{ path = "/", allowed_access = ["ro"], optinal = true }]\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:2: fs_rule\[0\]\.optinal: unknown key \(did you mean "optional"\?\)/,
  },
  {
    name: "fs_rule naming a base layer that does not exist",
    files: {
      "top.toml":
        'extends = "ci-default"\n[[fs_rule]]\npath = "/srv"\nallowed_access = ["ro"]\nlayer = 3\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:5: fs_rule\[0\]\.layer: expected a base layer from 0 to 0 \(the bases define 1\), got 3$/,
  },
  {
    name: "fs_rule with layer = N and a right that layer does not handle",
    files: {
      "top.toml":
        'extends = "ci-default"\n[[fs_rule]]\npath = "/srv"\nallowed_access = ["ioctl_dev"]\nlayer = 0\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:4: fs_rule\[0\]\.allowed_access: base layer 0 \(policy "ci-default" \(built in\):10\) does not handle "ioctl_dev"/,
  },
  {
    name: "fs_rule whose rights no base layer handles",
    files: {
      "top.toml":
        'extends = "ci-default"\nfs_rule = [{ path = "/srv", allowed_access = ["ioctl_dev"] }]\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:2: fs_rule\[0\]\.allowed_access: no layer of the policies this one extends handles these rights/,
  },
  {
    name: "net_rule when the base has no [net]",
    files: {
      "top.toml":
        'extends = "ci-default"\nnet_rule = [{ port = 443, allowed_access = ["connect_tcp"] }]\n',
    },
    top: "top.toml",
    message:
      /^top\.toml:2: net_rule\[0\]\.allowed_access: the policies this one extends do not restrict these TCP operations/,
  },
];

for (const c of ERRORS) {
  Deno.test(`extends error: ${c.name}`, () => {
    for (const [name, text] of Object.entries(c.files)) file(name, text);
    const top = `${dir}/${c.top}`;
    const got = errors({
      name: top,
      text: Deno.readTextFileSync(top),
      location: top,
    });
    assert.equal(got.length, 1, got.join("\n"));
    assert.match(got[0], c.message);
  });
}

Deno.test("a reader that does not resolve (the daemon) refuses extends", () => {
  const r = validatePolicy({ name: "x", text: 'extends = "ci-default"\n' });
  assert.match(r.diagnostics[0].message, /must be merged where it is read/);
});

Deno.test("policySourceFiles lists the file and every base it extends", async () => {
  const { policySourceFiles } = await import("./flatten.ts");
  file("base.toml", BASE);
  const top = file("files.toml", 'extends = ["./base.toml", "ci-default"]\n');
  const files = policySourceFiles(top);
  assert.equal(files.length, 3);
  assert.equal(files[0], `${dir}/files.toml`);
  assert.equal(files[1], `${dir}/base.toml`);
  assert.match(files[2], /policies\/ci-default\.toml$/);
  assert.deepEqual(policySourceFiles(file("plain.toml", BASE)), [
    `${dir}/plain.toml`,
  ]);
});

Deno.test("a base's [net] keeps restricting TCP connects when the extending file's [net] sets only udp", () => {
  // The base handles connect_tcp by default: an empty [net], or rules only.
  for (
    const [name, net] of [
      ["empty", ""],
      ["rules", '[[net.rule]]\nport = 443\nallowed_access = ["connect_tcp"]\n'],
    ]
  ) {
    file(`tcp-${name}.toml`, `version = 1\n[net]\n${net}`);
    const p = merged(file(
      `udp-on-${name}.toml`,
      `extends = "./tcp-${name}.toml"\n[net]\nudp = "deny"\n`,
    ));
    assert.deepEqual(p.net!.handled_access_net, ["connect_tcp"], name);
    assert.equal(p.net!.udp, "deny");
  }
  // A base of udp only restricts no TCP; the extending file's rule does.
  file("udp-only.toml", 'version = 1\n[net]\nudp = "deny"\n');
  const widened = merged(file(
    "raw-on-udp.toml",
    'extends = "./udp-only.toml"\n[net]\nraw = false\n',
  ));
  assert.equal(widened.net!.handled_access_net, undefined);
  const ruled = merged(file(
    "rule-on-udp.toml",
    'extends = "./udp-only.toml"\n[[net.rule]]\nport = 443\nallowed_access = ["connect_tcp"]\n',
  ));
  // Written out as the extending file's [net] means it alone.
  assert.deepEqual(ruled.net!.handled_access_net, ["connect_tcp"]);
  assert.equal(ruled.net!.rule!.length, 1);
  // An empty [net] in the extending file is "no network", over a base of
  // udp only too (it was dropped: the merged [net] set only udp).
  const empty = merged(file(
    "empty-on-udp.toml",
    'extends = "./udp-only.toml"\n[net]\n',
  ));
  assert.deepEqual(empty.net!.handled_access_net, ["connect_tcp"]);
  assert.equal(empty.net!.udp, "deny");
  // [[net_rule]] widens a base whose [net] handles connect_tcp by default.
  const net_rule = merged(file(
    "net-rule-on-rules.toml",
    'extends = "./tcp-rules.toml"\nnet_rule = [{ port = 80, allowed_access = ["connect_tcp"] }]\n',
  ));
  assert.deepEqual(net_rule.net!.rule!.map((r) => r.port), [443, 80]);
});
