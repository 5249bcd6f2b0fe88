/**
 * Attack: Deno installs its SIGUSR1 handler (which opens a V8 inspector on
 * 127.0.0.1:9229) about 500 ms after start, whenever its event loop next
 * runs. A direct run whose start takes longer than that, with an `await`
 * after landlockd disarmed the signal, is armed again before the command
 * starts; a command that may signal landlockd (no signal scope: ci-default)
 * then opens the inspector in landlockd, outside the sandbox. The start is
 * made slow with the `beforeSpawn` hook, a 900 ms wait just before the
 * spawn. landlockd must disarm after its last `await`, and the command
 * must keep SIGUSR1's default action (it dies of its own SIGUSR1).
 */

import assert from "node:assert/strict";
import { ROOT, tempDir } from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";

testAtAbi(
  3,
  "truncate (ci-default)",
  "a direct run whose start passes Deno's 500 ms SIGUSR1 arming leaves no inspector to the command, which dies of its own SIGUSR1",
  async () => {
    const script = `${tempDir()}/slow_start.ts`;
    Deno.writeTextFileSync(
      script,
      `import { planSandbox, runPlanned } from "${ROOT}sandbox/run.ts";
import { loadPolicy } from "${ROOT}policy/load.ts";
import { readNamedPolicy } from "${ROOT}policy/source.ts";
import { handled, SIGUSR1 } from "${ROOT}syscalls/signals.ts";
const armedAtStart = handled(SIGUSR1);
const plan = await planSandbox(await loadPolicy(readNamedPolicy("ci-default")));
let armedBeforeSpawn = false;
const { exitCode } = await runPlanned(plan, {
  argv: ["sh", "-c", "grep SigCgt /proc/$PPID/status; kill -USR1 $PPID; sleep 1; kill -USR1 $$; echo survived"],
}, { emit() {}, close() {} }, "ci-default", {
  beforeSpawn: async () => {
    await new Promise((r) => setTimeout(r, 900)); // past Deno's 500 ms
    armedBeforeSpawn = handled(SIGUSR1);
  },
});
console.log(JSON.stringify({ armedAtStart, armedBeforeSpawn, exitCode }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "-A", "--config", `${ROOT}deno.json`, script],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.doesNotMatch(stderr, /Debugger listening/);
    assert.equal(out.code, 0, stderr);
    const [parentCgt, report] = stdout.trim().split("\n");
    // The start really crossed the arming: Deno had its handler before the
    // spawn, and landlockd took it away.
    assert.deepEqual(JSON.parse(report), {
      armedAtStart: false,
      armedBeforeSpawn: true,
      exitCode: 128 + 10,
    });
    const bit10 = (BigInt(`0x${/SigCgt:\s*(\w+)/.exec(parentCgt)![1]}`) >> 9n) &
      1n;
    assert.equal(bit10, 0n, "landlockd handles SIGUSR1 while the command runs");
  },
);
