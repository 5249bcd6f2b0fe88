/**
 * Deno (2.9.2+) opens a V8 inspector on 127.0.0.1:9229 when it gets SIGUSR1,
 * once it has been running 500 ms. A sandboxed command must not be able to
 * use that on landlockd: a direct run started after the handler is armed
 * ignores SIGUSR1 itself, while its command keeps the default disposition.
 * (The daemon's side is in daemon_test.ts.)
 */

import assert from "node:assert/strict";
import { ROOT, tempDir } from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";

testAtAbi(
  3,
  "truncate",
  "a direct run that starts after Deno armed its SIGUSR1 inspector disarms it; the command keeps SIGUSR1",
  async () => {
    const script = `${tempDir()}/late_run.ts`;
    Deno.writeTextFileSync(
      script,
      `import { planSandbox, runPlanned } from "${ROOT}sandbox/run.ts";
import { loadPolicy } from "${ROOT}policy/load.ts";
import { readNamedPolicy } from "${ROOT}policy/source.ts";
import { handled, SIGUSR1 } from "${ROOT}syscalls/signals.ts";
await new Promise((r) => setTimeout(r, 900)); // past Deno's 500 ms
const armed = handled(SIGUSR1);
const plan = await planSandbox(await loadPolicy(readNamedPolicy("ci-default")));
const { exitCode } = await runPlanned(plan, {
  argv: ["sh", "-c", "grep SigIgn /proc/self/status; grep SigCgt /proc/$PPID/status; kill -USR1 $PPID; sleep 1; echo alive"],
}, { emit() {}, close() {} }, "ci-default");
console.log(JSON.stringify({ armed, exitCode }));
`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      // The config resolves zod and smol-toml: every run validates its policy.
      args: ["run", "-A", "--config", `${ROOT}deno.json`, script],
      cwd: ROOT,
      stdout: "piped",
      stderr: "piped",
    }).output();
    const stdout = new TextDecoder().decode(out.stdout);
    const stderr = new TextDecoder().decode(out.stderr);
    assert.equal(out.code, 0, stderr);
    const [sigIgn, parentCgt, alive, report] = stdout.trim().split("\n");
    assert.deepEqual(JSON.parse(report), { armed: true, exitCode: 0 });
    assert.equal(alive, "alive");
    const bit10 = (line: string) =>
      (BigInt(`0x${/Sig\w+:\s*(\w+)/.exec(line)![1]}`) >> 9n) & 1n;
    // landlockd no longer handles SIGUSR1 while the command runs...
    assert.equal(bit10(parentCgt), 0n, "landlockd still handles SIGUSR1");
    // ...and the command does not inherit it ignored.
    assert.equal(bit10(sigIgn), 0n);
    assert.doesNotMatch(stderr, /Debugger listening/);
  },
);
