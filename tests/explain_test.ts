/**
 * `run --explain` on the real kernel, as root and as nobody: a denied file
 * read, file create, exec, TCP bind and TCP connect are each named with
 * the path or port, the missing right, the refusing layer and its line,
 * and a rule that allows them; the same facts are `denial` audit events
 * matching docs/audit-schema.md. The observer's verdicts agree with the
 * kernel's errnos over the probe's operations. The hint without
 * --explain appears on a terminal only.
 */
import assert from "node:assert/strict";
import {
  chownTree,
  DENO_RUN,
  freePort,
  fsTree,
  landlockd,
  policyFile,
  probeResults,
  ROOT,
  RUN_ROOT,
  USERS,
} from "./helpers.ts";
import { assertDocumented } from "./audit_schema.ts";
import { testAtAbi, testNeedingAbi } from "./fresh_needs.ts";
import { SERVE_FOR_USERS, startDaemon } from "./daemon_helpers.ts";
import { library } from "./daemon_helpers.ts";

const { connect } = library;

/** Tests whose policy has a [net] table: Landlock ABI 4. */
const netTest = testNeedingAbi(
  4,
  "the [net] table these policies set (it handles TCP)",
);

const ALL_FS = [
  "execute",
  "write_file",
  "read_file",
  "read_dir",
  "remove_dir",
  "remove_file",
  "make_char",
  "make_dir",
  "make_reg",
  "make_sock",
  "make_fifo",
  "make_block",
  "make_sym",
  "refer",
  "truncate",
];

/**
 * fsTree plus DIR/denied/prog (an executable) and DIR/denied/sub; a
 * policy: /usr and the probe readable and executable, DIR/allowed
 * read-write, DIR/denied nothing, TCP bind on `bind` and connect on
 * `connect` only.
 */
function setup(ports: { bind: number; connect: number }) {
  const d = fsTree();
  Deno.copyFileSync(`${d}/bin/probe`, `${d}/denied/prog`);
  Deno.chmodSync(`${d}/denied/prog`, 0o755);
  Deno.mkdirSync(`${d}/denied/sub`);
  Deno.writeTextFileSync(`${d}/allowed/file2`, "two\n");
  chownTree(d);
  const policy = policyFile(`version = 1

[[fs_layer]]
handled_access_fs = ${JSON.stringify(ALL_FS)}

  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute", "read_file", "read_dir"]

  [[fs_layer.rule]]
  path = "${d}/bin"
  allowed_access = ["execute", "read_file", "read_dir"]

  [[fs_layer.rule]]
  path = "${d}/allowed"
  allowed_access = ["read_file", "read_dir", "write_file", "truncate", "make_reg", "make_dir", "make_sym", "remove_file", "remove_dir"]

[net]
handled_access_net = ["bind_tcp", "connect_tcp"]

  [[net.rule]]
  port = ${ports.bind}
  allowed_access = ["bind_tcp"]

  [[net.rule]]
  port = ${ports.connect}
  allowed_access = ["connect_tcp"]
`);
  return { d, policy };
}

function auditEvents(path: string): Record<string, unknown>[] {
  return Deno.readTextFileSync(path).split("\n").filter(Boolean).map((l) =>
    JSON.parse(l)
  );
}

/** An audit file the run's user may write. */
function auditFile(d: string): string {
  const path = `${d}/audit.jsonl`;
  Deno.writeTextFileSync(path, "");
  chownTree(d);
  return path;
}

