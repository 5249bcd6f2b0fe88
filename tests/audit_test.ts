/**
 * Audit events match docs/audit-schema.md: every emitted field is
 * documented with its type, every required field is present.
 */
import assert from "node:assert/strict";
import { assertDocumented } from "./audit_schema.ts";
import {
  DENO_RUN,
  landlockd,
  policyFile,
  PROBE,
  RUN_ROOT,
  sandboxed,
  tempDir,
} from "./helpers.ts";

const POLICY = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["make_block"]
`);

Deno.test("run.start and run.exit match the documentation", async () => {
  const audit = `${tempDir()}/audit.jsonl`;
  const r = await landlockd(
    [
      "run",
      "--policy-file",
      POLICY,
      "--audit-file",
      audit,
      "--",
      PROBE,
      "exit",
      "4",
    ],
    { env: { LANDLOCKD_JOB_ID: "job-42" } },
  );
  assert.equal(r.code, 4);
  const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(events.map((e) => e.event), ["run.start", "run.exit"]);
  events.forEach(assertDocumented);
  assert.equal(events[0].job_id, "job-42");
  assert.equal(events[0].argv0, PROBE);
  assert.equal(events[0].status, "fully_enforced");
  assert.equal(events[1].exit_code, 4);
  assert.equal(events[0].pid, events[1].pid);
  assert.equal((Deno.statSync(audit).mode ?? 0) & 0o777, 0o600);
});

Deno.test("denial events (run --explain) match the documentation", async () => {
  const dir = tempDir();
  const audit = `${dir}/audit.jsonl`;
  const policy = policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["make_reg"]
`);
  const r = await landlockd([
    "run",
    "--explain",
    "--policy-file",
    policy,
    "--audit-file",
    audit,
    "--",
    PROBE,
    "create",
    `${dir}/new`,
  ]);
  assert.equal(r.code, 0, r.stderr);
  const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(events.map((e) => e.event), [
    "run.start",
    "run.exit",
    "denial",
  ]);
  events.forEach(assertDocumented);
  assert.equal(events[2].path, `${dir}/new`);
  assert.deepEqual(events[2].missing, ["make_reg"]);
  assert.equal(events[2].origin, `${policy}:2`);
});

Deno.test("run.signal matches the documentation", async () => {
  const audit = `${tempDir()}/audit.jsonl`;
  const r = await landlockd([
    "run",
    "--policy-file",
    POLICY,
    "--audit-file",
    audit,
    "--",
    PROBE,
    "raise",
    "15",
  ]);
  assert.equal(r.code, 143);
  const events = Deno.readTextFileSync(audit).trim().split("\n").map((l) =>
    JSON.parse(l)
  );
  assert.deepEqual(events.map((e) => e.event), ["run.start", "run.signal"]);
  events.forEach(assertDocumented);
  assert.equal(events[1].signal, "SIGTERM");
});

Deno.test("--audit-fd writes events to an inherited descriptor, which the child does not get", async () => {
  const dir = tempDir();
  // sh opens fd 3 on the file, then runs landlockd with --audit-fd 3.
  const cmd = new Deno.Command("sh", {
    args: [
      "-c",
      `exec 3>>"${dir}/audit.jsonl"; exec "$@"`,
      "sh",
      ...DENO_RUN,
      `${RUN_ROOT}main.ts`,
      "run",
      "--policy-file",
      POLICY,
      "--audit-fd",
      "3",
      "--",
      PROBE,
      "fds",
    ],
    stdout: "piped",
  });
  const out = await cmd.output();
  assert.equal(new TextDecoder().decode(out.stdout), "fds: 0 1 2\n");
  const events = Deno.readTextFileSync(`${dir}/audit.jsonl`).trim().split("\n")
    .map((l) => JSON.parse(l));
  assert.deepEqual(events.map((e) => e.event), ["run.start", "run.exit"]);
  events.forEach(assertDocumented);
});

Deno.test("audit events are off by default", async () => {
  const r = await sandboxed(POLICY, [PROBE, "print", "x"]);
  assert.equal(r.stdout, "x\n");
  assert.equal(r.stderr, "");
});

Deno.test("an audit file that cannot be opened is one clear error, exit 1", async () => {
  const r = await landlockd([
    "run",
    "--policy-file",
    POLICY,
    "--audit-file",
    "/nonexistent/dir/audit.jsonl",
    "--",
    PROBE,
  ]);
  assert.equal(r.code, 125);
  assert.equal(
    r.stderr,
    'landlockd: Cannot open audit file "/nonexistent/dir/audit.jsonl": No such file or directory (ENOENT)\n',
  );
});
