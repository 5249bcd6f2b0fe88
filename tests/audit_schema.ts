/**
 * Checks audit events against docs/audit-schema.md.
 *
 * @module
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

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
    const heading = /^## (?:`([a-z._*]+)`|Fields on every event)/.exec(line);
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
  const own = docs.get(String(event.event)) ??
    docs.get(`${String(event.event).split(".")[0]}.*`);
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
