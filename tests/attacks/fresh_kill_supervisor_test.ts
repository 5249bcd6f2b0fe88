/**
 * Losing the signal scope widens no access. A broker (or the daemon) implies
 * Landlock's signal scope, which kernels before ABI 6 lack; landlockd then
 * runs anyway (best effort). This proves that is safe at ABI 5: a command
 * that kills its supervisor ends its own sandbox (PR_SET_PDEATHSIG), and a
 * child it forked first gets no brokered call through afterwards (no
 * listener: ENOSYS) and stays under Landlock (EACCES).
 * Attack program: fresh_kill_supervisor.sh.
 */
import assert from "node:assert/strict";
import {
  chownTree,
  gone,
  landlockd,
  policyFile,
  PROBE,
  probeResults,
  tempDir,
  USERS,
} from "../helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";
import { landlockSupport } from "../../sandbox/kernel.ts";

const ATTACK = new URL("./fresh_kill_supervisor.sh", import.meta.url).pathname;

/** bin/probe, bin/attack.sh, resolv (allow_read), scratch/ (broker), outside/. */
function tree(): string {
  const d = tempDir();
  for (const sub of ["bin", "scratch", "outside"]) {
    Deno.mkdirSync(`${d}/${sub}`);
  }
  Deno.writeTextFileSync(`${d}/resolv`, "nameserver 192.0.2.1\n");
  Deno.copyFileSync(PROBE, `${d}/bin/probe`);
  Deno.copyFileSync(ATTACK, `${d}/bin/attack.sh`);
  Deno.chmodSync(`${d}/bin/probe`, 0o755);
  Deno.chmodSync(`${d}/bin/attack.sh`, 0o755);
  chownTree(d);
  return d;
}

/** A strict policy with a broker and no [scope]: the signal scope is implied. */
function policy(d: string): string {
  return policyFile(`version = 1
compat = "strict"
[[fs_layer]]
handled_access_fs = [
  "execute", "write_file", "read_file", "read_dir", "remove_dir", "remove_file",
  "make_dir", "make_reg", "make_sym", "refer", "truncate",
]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]

[broker]
allow_read = ["${d}/resolv"]
scratch = ["${d}/scratch"]
`);
}

function assertSafe(d: string, stdout: string): void {
  // The attack ran: the broker served it before the kill (the caller checks
  // that the supervisor died of SIGKILL).
  assert.ok(Deno.statSync(`${d}/scratch/before`).isFile, stdout);
  // The command itself died with its supervisor.
  assert.doesNotMatch(stdout, /command survived/);
  // Its forked child: no broker any more, Landlock still there.
  assert.deepEqual(probeResults(stdout.slice(stdout.indexOf("survivor"))), {
    [`create ${d}/scratch/after`]: "ENOSYS",
    [`read ${d}/resolv`]: "ENOSYS",
    [`create ${d}/outside/x`]: "ENOSYS",
  });
  assert.throws(() => Deno.statSync(`${d}/scratch/after`));
}

for (const as of USERS) {
  Deno.test(`[${as}] ABI 5, direct run: a command that kills landlockd ends its sandbox; no brokered call succeeds after`, async () => {
    const d = tree();
    const r = await landlockd(
      ["run", "--policy-file", policy(d), "--", `${d}/bin/attack.sh`, d],
      { as, env: { LANDLOCKD_ABI_MAX: "5" } },
    );
    assert.equal(r.code, 137, r.stderr); // landlockd died of SIGKILL
    assertSafe(d, r.stdout);
    assert.equal(r.stderr, "");
  });
}

Deno.test("[root] ABI 5, daemon: a command that kills the daemon (its broker's process) ends its sandbox; no brokered call succeeds after", async () => {
  const d = tree();
  const daemon = await startDaemon({ env: { LANDLOCKD_ABI_MAX: "5" } });
  const r = await landlockd([
    "run",
    "--socket",
    daemon.socket,
    "--policy-file",
    policy(d),
    "--",
    `${d}/bin/attack.sh`,
    d,
  ]);
  const { code } = await daemon.exited();
  assert.equal(code, 137, "the daemon died of SIGKILL");
  assert.equal(r.code, 125, r.stderr); // the client lost its daemon
  const start = daemon.events().find((e) => e.event === "run.start");
  assert.ok(start, JSON.stringify(daemon.events()));
  assert.deepEqual(start.implied, [{
    scope: "signal",
    for: "daemon",
    enforced: false,
    needs_abi: 6,
    note: start.implied && (start.implied as { note: string }[])[0].note,
  }]);
  assert.equal(await gone(start.pid as number), true);
  assertSafe(d, r.stdout);
});

const abi = landlockSupport().abi;
Deno.test({
  name: `[root] ABI 6+: the implied signal scope refuses the kill${
    abi < 6 ? ` (ignored: needs Landlock ABI 6, this run has ${abi})` : ""
  }`,
  ignore: abi < 6,
  fn: async () => {
    const d = tree();
    const r = await landlockd(
      ["run", "--policy-file", policy(d), "--", `${d}/bin/attack.sh`, d],
    );
    assert.match(r.stdout, /^kill-supervisor 1$/m);
    assert.match(r.stdout, /command survived/);
    assert.equal(r.code, 0, r.stderr);
  },
});
