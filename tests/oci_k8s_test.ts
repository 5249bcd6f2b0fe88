/**
 * Policies from OCI configs and Kubernetes manifests: conversion, the
 * kernel enforcing the result, and malformed input. Injection validated
 * against the real Kubernetes object schemas lives in tests/testonly/,
 * which has its own deno.json so that kubernetes-models stays test-only.
 */
import assert from "node:assert/strict";
import {
  assertProbe,
  freePort,
  fsTree,
  landlockd,
  policyFile,
  PROBE,
  ROOT,
  sandboxed,
  tempDir,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

const FIX = `${ROOT}tests/fixtures`;

async function lintText(toml: string) {
  return await landlockd(["lint", "--policy-file", policyFile(toml)]);
}

Deno.test("from-oci reads the PR #1241 shape: fs and port rules, numeric strings, strict", async () => {
  const r = await landlockd(["policy", "from-oci", `${FIX}/oci-pr1241.json`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: No OCI runtime applies process\.landlock today/,
  );
  assert.match(r.stdout, /compat = "strict"/);
  assert.match(r.stdout, /handled_access_net = \["bind_tcp", "connect_tcp"\]/);
  assert.match(r.stdout, /port = 8443\n {2}allowed_access = \["bind_tcp"\]/);
  assert.match(r.stdout, /port = 443\n {2}allowed_access = \["connect_tcp"\]/);
  const lint = await lintText(r.stdout);
  assert.equal(lint.code, 0, lint.stderr);
});

Deno.test("from-oci reads the PR #1111 shape; disableBestEffort: false means best effort", async () => {
  const r = await landlockd(["policy", "from-oci", `${FIX}/oci-pr1111.json`]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /Shape: PR #1111/);
  assert.match(r.stdout, /compat = "best_effort"/);
  assert.match(
    r.stdout,
    /handled_access_fs = \["execute", "read_file", "read_dir", "write_file", "make_reg"\]/,
  );
  assert.equal((await lintText(r.stdout)).code, 0);
});

Deno.test("from-oci is strict when the config says nothing about best effort", async () => {
  const dir = tempDir();
  const cfg = JSON.parse(Deno.readTextFileSync(`${FIX}/oci-pr1111.json`));
  delete cfg.process.landlock.disableBestEffort;
  Deno.writeTextFileSync(`${dir}/config.json`, JSON.stringify(cfg));
  const r = await landlockd(["policy", "from-oci", `${dir}/config.json`]);
  assert.match(r.stdout, /compat = "strict"/);
});

testAtAbi(
  4,
  "bind_tcp",
  "run --oci-config enforces the config's rules on the kernel",
  async () => {
    const dir = fsTree();
    const [allowed, other] = [freePort(), freePort()];
    Deno.writeTextFileSync(
      `${dir}/config.json`,
      JSON.stringify({
        process: {
          landlock: {
            handledAccess: {
              handledAccessFS: ["execute", "read_file"],
              handledAccessNetwork: ["bind"],
            },
            rules: {
              pathBeneath: [
                {
                  allowedAccess: ["execute", "read_file"],
                  paths: [`${dir}/bin`],
                },
                { allowedAccess: ["read_file"], paths: [`${dir}/allowed`] },
              ],
              networkPort: [{
                allowedAccess: ["bind"],
                ports: [String(allowed)],
              }],
            },
          },
        },
      }),
    );
    const r = await landlockd([
      "run",
      "--oci-config",
      `${dir}/config.json`,
      "--",
      `${dir}/bin/probe`,
      ...[
        "read",
        `${dir}/allowed/file`,
        "read",
        `${dir}/denied/file`,
        "bind",
        String(allowed),
        "bind",
        String(other),
      ],
    ]);
    assertProbe(r, {
      [`read ${dir}/allowed/file`]: "OK",
      [`read ${dir}/denied/file`]: "EACCES",
      [`bind ${allowed}`]: "OK",
      [`bind ${other}`]: "EACCES",
    });
  },
);

Deno.test("malformed OCI configs get one message per problem with its key path, exit 125", async () => {
  const r = await landlockd(["policy", "from-oci", `${FIX}/oci-bad.json`]);
  assert.equal(r.code, 125);
  const f = `${FIX}/oci-bad.json`;
  for (
    const line of [
      `${f}: process.landlock.handledAccess.handledAccessFS[0]: unknown filesystem access "read_fil"`,
      `${f}: process.landlock.rules.networkPort[0].allowedAccess[0]: unknown network access "listen"; expected "bind" or "connect"`,
      `${f}: process.landlock.rules.networkPort[0].ports[0]: expected a port from 0 to 65535`,
      `${f}: process.landlock.rules.networkPort[0].ports[1]: expected a port: an integer or a string of digits`,
    ]
  ) assert.ok(r.stderr.includes(line), `missing ${line}\n${r.stderr}`);
  const dir = tempDir();
  Deno.writeTextFileSync(`${dir}/a.json`, "{ not json");
  Deno.writeTextFileSync(`${dir}/b.json`, `{"process": {"args": ["sh"]}}`);
  const a = await landlockd(["policy", "from-oci", `${dir}/a.json`]);
  assert.equal(a.code, 125);
  assert.match(a.stderr, /a\.json: not valid JSON/);
  const b = await landlockd([
    "run",
    "--oci-config",
    `${dir}/b.json`,
    "--",
    "true",
  ]);
  assert.equal(b.code, 125);
  assert.match(
    b.stderr,
    /b\.json: process\.landlock: the config has no process\.landlock object/,
  );
});

testAtAbi(
  4,
  "bind_tcp",
  "the seed's Pod (port 80): binding 80 works, binding 100 is EACCES",
  async () => {
    const r = await landlockd(["policy", "from-pod", `${FIX}/pod-web.yaml`]);
    assert.equal(r.code, 0, r.stderr);
    assert.match(
      r.stdout,
      /handled_access_net = \["bind_tcp"]\n\n {2}\[\[net\.rule\]\]\n {2}port = 80\n/,
    );
    const policy = policyFile(r.stdout);
    assert.equal((await landlockd(["lint", "--policy-file", policy])).code, 0);
    const run = await sandboxed(policy, [
      PROBE,
      "bind",
      "80",
      "bind",
      "100",
      "connect",
      "1",
    ]);
    const res = Object.fromEntries(
      run.stdout.trim().split("\n").map((l) => l.split(": ")),
    );
    assert.equal(res["bind 80"], Deno.uid() === 0 ? "OK" : "EACCES");
    assert.equal(res["bind 100"], "EACCES");
    assert.notEqual(res["connect 1"], "EACCES", "connect stays unrestricted");
  },
);

Deno.test("from-pod covers workload kinds, UDP, hostPort and the extra-ports annotation", async () => {
  const f = `${FIX}/workloads.yaml`;
  const many = await landlockd(["policy", "from-pod", f]);
  assert.equal(many.code, 125);
  assert.match(
    many.stderr,
    /has 6 workloads \(Deployment\/api, StatefulSet\/db, DaemonSet\/agent, Job\/migrate, CronJob\/report\): choose one with --workload|has 5 workloads/,
  );
  const twoContainers = await landlockd([
    "policy",
    "from-pod",
    f,
    "--workload",
    "api",
  ]);
  assert.equal(twoContainers.code, 125);
  assert.match(
    twoContainers.stderr,
    /Deployment "api" has 2 containers \(api, proxy\): choose one with --container/,
  );

  const api = await landlockd([
    "policy",
    "from-pod",
    f,
    "--workload",
    "api",
    "--container",
    "api",
  ]);
  assert.equal(api.code, 0, api.stderr);
  assert.match(
    api.stderr,
    /warning: Not enforceable by Landlock, left open: UDP port 8125 \(statsd\)/,
  );
  const ports = (s: string) =>
    [...s.matchAll(/port = (\d+)/g)].map((m) => Number(m[1]));
  assert.deepEqual(ports(api.stdout), [8080, 9090]);
  const expected: [string, number[]][] = [["db", [5432]], ["agent", [9100]], [
    "migrate",
    [],
  ], ["report", [7000]]];
  for (const [name, want] of expected) {
    const r = await landlockd(["policy", "from-pod", f, "--workload", name]);
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(ports(r.stdout), want, name);
    assert.equal((await lintText(r.stdout)).code, 0, name);
  }
});

Deno.test("--base merges a filesystem policy with the port rules", async () => {
  const r = await landlockd([
    "policy",
    "from-pod",
    `${FIX}/pod-web.yaml`,
    "--base",
    "ci-default",
  ]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /\[\[fs_layer\]\]/);
  assert.match(r.stdout, /path = "\/tmp"/);
  assert.match(r.stdout, /port = 80/);
  assert.equal((await lintText(r.stdout)).code, 0);
});

Deno.test("malformed manifests get a clear message and exit 125", async () => {
  const dir = tempDir();
  const cases: [string, RegExp][] = [
    ["kind: Pod\nmetadata: {name: x\nspec: [", /document 1, line \d+: /],
    [
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec: {}\n",
      /Pod "x": no pod spec with containers/,
    ],
    [
      "apiVersion: v1\nkind: Pod\nmetadata:\n  name: x\nspec:\n  containers:\n  - name: c\n    image: i\n    ports:\n    - containerPort: http\n",
      /container "c" ports\[0\]\.containerPort: expected an integer from 1 to 65535, got "http"/,
    ],
    [
      "apiVersion: v1\nkind: Service\nmetadata:\n  name: s\n",
      /has no Pod or workload with a pod template/,
    ],
  ];
  for (const [i, [text, msg]] of cases.entries()) {
    Deno.writeTextFileSync(`${dir}/m${i}.yaml`, text);
    const r = await landlockd(["policy", "from-pod", `${dir}/m${i}.yaml`]);
    assert.equal(r.code, 125, text);
    assert.match(r.stderr, msg);
  }
});