for (const as of USERS) {
  testAtAbi(
    4,
    "bind_tcp",
    `[${as}] a denied read, create, exec, bind and connect are each named with the path or port, the right, the layer and the fix`,
    async () => {
      const ports = { bind: freePort(), connect: freePort() };
      const [bindDenied, connectDenied] = [freePort(), freePort()];
      const { d, policy } = setup(ports);
      const audit = auditFile(d);
      const r = await landlockd([
        "run",
        "--explain",
        "--audit-file",
        audit,
        "--policy-file",
        policy,
        "--",
        `${d}/bin/probe`,
        "read",
        `${d}/denied/file`,
        "create",
        `${d}/denied/new`,
        "exec",
        `${d}/denied/prog`,
        "bind",
        String(bindDenied),
        "connect",
        String(connectDenied),
        "read",
        `${d}/allowed/file`,
      ], { as });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), {
        [`read ${d}/denied/file`]: "EACCES",
        [`create ${d}/denied/new`]: "EACCES",
        [`exec ${d}/denied/prog`]: "EACCES",
        [`bind ${bindDenied}`]: "EACCES",
        [`connect ${connectDenied}`]: "EACCES",
        [`read ${d}/allowed/file`]: "OK",
      });
      const layer = `refused by \\[\\[fs_layer\\]\\] #0 at ${policy}:3`;
      const netLine =
        Deno.readTextFileSync(policy).split("\n").indexOf("[net]") + 1;
      const net = `refused by \\[net\\] at ${policy}:${netLine}`;
      const block = (head: string, refused: string, fix: string) =>
        new RegExp(
          `${head}\n  ${refused}: missing ${
            fix.match(/allowed_access = \[(.*)\]/)![1].replaceAll('"', "")
              .replace(/[[\]]/g, "\\$&")
          }\n  to allow it, add to [^\n]+:\n${
            fix.split("\n").map((l) => `    ${l.replace(/[[\]]/g, "\\$&")}`)
              .join("\n")
          }\n`,
        );
      const e = r.stderr;
      assert.match(e, /--explain: 5 distinct accesses denied/);
      assert.match(
        e,
        block(
          `denied: open for reading ${d}/denied/file \\(openat, once\\)`,
          layer,
          `[[fs_layer.rule]]\npath = "${d}/denied/file"\nallowed_access = ["read_file"]`,
        ),
      );
      assert.match(
        e,
        block(
          `denied: create ${d}/denied/new \\(openat, once\\)`,
          layer,
          `[[fs_layer.rule]]\npath = "${d}/denied"\nallowed_access = ["make_reg", "write_file"]`,
        ),
      );
      assert.match(
        e,
        block(
          `denied: execute ${d}/denied/prog \\(execve, once\\)`,
          layer,
          `[[fs_layer.rule]]\npath = "${d}/denied/prog"\nallowed_access = ["execute", "read_file"]`,
        ),
      );
      assert.match(
        e,
        block(
          `denied: bind TCP port ${bindDenied} \\(bind, once\\)`,
          net,
          `[[net.rule]]\nport = ${bindDenied}\nallowed_access = ["bind_tcp"]`,
        ),
      );
      assert.match(
        e,
        block(
          `denied: connect to TCP port ${connectDenied} \\(connect, once\\)`,
          net,
          `[[net.rule]]\nport = ${connectDenied}\nallowed_access = ["connect_tcp"]`,
        ),
      );
      // The same facts as audit events, as documented.
      const events = auditEvents(audit);
      events.forEach(assertDocumented);
      const denials = events.filter((ev) => ev.event === "denial");
      assert.deepEqual(
        denials.map((ev) => [ev.operation, ev.path ?? ev.port, ev.missing]),
        [
          ["read", `${d}/denied/file`, ["read_file"]],
          ["create", `${d}/denied/new`, ["make_reg", "write_file"]],
          ["exec", `${d}/denied/prog`, ["execute", "read_file"]],
          ["bind", bindDenied, ["bind_tcp"]],
          ["connect", connectDenied, ["connect_tcp"]],
        ],
      );
      assert.equal(denials[0].origin, `${policy}:3`);
      assert.equal(denials[3].section, "net");
    },
  );

  testAtAbi(
    4,
    "bind_tcp",
    `[${as}] the observer's verdicts agree with the kernel's errnos over the probe's operations`,
    async () => {
      const ports = { bind: freePort(), connect: freePort() };
      const [bindDenied, connectDenied] = [freePort(), freePort()];
      const { d, policy } = setup(ports);
      const audit = auditFile(d);
      const ops: string[][] = [
        ["read", `${d}/allowed/file`],
        ["read", `${d}/denied/file`],
        ["write", `${d}/allowed/file`],
        ["write", `${d}/denied/file`],
        ["truncate", `${d}/allowed/file`],
        ["truncate", `${d}/denied/file`],
        ["ls", `${d}/allowed`],
        ["ls", `${d}/denied`],
        ["create", `${d}/allowed/new`],
        ["create", `${d}/denied/new`],
        ["mkdir", `${d}/allowed/dir`],
        ["mkdir", `${d}/denied/dir`],
        ["rmdir", `${d}/allowed/dir`],
        ["rmdir", `${d}/denied/sub`],
        ["unlink", `${d}/allowed/new`],
        ["unlink", `${d}/denied/file`],
        ["symlink", "target", `${d}/allowed/link`],
        ["symlink", "target", `${d}/denied/link`],
        ["rename", `${d}/allowed/file2`, `${d}/allowed/file3`],
        ["rename", `${d}/denied/file`, `${d}/denied/file2`],
        ["link", `${d}/allowed/file`, `${d}/allowed/hard`],
        ["link", `${d}/denied/file`, `${d}/denied/hard`],
        ["exec", `${d}/bin/probe`],
        ["exec", `${d}/denied/prog`],
        ["bind", String(ports.bind)],
        ["bind", String(bindDenied)],
        ["connect", String(ports.connect)],
        ["connect", String(connectDenied)],
      ];
      const r = await landlockd([
        "run",
        "--explain",
        "--audit-file",
        audit,
        "--policy-file",
        policy,
        "--",
        `${d}/bin/probe`,
        ...ops.flat(),
      ], { as });
      assert.equal(r.code, 0, r.stderr);
      const results = probeResults(r.stdout);
      const denied = auditEvents(audit).filter((e) => e.event === "denial");
      const reported = (target: string) =>
        denied.some((e) => String(e.path ?? e.port) === target);
      let landlockDenials = 0;
      for (const op of ops) {
        // probe reports a symlink by its link path, the rest by the first.
        const key = `${op[0]} ${op[0] === "symlink" ? op[2] : op[1]}`;
        const errno = results[key];
        assert.ok(errno, `no result for ${key}: ${r.stdout}`);
        // The targets the observer names: both ends of a rename or link.
        const targets = op[0] === "rename" || op[0] === "link"
          ? op.slice(1)
          : [op[0] === "symlink" ? op[2] : op[1]];
        const observed = targets.some(reported);
        if (errno === "EACCES") landlockDenials++;
        assert.equal(
          observed,
          errno === "EACCES",
          `${key}: the kernel said ${errno}, the observer ${
            observed ? "reported a denial" : "reported none"
          }`,
        );
      }
      assert.equal(landlockDenials, ops.length / 2);
    },
  );
}

