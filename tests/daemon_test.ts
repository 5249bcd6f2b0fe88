/**
 * The daemon on the real kernel: serve, status, stop, `run --socket`
 * parity with direct runs, stdio passing, signals, who may connect, and
 * enforcement of what the daemon starts.
 */

import assert from "node:assert/strict";
import { assertDocumented } from "./audit_schema.ts";
import {
  childrenOf,
  runViaDaemon,
  startDaemon,
  startViaDaemon,
} from "./daemon_helpers.ts";
import { mountPolicy, mountTree } from "./mount_helpers.ts";
import { needs, requiring, testAtAbi } from "./fresh_needs.ts";
import {
  alive,
  assertProbe,
  chownTree,
  fsTree,
  gone,
  landlockd,
  landlockdCommand,
  policyFile,
  PROBE,
  RUN_ROOT,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";

const CI_DEFAULT = `${RUN_ROOT}policies/ci-default.toml`;

function fsPolicy(dir: string): string {
  return policyFile(`version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "write_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["read_file", "write_file", "read_dir"]
`);
}

for (const as of USERS) {
  Deno.test(`[${as}] daemon: status reports the daemon, run --socket enforces the policy, stop ends it`, async () => {
    const d = await startDaemon({ as });
    const dir = fsTree();
    const socketDir = d.socket.slice(0, d.socket.lastIndexOf("/"));
    assert.equal(Deno.statSync(socketDir).mode! & 0o777, 0o700);
    assert.equal(Deno.statSync(d.socket).mode! & 0o777, 0o600);

    const r = await landlockd([
      "run",
      "--socket",
      d.socket,
      "--policy-file",
      fsPolicy(dir),
      "--",
      `${dir}/bin/probe`,
      ...["read", `${dir}/allowed/file`],
      ...["read", `${dir}/denied/file`],
      ...["write", `${dir}/allowed/file`],
      ...["write", `${dir}/denied/file`],
      ...["swapoff", `${dir}/denied/file`],
    ], { as });
    assertProbe(r, {
      [`read ${dir}/allowed/file`]: "OK",
      [`read ${dir}/denied/file`]: "EACCES",
      [`write ${dir}/allowed/file`]: "OK",
      [`write ${dir}/denied/file`]: "EACCES",
      // The daemon's own deny list, inherited by everything it starts.
      [`swapoff ${dir}/denied/file`]: "EPERM",
    });

    const s = await landlockd(["status", "--socket", d.socket], { as });
    assert.equal(s.code, 0, s.stderr);
    const status = JSON.parse(s.stdout);
    assert.equal(status.pid, d.pid);
    assert.equal(status.uid, as === "nobody" ? 65534 : 0);
    assert.match(status.version, /^\d+\.\d+\.\d+/);
    assert.equal(typeof status.uptime_s, "number");
    assert.ok(status.landlock_abi >= 1);
    assert.deepEqual(status.active, []);
    assert.equal(status.totals.runs_started, 1);
    assert.equal(status.totals.runs_finished, 1);
    assert.deepEqual(
      {
        entries: status.policy_cache.entries,
        misses: status.policy_cache.misses,
      },
      { entries: 1, misses: 1 },
    );
    assert.equal(status.no_new_privs, true);
    assert.equal(typeof status.memory.rss, "number");
    assert.equal(typeof status.memory.heap_total, "number");
    // Once idle, the daemon gives back the heap its runs grew (idle_gc.ts).
    let collections = status.memory.idle_collections;
    for (let i = 0; i < 8 && collections < 1; i++) {
      await new Promise((r) => setTimeout(r, 1200));
      const again = await landlockd(["status", "--socket", d.socket], { as });
      collections = JSON.parse(again.stdout).memory.idle_collections;
    }
    assert.ok(collections >= 1, "no idle collection after the run");
    const proc = Deno.readTextFileSync(`/proc/${d.pid}/status`);
    assert.match(proc, /^NoNewPrivs:\s+1$/m);
    assert.match(proc, /^Seccomp:\s+2$/m);

    const stop = await landlockd(["stop", "--socket", d.socket], { as });
    assert.equal(stop.code, 0, stop.stderr);
    assert.equal((await d.exited()).code, 0);
    assert.throws(() => Deno.statSync(d.socket), Deno.errors.NotFound);
    const after = await landlockd(["status", "--socket", d.socket], { as });
    assert.equal(after.code, 125);
    assert.match(after.stderr, /no landlockd daemon at/);
    d.events().forEach(assertDocumented);
    const names = d.events().map((e) => e.event);
    for (
      const e of [
        "daemon.listen",
        "daemon.peer",
        "daemon.request",
        "run.start",
        "run.exit",
        "daemon.exit",
      ]
    ) {
      assert.ok(names.includes(e), `${e} missing from ${names}`);
    }
  });

  Deno.test(`[${as}] daemon: run --socket exits exactly as a direct run (status, signal, 126, 127, policy error)`, async () => {
    const d = await startDaemon({ as });
    const dir = tempDir();
    const notExec = `${dir}/not-executable`;
    Deno.writeTextFileSync(notExec, "#!/bin/sh\n");
    Deno.chmodSync(notExec, 0o644);
    const bad = policyFile(
      `version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_fil"]\n`,
    );
    const cases: [string, string[]][] = [
      [CI_DEFAULT, ["sh", "-c", "echo out; echo err >&2; exit 7"]],
      [CI_DEFAULT, ["sh", "-c", "kill -TERM $$"]],
      [CI_DEFAULT, ["no-such-command-here"]],
      [CI_DEFAULT, [notExec]],
      [bad, ["true"]],
    ];
    for (const [policy, argv] of cases) {
      const direct = await sandboxed(policy, argv, { as });
      const viaDaemon = await landlockd(
        ["run", "--socket", d.socket, "--policy-file", policy, "--", ...argv],
        { as },
      );
      assert.equal(viaDaemon.code, direct.code, `${argv}: ${viaDaemon.stderr}`);
      assert.equal(viaDaemon.stdout, direct.stdout);
      // A first run as nobody may also say it downloaded packages.
      const own = (s: string) => s.replace(/^Download .*\n/gm, "");
      assert.equal(own(viaDaemon.stderr), own(direct.stderr));
    }
    await landlockd(["stop", "--socket", d.socket], { as });
    await d.exited();
  });

  testAtAbi(
    3,
    "truncate",
    `[${as}] daemon: stdin piped through the daemon reaches the sandboxed program; cwd, env and the audit file are the client's`,
    async () => {
      const d = await startDaemon({ as });
      const cwd = tempDir();
      chownTree(cwd);
      const audit = `${cwd}/client-audit.jsonl`;
      const r = await landlockd(
        [
          "run",
          "--socket",
          d.socket,
          "--policy",
          "ci-default",
          "--audit-file",
          audit,
          "--",
          "sh",
          "-c",
          'tr a-z A-Z; pwd; echo "$GREETING"',
        ],
        {
          as,
          stdin: "piped through\n",
          cwd,
          env: { GREETING: "hello from the client", LANDLOCKD_JOB_ID: "job-7" },
        },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `PIPED THROUGH\n${cwd}\nhello from the client\n`);
      // The client's own audit file gets its run's events, not the daemon's.
      const events = Deno.readTextFileSync(audit).split("\n").filter((l) => l)
        .map((l) => JSON.parse(l));
      assert.deepEqual(events.map((e) => e.event), ["run.start", "run.exit"]);
      assert.ok(events.every((e) => e.job_id === "job-7"));
      events.forEach(assertDocumented);
      await landlockd(["stop", "--socket", d.socket], { as });
      await d.exited();
    },
  );
}

testAtAbi(
  3,
  "truncate (ci-default)",
  "daemon: the client's SIGTERM reaches the sandbox and the client exits 128+15",
  async () => {
    const d = await startDaemon();
    const client = startViaDaemon(d, ["sleep", "30"]);
    const start = await d.waitFor((e) => e.event === "run.start");
    client.kill("SIGTERM");
    const out = await client.output();
    assert.equal(out.code, 143);
    const exit = await d.waitFor((e) => e.event === "run.signal");
    assert.equal(exit.pid, start.pid);
    assert.equal(exit.signal, "SIGTERM");
    assert.deepEqual(exit.forwarded_signals, ["SIGTERM"]);
    d.proc.kill("SIGTERM");
    await d.exited();
  },
);

testAtAbi(
  3,
  "truncate (ci-default)",
  "daemon: a client killed mid-run leaves no sandbox behind",
  async () => {
    const d = await startDaemon();
    const client = startViaDaemon(d, ["sleep", "30"]);
    const start = await d.waitFor((e) => e.event === "run.start");
    assert.ok(alive(start.pid as number));
    client.kill("SIGKILL");
    await client.output();
    assert.ok(
      await gone(start.pid as number),
      "the sandbox outlived its client",
    );
    const exit = await d.waitFor((e) => e.event === "run.signal");
    assert.equal(exit.signal, "SIGKILL");
    assert.deepEqual(childrenOf(d.pid), []);
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
);

testAtAbi(
  3,
  "truncate (ci-default)",
  "daemon: SIGTERM is graceful (active runs finish, new ones are refused); stop --now kills",
  async () => {
    const d = await startDaemon({ args: ["--grace", "30"] });
    const marker = `${tempDir()}/marker`;
    const slow = startViaDaemon(d, ["sh", "-c", "sleep 1; echo finished"]);
    await d.waitFor((e) => e.event === "run.start");
    d.proc.kill("SIGTERM");
    await d.waitFor((e) => e.event === "daemon.stop");
    const late = await runViaDaemon(d, ["touch", marker]);
    assert.equal(late.code, 125, late.stderr);
    const out = await slow.output();
    assert.equal(out.code, 0);
    assert.equal(new TextDecoder().decode(out.stdout), "finished\n");
    assert.equal((await d.exited()).code, 0);
    assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
    const exit = d.events().find((e) => e.event === "daemon.exit")!;
    assert.equal(exit.reason, "signal");
    assert.equal(exit.killed, 0);

    const d2 = await startDaemon();
    const long = startViaDaemon(d2, ["sleep", "30"]);
    const start = await d2.waitFor((e) => e.event === "run.start");
    const stop = await landlockd(["stop", "--socket", d2.socket, "--now"]);
    assert.equal(stop.code, 0, stop.stderr);
    assert.match(stop.stderr, /1 run\(s\) killed/);
    assert.equal((await long.output()).code, 137);
    assert.ok(!alive(start.pid as number));
    assert.equal((await d2.exited()).code, 0);
  },
);

Deno.test({
  ...requiring(
    "daemon: another uid cannot reach the socket; with --allow-uid others are checked by SO_PEERCRED; refusals are audited",
    needs.root(),
    needs.abi(3, "truncate (ci-default)"),
  ),
  fn: async () => {
    const d = await startDaemon();
    const denied = await landlockd(["status", "--socket", d.socket], {
      as: "nobody",
    });
    assert.equal(denied.code, 125);
    assert.match(denied.stderr, /permission denied/);
    d.proc.kill("SIGTERM");
    await d.exited();

    // Socket opened to everyone, but only uid 12345 (and root) may use it.
    const wide = await startDaemon({ args: ["--allow-uid", "12345"] });
    assert.equal(Deno.statSync(wide.socket).mode! & 0o777, 0o666);
    const refused = await landlockd(
      ["run", "--socket", wide.socket, "--policy", "ci-default", "--", "true"],
      { as: "nobody" },
    );
    assert.equal(refused.code, 125);
    assert.match(refused.stderr, /uid 65534 may not use this landlockd daemon/);
    const peer = await wide.waitFor((e) =>
      e.event === "daemon.peer" && e.allowed === false
    );
    assert.equal(peer.peer_uid, 65534);
    wide.events().forEach(assertDocumented);
    wide.proc.kill("SIGTERM");
    await wide.exited();

    // Allowed: nobody may run (as nobody, not as the root daemon), a broker
    // grants nobody nothing nobody could not open itself, and only the
    // daemon's user may stop it.
    const shared = await startDaemon({ args: ["--allow-uid", "65534"] });
    const viaShared = (policy: string[], argv: string[]) =>
      landlockd(["run", "--socket", shared.socket, ...policy, "--", ...argv], {
        as: "nobody",
      });
    const ran = await viaShared(["--policy", "ci-default"], [
      "sh",
      "-c",
      "id -u; id -G",
    ]);
    assert.equal(ran.code, 0, ran.stderr);
    assert.equal(ran.stdout, "65534\n65534\n");
    const dir = tempDir();
    for (
      const [name, mode] of [["private", 0o600], ["public", 0o644]] as const
    ) {
      Deno.writeTextFileSync(`${dir}/${name}`, `${name} content\n`);
      Deno.chmodSync(`${dir}/${name}`, mode);
    }
    const brokered = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "/etc"
  allowed_access = ["read_file"]
[broker]
allow_read = ["${dir}/private", "${dir}/public"]
`);
    const cat = await viaShared(["--policy-file", brokered], [
      "cat",
      `${dir}/public`,
      `${dir}/private`,
    ]);
    assert.equal(cat.code, 1);
    assert.equal(cat.stdout, "public content\n");
    assert.match(cat.stderr, /private: Permission denied/);
    // Its tmpfs mounts are nobody's, as in nobody's own direct run.
    const t = mountTree();
    const mounted = await viaShared(["--policy-file", mountPolicy(t)], [
      `${t}/bin/probe`,
      "create",
      `${t}/tmp/new`,
    ]);
    assertProbe(mounted, { [`create ${t}/tmp/new`]: "OK" });

    // A group works the same way: the socket is 0660 and its directory 0710
    // for that group, and members pass the credential check.
    const group = await startDaemon({ args: ["--allow-gid", "65534"] });
    const socketStat = Deno.statSync(group.socket);
    assert.deepEqual([socketStat.mode! & 0o777, socketStat.gid], [
      0o660,
      65534,
    ]);
    const member = await landlockd(
      [
        "run",
        "--socket",
        group.socket,
        "--policy",
        "ci-default",
        "--",
        "id",
        "-g",
      ],
      { as: "nobody" },
    );
    assert.equal(member.code, 0, member.stderr);
    assert.equal(member.stdout, "65534\n");
    group.proc.kill("SIGTERM");
    await group.exited();

    const stop = await landlockd(["stop", "--socket", shared.socket], {
      as: "nobody",
    });
    assert.equal(stop.code, 125);
    assert.match(stop.stderr, /only uid 0 or root may stop/);
    shared.proc.kill("SIGTERM");
    assert.equal((await shared.exited()).code, 0);
  },
});

Deno.test("daemon: serve refuses a socket directory others can enter, and a second daemon on a live socket", async () => {
  const open = tempDir(); // 0755
  const r = await landlockd(["serve", "--socket", `${open}/landlockd.sock`]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /has mode 0755; it must be 0700/);
  const d = await startDaemon();
  const again = await landlockd(["serve", "--socket", d.socket]);
  assert.equal(again.code, 125);
  assert.match(again.stderr, /already listening/);
  d.proc.kill("SIGTERM");
  await d.exited();
});

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] daemon: namespaces and mounts work through the daemon, and a disconnect ends the whole PID namespace`,
    async () => {
      const d = await startDaemon({ as });
      const t = mountTree();
      const policy = mountPolicy(t, `proc = ["/proc"]`);
      const via = (argv: string[]) =>
        landlockd(
          ["run", "--socket", d.socket, "--policy-file", policy, "--", ...argv],
          { as },
        );
      const r = await via([
        `${t}/bin/probe`,
        ...[
          "create",
          `${t}/tmp/new`,
          "write",
          `${t}/ro/f`,
          "read",
          `${t}/ro/f`,
        ],
      ]);
      assertProbe(r, {
        [`create ${t}/tmp/new`]: "OK",
        [`write ${t}/ro/f`]: "EROFS",
        [`read ${t}/ro/f`]: "OK",
      });
      assert.deepEqual([...Deno.readDirSync(`${t}/tmp`)], []);
      const pid = await via(["sh", "-c", "echo $$"]);
      assert.equal(pid.stdout, "2\n", pid.stderr);

      // A background process inside the namespace goes when the client does.
      const marker = `${t}/dst/still-running`;
      const client = landlockdCommand(
        [
          "run",
          "--socket",
          d.socket,
          "--policy-file",
          policy,
          "--",
          "sh",
          "-c",
          `(while :; do touch ${marker}; sleep 0.1; done) & sleep 30`,
        ],
        { as },
      ).spawn();
      const start = await d.waitFor((e) =>
        e.event === "run.start" && e.argv0 === "sh"
      );
      for (let i = 0; i < 100; i++) {
        try {
          Deno.statSync(`${t}/src/still-running`);
          break;
        } catch {
          await new Promise((r) => setTimeout(r, 50));
        }
      }
      client.kill("SIGKILL");
      await client.output();
      assert.ok(await gone(start.pid as number));
      Deno.removeSync(`${t}/src/still-running`);
      await new Promise((r) => setTimeout(r, 400));
      assert.throws(
        () => Deno.statSync(`${t}/src/still-running`),
        Deno.errors.NotFound,
        "a process of the killed sandbox is still writing",
      );
      await landlockd(["stop", "--socket", d.socket], { as });
      await d.exited();
    },
  );
}

testAtAbi(
  6,
  "the signal scope the daemon adds",
  "daemon: its sandboxes cannot signal it, and SIGUSR1 (Deno's inspector) is ignored",
  async () => {
    const d = await startDaemon();
    // ci-default asks for no signal scope: a direct run may signal its parent;
    // through the daemon, Landlock's signal scope is added (ABI 6+).
    const direct = await sandboxed(CI_DEFAULT, [PROBE, "kill-parent"]);
    assertProbe(direct, { "kill-parent 0": "OK" });
    const via = await runViaDaemon(d, [PROBE, "kill-parent"]);
    assertProbe(via, { "kill-parent 0": "EPERM" });

    // Deno opens a V8 inspector on 127.0.0.1:9229 on SIGUSR1; not here.
    const status = Deno.readTextFileSync(`/proc/${d.pid}/status`);
    const ignored = BigInt(`0x${/^SigIgn:\s*(\w+)$/m.exec(status)![1]}`);
    assert.equal((ignored >> 9n) & 1n, 1n, "SIGUSR1 is not ignored");
    Deno.kill(d.pid, "SIGUSR1");
    await new Promise((r) => setTimeout(r, 700));
    await assert.rejects(
      Deno.connect({ hostname: "127.0.0.1", port: 9229 }),
      Deno.errors.ConnectionRefused,
    );
    assert.ok(alive(d.pid));
    d.proc.kill("SIGTERM");
    const { code, stderr } = await d.exited();
    assert.equal(code, 0);
    assert.doesNotMatch(stderr, /Debugger listening/);
  },
);
