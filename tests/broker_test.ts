/**
 * The seccomp user-notify broker on the real kernel, as root and as nobody:
 * every operation allowed and denied, publishing and the roots themselves.
 * The escape attempts (symlinks, `..`, a swap race, signalling landlockd)
 * are in tests/attacks/broker_scratch_escape_test.ts.
 */
import assert from "node:assert/strict";
import { assertDocumented } from "./audit_schema.ts";
import {
  assertProbe,
  gone,
  landlockd,
  policyFile,
  python3,
  runInBackground,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

import { brokerPolicy, brokerTree, probe } from "./broker_fixtures.ts";

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] declared files: allow_read reads only, allow_write writes, others are Landlock's (EACCES)`,
    async () => {
      const d = brokerTree();
      const r = await probe(
        d,
        as,
        ...[
          "read",
          `${d}/resolv`,
          "write",
          `${d}/resolv`,
          "truncate",
          `${d}/resolv`,
        ],
        ...["write", `${d}/log`, "read", `${d}/log`],
        ...["read", `${d}/outside/secret`, "ls", `${d}/outside`],
      );
      assertProbe(r, {
        [`read ${d}/resolv`]: "OK",
        [`write ${d}/resolv`]: "EACCES",
        [`truncate ${d}/resolv`]: "EACCES",
        [`write ${d}/log`]: "OK",
        [`read ${d}/log`]: "OK",
        [`read ${d}/outside/secret`]: "EACCES",
        [`ls ${d}/outside`]: "EACCES",
      });
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] scratch: create, mkdir, rename, link, symlink, unlink and rmdir beneath the root`,
    async () => {
      const d = brokerTree();
      const s = `${d}/scratch`;
      const r = await probe(
        d,
        as,
        ...[
          "create",
          `${s}/a`,
          "mkdir",
          `${s}/dir`,
          "rename",
          `${s}/a`,
          `${s}/dir/b`,
        ],
        ...[
          "link",
          `${s}/dir/b`,
          `${s}/c`,
          "symlink",
          "dir/b",
          `${s}/l`,
          "read",
          `${s}/l`,
        ],
        ...[
          "unlink",
          `${s}/c`,
          "unlink",
          `${s}/dir/b`,
          "rmdir",
          `${s}/dir`,
          "ls",
          s,
        ],
      );
      assertProbe(r, {
        [`create ${s}/a`]: "OK",
        [`mkdir ${s}/dir`]: "OK",
        [`rename ${s}/a`]: "OK",
        [`link ${s}/dir/b`]: "OK",
        [`symlink ${s}/l`]: "OK",
        [`read ${s}/l`]: "OK",
        [`unlink ${s}/c`]: "OK",
        [`unlink ${s}/dir/b`]: "OK",
        [`rmdir ${s}/dir`]: "OK",
        [`ls ${s}`]: "OK",
      });
      assert.deepEqual([...Deno.readDirSync(s)].map((e) => e.name).sort(), [
        "existing",
        "l",
      ]);
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] publishing: rename or link from scratch into export, and nothing else`,
    async () => {
      const d = brokerTree();
      const [s, e] = [`${d}/scratch`, `${d}/export`];
      const r = await probe(
        d,
        as,
        ...[
          "create",
          `${s}/art1`,
          "create",
          `${s}/art2`,
          "create",
          `${s}/art3`,
        ],
        ...[
          "rename",
          `${s}/art1`,
          `${e}/art1`,
          "link",
          `${s}/art2`,
          `${e}/art2`,
        ],
        ...[
          "rename",
          `${e}/art1`,
          `${s}/back`,
          "rename",
          `${s}/art3`,
          `${d}/outside/art3`,
        ],
        ...[
          "read",
          `${e}/art1`,
          "create",
          `${e}/direct`,
          "mkdir",
          `${e}/d`,
          "unlink",
          `${e}/published-before`,
        ],
        ...["rename", `${d}/outside/secret`, `${s}/stolen`],
      );
      assertProbe(r, {
        [`create ${s}/art1`]: "OK",
        [`create ${s}/art2`]: "OK",
        [`create ${s}/art3`]: "OK",
        [`rename ${s}/art1`]: "OK",
        [`link ${s}/art2`]: "OK",
        [`rename ${e}/art1`]: "EACCES",
        [`rename ${s}/art3`]: "EACCES",
        [`read ${e}/art1`]: "EACCES",
        [`create ${e}/direct`]: "EACCES",
        [`mkdir ${e}/d`]: "EACCES",
        [`unlink ${e}/published-before`]: "EACCES",
        [`rename ${d}/outside/secret`]: "EACCES",
      });
      assert.deepEqual([...Deno.readDirSync(e)].map((x) => x.name).sort(), [
        "art1",
        "art2",
        "published-before",
      ]);
      assert.equal(Deno.readTextFileSync(`${d}/outside/secret`), "SECRET\n");
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] the roots themselves cannot be removed or renamed, only read`,
    async () => {
      const d = brokerTree();
      const [s, e] = [`${d}/scratch`, `${d}/export`];
      const r = await probe(
        d,
        as,
        ...[
          "rmdir",
          s,
          "rename",
          s,
          `${e}/s`,
          "rename",
          `${s}/existing`,
          e,
          "rmdir",
          e,
          "ls",
          s,
        ],
      );
      assertProbe(r, {
        [`rmdir ${s}`]: "EACCES",
        [`rename ${s}`]: "EACCES",
        [`rename ${s}/existing`]: "EACCES",
        [`rmdir ${e}`]: "EACCES",
        [`ls ${s}`]: "OK",
      });
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] injected fds honour O_CLOEXEC`,
    async () => {
      const d = brokerTree();
      const r = await probe(
        d,
        as,
        "open-cloexec",
        `${d}/resolv`,
        "open-keep",
        `${d}/resolv`,
      );
      assertProbe(r, {
        [`open-cloexec ${d}/resolv`]: "OK",
        [`open-keep ${d}/resolv`]: "OK",
      });
    },
  );

  Deno.test(`[${as}] a dynamically linked Python runs normally under a broker`, async () => {
    const d = brokerTree();
    const python = python3();
    const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
[broker]
allow_write = ["${d}/log"]
scratch = ["${d}/scratch"]
`);
    const r = await sandboxed(policy, [
      python,
      "-c",
      `import json, ssl, pathlib; pathlib.Path("${d}/scratch/py.json").write_text(json.dumps([1])); open("${d}/log", "a").write("logged"); print("ok")`,
    ], { as });
    assert.equal(r.stdout, "ok\n", r.stderr);
    assert.equal(Deno.readTextFileSync(`${d}/scratch/py.json`), "[1]");
    assert.equal(Deno.readTextFileSync(`${d}/log`), "logged");
  });
}

Deno.test("a missing declared path is an error naming it", async () => {
  const d = brokerTree();
  Deno.removeSync(`${d}/log`);
  const r = await sandboxed(brokerPolicy(d), ["true"]);
  assert.equal(r.code, 125);
  assert.match(
    r.stderr,
    /:\d+: broker\.allow_write\[0\]: ".*\/log" does not exist/,
  );
});

testAtAbi(
  3,
  "truncate",
  "killing landlockd kills a brokered sandbox: it never runs unsupervised",
  async () => {
    const d = brokerTree();
    const { proc, pid } = await runInBackground(brokerPolicy(d), [
      `${d}/bin/probe`,
      "sleep",
      "30",
    ]);
    proc.kill("SIGKILL");
    await proc.status;
    assert.equal(await gone(pid), true);
  },
);

testAtAbi(
  3,
  "truncate",
  "broker audit events say what was asked and what was decided",
  async () => {
    const d = brokerTree();
    const audit = `${tempDir()}/audit.jsonl`;
    const r = await landlockd([
      "run",
      "--policy-file",
      brokerPolicy(d),
      "--audit-file",
      audit,
      "--",
      `${d}/bin/probe`,
      ...[
        "read",
        `${d}/resolv`,
        "write",
        `${d}/resolv`,
        "create",
        `${d}/scratch/a`,
        "rename",
        `${d}/scratch/a`,
        `${d}/export/a`,
      ],
      ...[
        "mkdir",
        `${d}/scratch/m`,
        "rmdir",
        `${d}/scratch/m`,
        "symlink",
        "x",
        `${d}/scratch/l`,
        "unlink",
        `${d}/scratch/l`,
      ],
      ...[
        "link",
        `${d}/scratch/existing`,
        `${d}/export/e`,
        "create",
        `${d}/scratch/existing`,
      ],
    ]);
    assert.equal(r.code, 0, r.stderr);
    const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
      JSON.parse(l)
    )
      .filter((e) => e.component === "broker");
    events.forEach(assertDocumented);
    const summary = events.map((e) =>
      `${e.event} ${e.operation} ${e.decision} ${e.errno}`
    );
    assert.deepEqual(summary, [
      "broker.open read allow 0",
      "broker.open write deny 13",
      "broker.open create allow 0",
      "broker.rename rename allow 0",
      "broker.mkdir mkdir allow 0",
      "broker.rmdir rmdir allow 0",
      "broker.symlink symlink allow 0",
      "broker.unlink unlink allow 0",
      "broker.link link allow 0",
      "broker.open create error 17",
    ]);
    assert.equal(events[3].new_path, `${d}/export/a`);
    assert.equal(events.at(-1).error, "EEXIST");
  },
);