/** The argv of `deno run main.ts ARGS` as one shell-quoted string. */
function shellCommand(args: string[]): string {
  return [...DENO_RUN, `${RUN_ROOT}main.ts`, ...args].map((a) =>
    `'${a.replaceAll("'", `'\\''`)}'`
  ).join(" ");
}

const HINT = /run again with --explain/;

netTest(
  "a failed run under Landlock rules prints the --explain hint on a terminal, and never when stderr is not one",
  async () => {
    const { d, policy } = setup({ bind: freePort(), connect: freePort() });
    const args = [
      "run",
      "--policy-file",
      policy,
      "--",
      `${d}/bin/probe`,
      "read",
      `${d}/denied/file`,
      "exit",
      "3",
    ];
    // Not a terminal: piped stderr.
    const piped = await landlockd(args);
    assert.doesNotMatch(piped.stderr, HINT);
    // A terminal: script(1) gives the run a pseudo-terminal.
    const tty = await new Deno.Command("script", {
      args: ["-qefc", shellCommand(args), "/dev/null"],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const out = new TextDecoder().decode(tty.stdout);
    assert.match(out, /read [^ ]+\/denied\/file: EACCES/);
    assert.match(
      out,
      /landlockd: the command exited with status \d+; to see what Landlock denied it, run again with --explain/,
    );
    // With --explain there is the report instead of the hint.
    const explained = await new Deno.Command("script", {
      args: [
        "-qefc",
        shellCommand(["run", "--explain", ...args.slice(1)]),
        "/dev/null",
      ],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
      env: { NO_COLOR: "1" },
    }).output();
    const report = new TextDecoder().decode(explained.stdout);
    assert.doesNotMatch(report, HINT);
    assert.match(report, /denied: open for reading [^ ]+\/denied\/file/);
  },
);

netTest(
  "where the kernel cannot observe, --explain says so and runs the command normally",
  async () => {
    const { d, policy } = setup({ bind: freePort(), connect: freePort() });
    const r = await landlockd([
      "run",
      "--explain",
      "--policy-file",
      policy,
      "--",
      `${d}/bin/probe`,
      "read",
      `${d}/denied/file`,
      "read",
      `${d}/allowed/file`,
    ], { env: { LANDLOCKD_OBSERVE: "off" } });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(probeResults(r.stdout), {
      [`read ${d}/denied/file`]: "EACCES",
      [`read ${d}/allowed/file`]: "OK",
    });
    assert.match(
      r.stderr,
      /^landlockd: --explain cannot explain here: observing is off \(LANDLOCKD_OBSERVE=off\); running without it$/m,
    );
    assert.doesNotMatch(r.stderr, /denied:/);
  },
);

testAtAbi(
  4,
  "bind_tcp",
  "--explain works through the daemon (run --socket, as root and nobody) and the library API (explain: true carries the denials)",
  async () => {
    const ports = { bind: freePort(), connect: freePort() };
    const { d, policy } = setup(ports);
    const daemon = await startDaemon({ args: SERVE_FOR_USERS });
    try {
      for (const as of USERS) {
        const r = await landlockd([
          "run",
          "--socket",
          daemon.socket,
          "--explain",
          "--policy-file",
          policy,
          "--",
          `${d}/bin/probe`,
          "read",
          `${d}/denied/file`,
          "create",
          `${d}/denied/new-${as}`,
          "read",
          `${d}/allowed/file`,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          [`read ${d}/denied/file`]: "EACCES",
          [`create ${d}/denied/new-${as}`]: "EACCES",
          [`read ${d}/allowed/file`]: "OK",
        });
        assert.match(r.stderr, /--explain: 2 distinct accesses denied/);
        assert.match(
          r.stderr,
          new RegExp(
            `denied: create ${d}/denied/new-${as} \\(openat, once\\)\n  refused by \\[\\[fs_layer\\]\\] #0 at ${policy}:3: missing make_reg, write_file\n[^\n]*\n    \\[\\[fs_layer.rule\\]\\]\n    path = "${d}/denied"\n`,
          ),
        );
      }
      // The library API.
      const client = await connect(daemon.socket);
      try {
        const r = await client.run({
          policy: { text: Deno.readTextFileSync(policy), name: policy },
          argv: [`${d}/bin/probe`, "read", `${d}/denied/file`],
          explain: true,
        });
        assert.equal(r.code, 0);
        assert.equal(r.denials?.length, 1);
        const [denial] = r.denials!;
        assert.equal(denial.op, "read");
        assert.equal(denial.path, `${d}/denied/file`);
        assert.deepEqual(denial.missing, ["read_file"]);
        assert.equal(denial.section, "fs_layer[0]");
        assert.equal(denial.origin, `${policy}:3`);
        assert.equal(
          denial.fix,
          `[[fs_layer.rule]]\npath = "${d}/denied/file"\nallowed_access = ["read_file"]`,
        );
        assert.equal(r.denialsOmitted, 0);
        // Without explain, nothing is observed or reported.
        const plain = await client.run({
          policy: { text: Deno.readTextFileSync(policy), name: policy },
          argv: [`${d}/bin/probe`, "read", `${d}/denied/file`],
        });
        assert.equal(plain.denials, undefined);
      } finally {
        client.close();
      }
      // The daemon's audit stream has the denial events, as documented.
      const denials = daemon.events().filter((e) => e.event === "denial");
      assert.ok(denials.length >= 5, JSON.stringify(denials));
      denials.forEach(assertDocumented);
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
    }
  },
);

