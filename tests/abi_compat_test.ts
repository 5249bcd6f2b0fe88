/**
 * LANDLOCKD_ABI_MAX caps the detected ABI, so strict and best-effort
 * behaviour for ABI 0–6 is proven on this kernel, with real enforcement.
 */
import assert from "node:assert/strict";
import {
  freePort,
  fsTree,
  landlockd,
  policyFile,
  probeResults,
  sandboxed,
} from "./helpers.ts";

function policy(dir: string, compat: string, port: number): string {
  return policyFile(`version = 1
compat = "${compat}"

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "truncate", "ioctl_dev"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["read_file"]

[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = ${port}
  allowed_access = ["bind_tcp"]

[scope]
signal = true
`);
}

/** The first right each ABI below 6 lacks, in the order the policy names them. */
const FIRST_MISSING: Record<number, string> = {
  0: '"read_file" needs Landlock ABI 1 (Linux 5.13)',
  1: '"truncate" needs Landlock ABI 3 (Linux 6.2)',
  2: '"truncate" needs Landlock ABI 3 (Linux 6.2)',
  3: '"ioctl_dev" needs Landlock ABI 5 (Linux 6.10)',
  4: '"ioctl_dev" needs Landlock ABI 5 (Linux 6.10)',
  5: '"signal" needs Landlock ABI 6 (Linux 6.12)',
};

for (let abi = 0; abi <= 6; abi++) {
  Deno.test(`ABI capped at ${abi}: strict ${abi < 6 ? "refuses and names what is missing" : "runs"}`, async () => {
    const dir = fsTree();
    const r = await landlockd(
      [
        "run",
        "--policy-file",
        policy(dir, "strict", freePort()),
        "--",
        `${dir}/bin/probe`,
        "print",
        "ran",
      ],
      { env: { LANDLOCKD_ABI_MAX: String(abi) } },
    );
    if (abi < 6) {
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stdout, "");
      assert.match(
        r.stderr,
        new RegExp(FIRST_MISSING[abi].replace(/[().]/g, "\\$&")),
      );
      assert.match(r.stderr, new RegExp(`this kernel provides ABI ${abi}`));
      assert.match(r.stderr, /compat = "best_effort"/);
    } else {
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "ran\n");
    }
  });

  Deno.test(`ABI capped at ${abi}: best_effort drops exactly what is missing and enforces the rest`, async () => {
    const dir = fsTree();
    const [allowed, other] = [freePort(), freePort()];
    const file = policy(dir, "best_effort", allowed);
    const env = { LANDLOCKD_ABI_MAX: String(abi) };
    const r = await sandboxed(file, [
      `${dir}/bin/probe`,
      "read",
      `${dir}/denied/file`,
      "bind",
      String(other),
    ], { env });
    assert.equal(r.code, 0, r.stderr);
    const res = probeResults(r.stdout);
    assert.equal(res[`read ${dir}/denied/file`], abi >= 1 ? "EACCES" : "OK");
    assert.equal(res[`bind ${other}`], abi >= 4 ? "EACCES" : "OK");

    const plan = JSON.parse(
      (await landlockd(["run", "--policy-file", file, "--dry-run"], { env }))
        .stdout,
    );
    const status = abi === 0
      ? "not_enforced"
      : abi < 6
      ? "partially_enforced"
      : "fully_enforced";
    assert.equal(plan.landlock.status, status);
    assert.equal(plan.landlock.abi, abi);
    if (abi < 6) {
      assert.match(r.stderr, /warning: Landlock is (NOT|partially) enforced/);
      for (const d of plan.landlock.dropped) {
        assert.ok(d.needs_abi > abi);
        assert.ok(
          r.stderr.includes(`${d.key} ${d.right} (ABI ${d.needs_abi})`),
          r.stderr,
        );
      }
    } else {
      assert.equal(r.stderr, "");
      assert.deepEqual(plan.landlock.dropped, []);
    }
  });
}

Deno.test("LANDLOCKD_ABI_MAX must be a whole number", async () => {
  const r = await landlockd(["run", "--policy", "ci-default", "--", "true"], {
    env: { LANDLOCKD_ABI_MAX: "six" },
  });
  assert.equal(r.code, 125);
  assert.match(r.stderr, /LANDLOCKD_ABI_MAX must be a whole number, got "six"/);
});
