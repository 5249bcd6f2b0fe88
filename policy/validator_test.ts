import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { policyJsonSchema } from "./write_schema.ts";
import { generateValidator } from "./gen_validator.ts";
import { fastValidate } from "./validator.generated.ts";
import { extendingKeys, policySchema } from "./schema.ts";
import { EXTENDING_KEYS } from "./load.ts";
import { isExtending } from "./extends.ts";

const ROOT = new URL("../", import.meta.url);

Deno.test("policy/validator.generated.ts is what deno task schema writes", () => {
  const committed = Deno.readTextFileSync(
    new URL("validator.generated.ts", import.meta.url),
  );
  assert.equal(
    committed,
    generateValidator(JSON.parse(policyJsonSchema())),
    "run: deno task schema",
  );
});

Deno.test("load.ts sends every extending policy to zod", () => {
  assert.deepEqual(
    [...EXTENDING_KEYS].sort(),
    Object.keys(extendingKeys.shape).sort(),
  );
  for (const k of EXTENDING_KEYS) assert.ok(isExtending({ [k]: 1 }));
});

/** Every TOML file in the repository (outside node_modules and dist). */
function tomlFiles(dir = ROOT): URL[] {
  const out: URL[] = [];
  for (const e of Deno.readDirSync(dir)) {
    if (e.name.startsWith(".") || e.name === "node_modules") continue;
    if (e.name === "dist") continue;
    const url = new URL(e.name + (e.isDirectory ? "/" : ""), dir);
    if (e.isDirectory) out.push(...tomlFiles(url));
    else if (e.name.endsWith(".toml")) out.push(url);
  }
  return out;
}

/**
 * The policies written inline in the test files (the error cases of
 * tests/policy_errors_test.ts and others): every template literal without
 * `${...}` that holds `version =`.
 */
function inlinePolicies(): string[] {
  const out: string[] = [];
  const dirs = ["tests/", "tests/attacks/", "policy/", "daemon/", "cli/"];
  for (const dir of dirs) {
    for (const e of Deno.readDirSync(new URL(dir, ROOT))) {
      if (!e.isFile || !e.name.endsWith(".ts")) continue;
      const code = Deno.readTextFileSync(new URL(dir + e.name, ROOT));
      for (const m of code.matchAll(/`((?:[^`\\]|\\.)*)`/gs)) {
        const body = m[1];
        if (!/version\s*=/.test(body) || /(?<!\\)\$\{/.test(body)) continue;
        try {
          out.push(new Function(`return \`${body}\`;`)() as string);
        } catch {
          // not a plain literal
        }
      }
    }
  }
  return out;
}

/** Documents: every fixture that parses, and the parts of each as bases. */
function documents(): { name: string; doc: unknown }[] {
  const docs: { name: string; doc: unknown }[] = [];
  const add = (name: string, text: string) => {
    try {
      docs.push({ name, doc: parse(text) });
    } catch {
      // a syntax-error case: nothing to validate
    }
  };
  for (const url of tomlFiles()) {
    add(url.pathname, Deno.readTextFileSync(url));
  }
  inlinePolicies().forEach((text, i) => add(`inline #${i}`, text));
  return docs;
}

const REPLACEMENTS: unknown[] = [
  1,
  0,
  -1,
  1.5,
  70000,
  4096,
  true,
  "x",
  "",
  "/x",
  "${HOME}/x",
  "a\0b",
  "/a\0b",
  "read_file",
  "ro",
  "bind_tcp",
  "execve",
  "openat",
  "io_uring",
  "tmpfs",
  "readonly",
  "best_effort",
  "A_B",
  "A*",
  "1A",
  [],
  ["ro"],
  ["read_file", "write_file"],
  ["/x"],
  ["x"],
  ["connect_tcp"],
  ["openat"],
  {},
  { x: 1 },
  { A: "v" },
  { "1A": "v" },
  { handled_access_fs: ["ro"] },
  { handled_access_net: ["bind_tcp"] },
  { path: "/", allowed_access: ["ro"] },
  { port: 80, allowed_access: ["bind_tcp"] },
  { source: "/a", target: "/b" },
];

type Path = (string | number)[];

function leaves(v: unknown, path: Path = []): Path[] {
  const out: Path[] = [path];
  if (Array.isArray(v)) {
    v.forEach((x, i) => out.push(...leaves(x, [...path, i])));
  } else if (v !== null && typeof v === "object") {
    for (const [k, x] of Object.entries(v)) {
      out.push(...leaves(x, [...path, k]));
    }
  }
  return out;
}

