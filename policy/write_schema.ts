/**
 * `deno task schema`: writes the policy's JSON Schema, generated from the
 * zod schema, to schema/policy.schema.json. Editors with a TOML language
 * server (e.g. Taplo, Even Better TOML) use it for completion and checks.
 * From that JSON Schema it also writes policy/validator.generated.ts, the
 * validator `run` uses without loading zod (policy/gen_validator.ts).
 *
 * @module
 */

import { z } from "zod";
import { policySchema } from "./schema.ts";
import { generateValidator } from "./gen_validator.ts";

/** The JSON Schema document, as text. */
export function policyJsonSchema(): string {
  const schema = z.toJSONSchema(policySchema, { io: "input" });
  return JSON.stringify(
    {
      ...schema,
      title: "landlockd policy, format version 1",
    },
    null,
    2,
  ) + "\n";
}

if (import.meta.main) {
  const out = new URL("../schema/policy.schema.json", import.meta.url);
  Deno.mkdirSync(new URL(".", out), { recursive: true });
  Deno.writeTextFileSync(out, policyJsonSchema());
  console.log(`wrote ${out.pathname}`);
  const validator = new URL("./validator.generated.ts", import.meta.url);
  Deno.writeTextFileSync(
    validator,
    generateValidator(JSON.parse(policyJsonSchema())),
  );
  console.log(`wrote ${validator.pathname}`);
}
