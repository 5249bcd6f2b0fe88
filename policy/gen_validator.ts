/**
 * Writes the policy validator that `run` uses instead of zod: TypeScript
 * generated from the JSON Schema (schema/policy.schema.json, itself
 * generated from the zod schema), so a valid policy is accepted without
 * loading zod. Only the keywords that schema uses are understood; any other
 * keyword stops the generator, so a schema change cannot be ignored
 * silently. `x-landlockd` names a check or transform of policy/checks.ts
 * (the functions the zod schema refines with).
 *
 * The generated function returns the validated policy, exactly as zod's
 * `safeParse` returns it (defaults filled in, right groups expanded, keys
 * in the schema's order), or `undefined`: then the caller asks zod, which
 * decides and words the errors. It also answers `undefined` for anything it
 * is not sure about (a table that is not a plain object, such as a TOML
 * date, or a `__proto__` key), so it can only be stricter than zod, never
 * more lenient; policy/validator_test.ts runs both over every policy in
 * the repository and compares.
 *
 * @module
 */

import { type HookName, HOOKS } from "./checks.ts";

type Node = Record<string, unknown>;

const KNOWN = new Set([
  "$schema",
  "title",
  "description",
  "type",
  "properties",
  "required",
  "additionalProperties",
  "propertyNames",
  "items",
  "enum",
  "const",
  "minItems",
  "maxItems",
  "minLength",
  "minimum",
  "maximum",
  "pattern",
  "anyOf",
  "default",
  "x-landlockd",
]);

