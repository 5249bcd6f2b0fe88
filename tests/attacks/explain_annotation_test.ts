/**
 * Attack: a denied path that smuggles a workflow command (a newline, `::`
 * and `%`) into `run --explain`'s GitHub annotations
 * (explain_annotation_inject.sh). Each denial must stay one `::error` line,
 * with the name's newline and `%` escaped; as root and as nobody, direct
 * and through the daemon.
 */
import assert from "node:assert/strict";
import { fsTree, landlockd, policyFile, USERS } from "../helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";

const HERE = new URL(".", import.meta.url).pathname;

function setup() {
  const d = fsTree();
  const policy = policyFile(`version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg"]

  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
`);
  return { d, policy };
}

/** The annotation lines of stdout: exactly one, the escaped denial. */
function checkAnnotations(stdout: string, d: string, policy: string) {
  const lines = stdout.split("\n").filter((l) => l.startsWith("::"));
  assert.equal(lines.length, 1, stdout);
  const escaped =
    `${d}/denied/x%0A::error title=forged::all good %250A::warning::%2525`;
  assert.equal(
    lines[0],
    `::error file=${
      policy.replaceAll(":", "%3A").replaceAll(",", "%2C")
    },line=3,title=landlockd denied create::${escaped} (openat, once): refused by fs_layer[0] at ${policy}:3: missing make_reg, write_file%0Ato allow it, add:%0A[[fs_layer.rule]]%0Apath = "${d}/denied"%0Aallowed_access = ["make_reg", "write_file"]`,
  );
  // Nothing else in the output starts a workflow command.
  assert.doesNotMatch(stdout, /^::(error title=forged|warning)/m);
}

/** `--policy-file POLICY -- inject.sh probe DENIED`: the run's tail. */
function injectArgs(d: string, policy: string): string[] {
  return [
    "--policy-file",
    policy,
    "--",
    `${HERE}explain_annotation_inject.sh`,
    `${d}/bin/probe`,
    `${d}/denied`,
  ];
}

for (const as of USERS) {
  Deno.test(`[${as}] a denied path cannot inject a workflow command into --explain's annotations (direct run)`, async () => {
    const { d, policy } = setup();
    const r = await landlockd(
      ["run", "--explain", ...injectArgs(d, policy)],
      { as, env: { GITHUB_ACTIONS: "true" } },
    );
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /%25: EACCES$/m);
    checkAnnotations(r.stdout, d, policy);
    // Outside GitHub Actions: the report only, no annotation.
    const plain = await landlockd(
      ["run", "--explain", ...injectArgs(d, policy)],
      { as, env: { GITHUB_ACTIONS: "" } },
    );
    assert.equal(plain.code, 0, plain.stderr);
    assert.doesNotMatch(plain.stdout, /^::/m);
    assert.match(plain.stderr, /--explain: 1 distinct access denied/);
  });
}

Deno.test("a denied path cannot inject a workflow command into --explain's annotations (run --socket, root and nobody)", async () => {
  const { d, policy } = setup();
  const daemon = await startDaemon({ args: SERVE_FOR_USERS });
  try {
    for (const as of USERS) {
      const r = await landlockd([
        "run",
        "--socket",
        daemon.socket,
        "--explain",
        "--format",
        "github",
        ...injectArgs(d, policy),
      ], { as });
      assert.equal(r.code, 0, r.stderr);
      checkAnnotations(r.stdout, d, policy);
    }
  } finally {
    daemon.proc.kill("SIGTERM");
    await daemon.exited();
  }
});
