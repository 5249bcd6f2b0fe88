/**
 * Attack: `run --explain` (and `learn --base`) as a way out of seccomp's
 * own rules. Observed runs compile their filter separately (the observer
 * adds notifications and the command's quiet exec); that filter had left
 * out `[net] udp`/`raw`, `[seccomp] memfd_exec` and the listener hand-off
 * check, so under --explain udp_raw_sockets.c opened UDP, raw and packet
 * sockets and memfd_exec.c created an executable memfd. An observed run
 * must be refused exactly what an unobserved one is: same errnos.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, probeResults, USERS } from "../helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";
import { DENY_NO_RAW_OUTCOMES, udpPolicy } from "./udp_helpers.ts";

const SOCKETS = await compileAttack("udp_raw_sockets");
const MEMFD = await compileAttack("memfd_exec");

/** `run`, `run --explain` and `learn --base` of the same policy and argv. */
async function threeWays(as: string, policy: string, argv: string[]) {
  const out: Record<string, Record<string, string>> = {};
  for (
    const [how, args] of [
      ["run", ["run", "--policy-file", policy, "--"]],
      ["run --explain", ["run", "--explain", "--policy-file", policy, "--"]],
      ["learn --base", ["learn", "--base", policy, "--"]],
    ] as const
  ) {
    const r = await landlockd([...args, ...argv], { as: as as never });
    assert.ok(r.code === 0, `${how}: ${r.code} ${r.stderr}`);
    // learn prints the policy on stdout too: only the probe's lines count.
    out[how] = probeResults(
      r.stdout.split("\n").filter((l) =>
        !/^(#|\[|version|extends| {2}|$)/.test(l) && !l.includes(" = ")
      ).join("\n"),
    );
  }
  return out;
}

for (const as of USERS) {
  Deno.test(
    `[${as}] under --explain and learn --base, udp = "deny" and raw = false still refuse UDP, ping, raw and packet sockets with EPERM`,
    async () => {
      const out = await threeWays(
        as,
        udpPolicy("deny", "raw = false"),
        [SOCKETS],
      );
      const expected = DENY_NO_RAW_OUTCOMES;
      for (const [how, got] of Object.entries(out)) {
        assert.deepEqual(got, expected, how);
      }
    },
  );

  Deno.test(
    `[${as}] under --explain and learn --base, memfd_exec = false still refuses memfd_create without MFD_NOEXEC_SEAL (EPERM)`,
    async () => {
      const dir = MEMFD.replace(/\/[^/]*$/, "");
      const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute"]
  [[fs_layer.rule]]
  path = "${dir}"
  allowed_access = ["execute"]
[seccomp]
memfd_exec = false
`);
      const out = await threeWays(as, policy, [
        MEMFD,
        "plain",
        "/usr/bin/echo",
      ]);
      for (const [how, got] of Object.entries(out)) {
        assert.deepEqual(got, { memfd_create: "EPERM" }, how);
      }
    },
  );
}