function mutate(doc: unknown, path: Path, value: unknown | typeof DELETE) {
  const copy = structuredClone(doc);
  if (path.length === 0) return value === DELETE ? undefined : value;
  let parent = copy as Record<string | number, unknown>;
  for (const k of path.slice(0, -1)) {
    parent = parent[k] as Record<string | number, unknown>;
  }
  const last = path.at(-1)!;
  if (value === DELETE) {
    if (Array.isArray(parent)) parent.splice(last as number, 1);
    else delete parent[last];
  } else parent[last] = structuredClone(value);
  return copy;
}
const DELETE = Symbol("delete");

/** Mutants of `doc`: each leaf deleted or replaced, each table widened. */
function* mutants(doc: unknown): Generator<unknown> {
  yield doc;
  for (const path of leaves(doc)) {
    if (path.length) yield mutate(doc, path, DELETE);
    for (const r of REPLACEMENTS) yield mutate(doc, path, r);
  }
  for (const key of ["fs_layer", "net", "scope", "seccomp", "env", "mount"]) {
    for (const r of REPLACEMENTS) yield mutate(doc, [key], r);
  }
  for (
    const [key, r] of [
      ["scope", { signal: true }],
      ["scope", { abstract_unix_socket: false }],
      ["seccomp", { deny: ["openat"], errno: 13 }],
      ["seccomp", { deny: ["close"] }],
      ["seccomp", { deny: ["no_such_call"] }],
      ["seccomp", { allow: ["io_uring"] }],
      ["env", { clear: true, set: { A: "1" }, keep: ["PATH"] }],
      ["env", { set: { A: "a\0b" } }],
      ["mount", { tmpfs: ["/tmp"] }],
      ["mount", { tmpfs: [] }],
      ["runtime", { root: "/srv" }],
      ["runtime", { cwd: "/w" }],
      ["broker", {}],
      ["broker", {
        mount_object: [{ name: "o", fs_type: "proc", attach: ["/p"] }],
      }],
      ["broker", { mount_object: [{ name: "", fs_type: "proc", attach: [] }] }],
      ["net", {
        handled_access_net: ["bind_tcp"],
        rule: [{ port: 1, allowed_access: ["connect_tcp"] }],
      }],
      ["net", { udp: "deny" }],
      ["net", { udp: "allow" }],
      ["net", { raw: true, udp: "allow" }],
      ["net", {
        udp: "dns",
        rule: [{ port: 1, allowed_access: ["bind_tcp"] }],
      }],
      ["net", {
        raw: false,
        rule: [{ port: 1, allowed_access: ["connect_tcp"] }],
      }],
      ["compat", "best_effort"],
      ["description", 3],
      ["version", 2],
    ] as const
  ) yield mutate(doc, [key], r);
}

Deno.test("the generated validator accepts exactly what zod accepts, with zod's output, over every policy in the repository and its mutants", () => {
  let cases = 0, accepted = 0;
  const mismatches: string[] = [];
  for (const { name, doc } of documents()) {
    for (const m of mutants(doc)) {
      cases++;
      const fast = fastValidate(m);
      const zod = policySchema.safeParse(m);
      if (fast !== undefined) {
        accepted++;
        if (!zod.success) {
          mismatches.push(
            `${name}: fast accepts what zod refuses: ${JSON.stringify(m)}`,
          );
        } else if (JSON.stringify(fast) !== JSON.stringify(zod.data)) {
          mismatches.push(`${name}: outputs differ: ${JSON.stringify(m)}`);
        } else assert.deepStrictEqual(fast, zod.data);
      } else if (zod.success) {
        mismatches.push(
          `${name}: zod accepts what fast refuses: ${JSON.stringify(m)}`,
        );
      }
    }
  }
  assert.deepEqual(mismatches, []);
  assert.ok(cases > 5000, `${cases} cases`);
  assert.ok(accepted > 500, `${accepted} accepted`);
});

Deno.test("the generated validator leaves to zod what it is not sure of", () => {
  const base = {
    version: 1,
    fs_layer: [{ handled_access_fs: ["ro"] }],
  };
  assert.ok(fastValidate(base));
  // A TOML date where a table is expected: zod decides (and refuses).
  assert.equal(fastValidate({ ...base, scope: new Date(0) }), undefined);
  const proto = JSON.parse('{"__proto__": "x"}');
  assert.equal(
    fastValidate({ ...base, env: { set: proto } }),
    undefined,
  );
});
