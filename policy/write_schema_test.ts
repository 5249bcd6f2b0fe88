import assert from "node:assert/strict";
import { policyJsonSchema } from "./write_schema.ts";

Deno.test("schema/policy.schema.json is what deno task schema writes", () => {
  const committed = Deno.readTextFileSync(
    new URL("../schema/policy.schema.json", import.meta.url),
  );
  assert.equal(committed, policyJsonSchema(), "run: deno task schema");
});

Deno.test("the JSON Schema lists every filesystem right", () => {
  const text = policyJsonSchema();
  for (const right of ["execute", "refer", "truncate", "ioctl_dev"]) {
    assert.ok(text.includes(`"${right}"`));
  }
});
