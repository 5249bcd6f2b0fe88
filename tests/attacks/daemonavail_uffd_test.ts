/**
 * A sandbox that stalls its broker on purpose (issue 10, item 8): it
 * registers the page holding a path with userfaultfd and passes that path
 * to open(2), so the broker's read of it waits for a fault nobody
 * resolves (daemonavail_uffd_stall.c). Before the fix, two such runs held
 * both daemon broker threads until they gave up, delaying every other
 * brokered run; a direct run hung as long. Now the watchdog kills the
 * staller after REMOTE_READ_DEADLINE_MS, and the daemon gives new runs to
 * threads that are not stuck: another run's brokered opens complete
 * within 100 ms meanwhile (daemonavail_uffd_victim.c).
 *
 * A kernel-mode userfaultfd needs CAP_SYS_PTRACE (or
 * vm.unprivileged_userfaultfd = 1, or /dev/userfaultfd): as root the
 * attack works; as nobody the kernel refuses it here.
 */

import assert from "node:assert/strict";
import { startDaemon, type TestDaemon } from "../daemon_helpers.ts";
import {
  type As,
  landlockdCommand,
  policyFile,
  ROOT,
  tempDir,
  USERS,
} from "../helpers.ts";
import { REMOTE_READ_DEADLINE_MS } from "../../syscalls/seccomp_notify.ts";

/** The attack programs, compiled where nobody can run them. */
function build(): { stall: string; victim: string; secret: string } {
  const dir = tempDir("uffd-");
  const cc = (src: string, out: string, flags: string[]) => {
    const r = new Deno.Command("gcc", {
      args: ["-O2", ...flags, "-o", `${dir}/${out}`, src],
    }).outputSync();
    assert.ok(r.success, new TextDecoder().decode(r.stderr));
  };
  cc(`${ROOT}tests/attacks/daemonavail_uffd_stall.c`, "stall", ["-pthread"]);
  // Static, so its first brokered open is in main, where it is timed.
  cc(`${ROOT}tests/attacks/daemonavail_uffd_victim.c`, "victim", ["-static"]);
  Deno.writeTextFileSync(`${dir}/secret`, "declared\n");
  Deno.chmodSync(`${dir}/secret`, 0o644);
  return {
    stall: `${dir}/stall`,
    victim: `${dir}/victim`,
    secret: `${dir}/secret`,
  };
}

/**
 * The policy both runs use: read and execute everywhere, and a broker
 * that declares one file. Any policy with a broker will do: the broker
 * reads the path of every open-family call.
 *
 * NOTE for the merge: where the baseline denies userfaultfd, this policy
 * must add `[seccomp] allow = ["userfaultfd"]` (the attack needs it).
 */
function stallPolicy(secret: string): string {
  return policyFile(`version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/dev/null"
  allowed_access = ["write_file"]

[broker]
allow_read = ["${secret}"]

[seccomp]
allow = ["userfaultfd"] # the baseline refuses it; this attack needs it
`);
}

/** A run (direct, or through `socket`) whose output is read line by line. */
function start(
  as: As,
  policy: string,
  argv: string[],
  socket?: string,
): {
  firstLine: Promise<string>;
  done: Promise<{ code: number; stdout: string; stderr: string }>;
} {
  const child = landlockdCommand([
    "run",
    ...(socket ? ["--socket", socket] : []),
    "--policy-file",
    policy,
    "--",
    ...argv,
  ], { as }).spawn();
  let stdout = "";
  let line!: (l: string) => void;
  const firstLine = new Promise<string>((r) => line = r);
  const read = (async () => {
    for await (
      const chunk of child.stdout.pipeThrough(new TextDecoderStream())
    ) {
      stdout += chunk;
      if (stdout.includes("\n")) line(stdout.split("\n")[0]);
    }
    line(stdout);
  })();
  const done = (async () => {
    const stderr = await new Response(child.stderr).text();
    const { code } = await child.status;
    await read;
    return { code, stdout, stderr };
  })();
  return { firstLine, done };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

Deno.test({
  name:
    "[root daemon] attack: sandboxes stalling broker threads with userfaultfd are killed; another run's brokered opens complete within 100 ms meanwhile",
  // vm.unprivileged_userfaultfd = 0 here: only root can stall a broker.
  ignore: Deno.uid() !== 0,
}, async () => {
  const { stall, victim, secret } = build();
  const policy = stallPolicy(secret);
  const d: TestDaemon = await startDaemon();
  // More stallers than the daemon has broker threads (at most 4).
  const stallers = Array.from(
    { length: 4 },
    () => start("root", policy, [stall, "30"], d.socket),
  );
  for (const s of stallers) assert.equal(await s.firstLine, "stalling");
  await sleep(200); // their opens are now in the brokers' hands
  const v = await start("root", policy, [victim, secret, "50"], d.socket).done;
  assert.equal(v.code, 0, v.stderr);
  const [, first, , max, , median] = v.stdout.trim().split(" ");
  // Typically ~50 µs each. The median bounds them as the issue asks; the
  // slowest stays under the 1 s deadline, so none waited on a stalled
  // broker thread (a loaded 2-CPU machine can delay any one open by tens
  // of ms).
  assert.ok(
    Number(median) < 100_000,
    `brokered opens took a median ${median} µs (first ${first} µs, max ${max} µs)`,
  );
  assert.ok(
    Number(max) < REMOTE_READ_DEADLINE_MS * 1000,
    `a brokered open took ${max} µs: it waited on a stalled broker thread`,
  );
  // Each staller is killed after the deadline, long before it gives up
  // by itself (30 s): SIGKILL, 128 + 9.
  const started = performance.now();
  for (const s of stallers) {
    const r = await s.done;
    assert.equal(r.code, 137, r.stderr);
  }
  assert.ok(performance.now() - started < 10_000);
  d.proc.kill("SIGTERM");
  assert.equal((await d.exited()).code, 0);
});

for (const as of USERS) {
  Deno.test(`[${as}] attack: a direct run whose sandbox stalls the broker with userfaultfd ends after the deadline with a broker error`, async () => {
    const { stall, secret } = build();
    const started = performance.now();
    const r = await start(as, stallPolicy(secret), [stall, "30"]).done;
    if (as === "root") {
      assert.equal(r.stdout, "stalling\n");
      assert.equal(r.code, 125, r.stderr);
      assert.match(
        r.stderr,
        new RegExp(
          `broker failed, sandbox killed: reading its memory waited longer than ${REMOTE_READ_DEADLINE_MS} ms`,
        ),
      );
      assert.ok(performance.now() - started < 10_000);
    } else {
      // vm.unprivileged_userfaultfd = 0: no userfaultfd that stalls the
      // kernel's (or the broker's) reads, EPERM.
      const sysctl = Deno.readTextFileSync(
        "/proc/sys/vm/unprivileged_userfaultfd",
      ).trim();
      if (sysctl === "0") {
        assert.equal(r.stdout, "no-userfaultfd 1\n");
        assert.equal(r.code, 2);
      } else {
        assert.equal(r.code, 125, r.stderr);
      }
    }
  });
}