/** TypeScript source of the validator for `schema` (a JSON Schema). */
export function generateValidator(schema: Node): string {
  const fns: string[] = [];
  const consts = new Map<string, string>();
  const compiled = new Map<string, string>();
  let n = 0;

  /** A module-level constant for `code`, shared by equal ones. */
  const constant = (code: string) => {
    if (!consts.has(code)) consts.set(code, `C${consts.size}`);
    return consts.get(code)!;
  };

  /** Compiles `node` once per distinct schema; returns its function name. */
  function compile(node: Node, where: string): string {
    // Descriptions do not change what is accepted: equal nodes share code.
    const key = JSON.stringify(
      node,
      (k, v) => k === "description" ? undefined : v,
    );
    const known = compiled.get(key);
    if (known) return known;
    const name = compileNode(node, where);
    compiled.set(key, name);
    return name;
  }

  function compileNode(node: Node, where: string): string {
    for (const key of Object.keys(node)) {
      if (!KNOWN.has(key)) {
        throw new Error(`${where}: keyword "${key}" is not supported`);
      }
    }
    const name = `v${n++}`;
    const body: string[] = [];
    const fail = "return FAIL;";
    if (node.anyOf) {
      if (node.type) throw new Error(`${where}: anyOf beside type`);
      const options = (node.anyOf as Node[]).map((o, i) =>
        compile(o, `${where}/anyOf/${i}`)
      );
      body.push("let r: unknown;");
      for (const o of options) {
        body.push(`if ((r = ${o}(v)) !== FAIL) return r;`);
      }
      body.push(fail);
      fns.push(
        `function ${name}(v: unknown): unknown {\n  ${body.join("\n  ")}\n}`,
      );
      return name;
    }
    let out = "v";
    switch (node.type) {
      case "string":
        body.push(`if (typeof v !== "string") ${fail}`);
        if (node.minLength !== undefined) {
          body.push(`if (v.length < ${Number(node.minLength)}) ${fail}`);
        }
        if (node.pattern !== undefined) {
          const re = constant(`new RegExp(${JSON.stringify(node.pattern)})`);
          body.push(`${re}.lastIndex = 0;`, `if (!${re}.test(v)) ${fail}`);
        }
        break;
      case "number":
        body.push(`if (typeof v !== "number" || !Number.isFinite(v)) ${fail}`);
        break;
      case "integer":
        body.push(`if (!Number.isSafeInteger(v)) ${fail}`);
        break;
      case "boolean":
        body.push(`if (typeof v !== "boolean") ${fail}`);
        break;
      case "array": {
        body.push(`if (!Array.isArray(v)) ${fail}`);
        if (node.minItems !== undefined) {
          body.push(`if (v.length < ${Number(node.minItems)}) ${fail}`);
        }
        if (node.maxItems !== undefined) {
          body.push(`if (v.length > ${Number(node.maxItems)}) ${fail}`);
        }
        const item = compile(node.items as Node, `${where}/items`);
        body.push(
          "const out: unknown[] = [];",
          "for (const x of v) {",
          `  const r = ${item}(x);`,
          `  if (r === FAIL) ${fail}`,
          "  out.push(r);",
          "}",
        );
        out = "out";
        break;
      }
      case "object":
        body.push(`if (!isPlain(v)) ${fail}`);
        if (node.properties) {
          compileProperties(node, where, body);
        } else if (node.propertyNames && node.additionalProperties) {
          const key = compile(
            node.propertyNames as Node,
            `${where}/propertyNames`,
          );
          const value = compile(
            node.additionalProperties as Node,
            `${where}/additionalProperties`,
          );
          body.push(
            "const out: Record<string, unknown> = {};",
            "for (const k of Object.keys(v)) {",
            `  if (k === "__proto__" || ${key}(k) === FAIL) ${fail}`,
            `  const r = ${value}(v[k]);`,
            `  if (r === FAIL) ${fail}`,
            "  out[k] = r;",
            "}",
          );
        } else {
          throw new Error(`${where}: an object needs properties or a record`);
        }
        out = "out";
        break;
      default:
        throw new Error(`${where}: type ${JSON.stringify(node.type)}`);
    }
    if (node.enum !== undefined) {
      const set = constant(`new Set<unknown>(${JSON.stringify(node.enum)})`);
      body.push(`if (!${set}.has(v)) ${fail}`);
    }
    if (node.const !== undefined) {
      body.push(`if (v !== ${JSON.stringify(node.const)}) ${fail}`);
    }
    if (node.minimum !== undefined) {
      body.push(`if ((v as number) < ${Number(node.minimum)}) ${fail}`);
    }
    if (node.maximum !== undefined) {
      body.push(`if ((v as number) > ${Number(node.maximum)}) ${fail}`);
    }
    const hook = node["x-landlockd"];
    if (hook !== undefined) {
      if (typeof hook !== "string" || !Object.hasOwn(HOOKS, hook)) {
        throw new Error(`${where}: unknown x-landlockd ${String(hook)}`);
      }
      const h = `HOOKS.${hook}`;
      body.push(
        "check" in HOOKS[hook as HookName]
          ? `if (!${h}.check(${out} as never)) ${fail}`
          : `return ${h}.transform(${out} as never);`,
      );
    }
    body.push(`return ${out};`);
    fns.push(
      `function ${name}(v: unknown): unknown {\n  ${body.join("\n  ")}\n}`,
    );
    return name;
  }

  /** A table with named keys: unknown keys fail, defaults fill in. */
  function compileProperties(node: Node, where: string, body: string[]) {
    const props = node.properties as Record<string, Node>;
    const required = new Set((node.required ?? []) as string[]);
    if (node.additionalProperties !== false) {
      throw new Error(`${where}: only closed tables are supported`);
    }
    const allowed = constant(
      `new Set<string>(${JSON.stringify(Object.keys(props))})`,
    );
    body.push(
      `for (const k of Object.keys(v)) if (!${allowed}.has(k)) return FAIL;`,
      "const out: Record<string, unknown> = {};",
      "let r: unknown;",
    );
    for (const [key, prop] of Object.entries(props)) {
      const f = compile(prop, `${where}/properties/${key}`);
      const k = JSON.stringify(key);
      const absent = "default" in prop
        ? `out[${k}] = ${JSON.stringify(prop.default)};`
        : required.has(key)
        ? "return FAIL;"
        : "";
      body.push(
        `if (Object.hasOwn(v, ${k})) {`,
        `  if ((r = ${f}(v[${k}])) === FAIL) return FAIL;`,
        `  out[${k}] = r;`,
        `}${absent ? ` else ${absent}` : ""}`,
      );
    }
  }

  const root = compile(schema, "#");
  return `// deno-lint-ignore-file
// Generated by \`deno task schema\` (policy/gen_validator.ts) from
// schema/policy.schema.json. Do not edit: change policy/schema.ts instead.

import { HOOKS } from "./checks.ts";
import type { Policy } from "./schema.ts";

const FAIL = Symbol("fail");

function isPlain(v: unknown): v is Record<string, unknown> {
  if (v === null || typeof v !== "object" || Array.isArray(v)) return false;
  const proto = Object.getPrototypeOf(v);
  return proto === Object.prototype || proto === null;
}

${[...consts].map(([code, name]) => `const ${name} = ${code};`).join("\n")}

${fns.join("\n\n")}

/**
 * The validated policy, as zod would return it, or undefined: invalid, or
 * not surely valid (ask zod, policy/validate.ts).
 */
export function fastValidate(doc: unknown): Policy | undefined {
  const r = ${root}(doc);
  return r === FAIL ? undefined : r as Policy;
}
`;
}