for (const as of USERS) {
  netTest(
    `[${as}] under --explain, a command that cannot be executed (126) is explained too`,
    async () => {
      const { d, policy } = setup({ bind: freePort(), connect: freePort() });
      Deno.writeTextFileSync(`${d}/denied/script.sh`, "#!/bin/sh\necho hi\n");
      Deno.chmodSync(`${d}/denied/script.sh`, 0o755);
      chownTree(d);
      const r = await landlockd([
        "run",
        "--explain",
        "--policy-file",
        policy,
        "--",
        `${d}/denied/script.sh`,
      ], { as });
      assert.equal(r.code, 126, r.stderr);
      assert.match(r.stderr, /cannot execute "[^"]+": Permission denied/);
      assert.match(
        r.stderr,
        new RegExp(
          `denied: execute ${d}/denied/script.sh \\(execve, once\\)\n  refused by \\[\\[fs_layer\\]\\] #0 at ${policy}:3: missing execute, read_file\n`,
        ),
      );
    },
  );
}

for (const as of USERS) {
  Deno.test(`[${as}] an exec refused because of the program's loader (ld.so) names the loader`, async () => {
    const { d } = setup({ bind: freePort(), connect: freePort() });
    const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/usr/bin"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${d}/bin"
  allowed_access = ["execute", "read_file"]
`);
    const r = await landlockd([
      "run",
      "--explain",
      "--policy-file",
      policy,
      "--",
      `${d}/bin/probe`,
      "exec",
      "/usr/bin/true",
    ], { as });
    assert.equal(r.code, 0, r.stderr);
    assert.deepEqual(probeResults(r.stdout), {
      "exec /usr/bin/true": "EACCES",
    });
    assert.match(
      r.stderr,
      /denied: execute \/\S+\/ld-linux[^ ]*\.so\.\d \(execve, once\)\n {2}refused by \[\[fs_layer\]\] #0 at \S+:2: missing execute, read_file\n/,
    );
    assert.doesNotMatch(r.stderr, /denied: execute \/usr\/bin\/true/);
  });
}
