/**
 * Audit events match docs/audit-schema.md: every emitted field is
 * documented with its type, every required field is present.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, PROBE, ROOT, tempDir } from "./helpers.ts";

interface FieldDoc {
  type: string;
  required: boolean;
}

/** Parses the field tables of docs/audit-schema.md by heading. */
export function documentedEvents(): Map<string, Map<string, FieldDoc>> {
  const text = Deno.readTextFileSync(`${ROOT}docs/audit-schema.md`);
  const events = new Map<string, Map<string, FieldDoc>>();
  let current: Map<string, FieldDoc> | undefined;
  for (const line of text.split("\n")) {
    const heading = /^## (?:`([a-z._]+)`|Fields on every event)/.exec(line);
    if (heading) {
      current = new Map();
      events.set(heading[1] ?? "*", current);
      continue;
    }
    const row = /^\|\s*`([a-z0-9_]+)`\s*\|\s*(\w+)\s*\|\s*(yes|no)\s*\|/.exec(
      line,
    );
    if (row && current) {
      current.set(row[1], { type: row[2], required: row[3] === "yes" });
    }
  }
  return events;
}

function typeOf(v: unknown): string {
  return Array.isArray(v) ? "array" : v === null ? "null" : typeof v;
}

/** Asserts one emitted event against the documentation. */
export function assertDocumented(event: Record<string, unknown>): void {
  const docs = documentedEvents();
  const common = docs.get("*")!;
  const own = docs.get(String(event.event));
  assert.ok(own, `event ${event.event} is not documented`);
  const fields = new Map([...common, ...own]);
  for (const [name, value] of Object.entries(event)) {
    const doc = fields.get(name);
    assert.ok(doc, `${event.event}: field "${name}" is not documented`);
    assert.equal(typeOf(value), doc.type, `${event.event}.${name}`);
  }
  for (const [name, doc] of fields) {
    if (doc.required) {
      assert.ok(name in event, `${event.event}: missing ${name}`);
    }
  }
  assert.match(
    String(event.timestamp),
    /^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/,
  );
}

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
      Deno.execPath(),
      "run",
      "-A",
      `${ROOT}main.ts`,
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
  const r = await landlockd([
    "run",
    "--policy-file",
    POLICY,
    "--",
    PROBE,
    "print",
    "x",
  ]);
  assert.equal(r.stdout, "x\n");
  assert.equal(r.stderr, "");
});
