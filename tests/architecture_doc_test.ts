/**
 * docs/architecture.md names functions, classes and files at each step of a
 * run; this keeps every name true. A name written as `name` (`file`) must
 * be defined in that file; every other function or class name must be
 * defined somewhere in the code; every file or folder must exist.
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

const DOC = "docs/architecture.md";
const SKIP = ["node_modules", ".git", "dist", "build", "testonly", "tests"];

const doc = Deno.readTextFileSync(ROOT + DOC);
const quoted = [...doc.matchAll(/`([^`\n]+)`/g)].map((m) => m[1]);

function* sources(dir = ROOT): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      if (!SKIP.includes(e.name)) yield* sources(`${dir}${e.name}/`);
    } else if (/\.(ts|c|h)$/.test(e.name) && !e.name.endsWith("_test.ts")) {
      yield `${dir}${e.name}`.slice(ROOT.length);
    }
  }
}

const code = new Map([...sources()].map((f) => [
  f,
  Deno.readTextFileSync(ROOT + f),
]));

/** Whether `text` defines `name` (TypeScript or C). */
function defines(text: string, name: string): boolean {
  const n = name.replace(/\$/g, "\\$");
  return new RegExp(
    [
      `\\b(function\\*?|class|interface|type|const|let)\\s+${n}\\b`,
      `^\\s*(async\\s+)?${n}\\s*\\(`, // a method
      `^[a-z][\\w ]*[\\s*]${n}\\s*\\(`, // a C function
    ].join("|"),
    "m",
  ).test(text);
}

/** An identifier the doc names as code: camelCase, PascalCase or ll_*. */
function isName(s: string): boolean {
  return /^(ll_\w+|[a-z]+[A-Z]\w*|[A-Z][a-z]+[A-Z]\w*|Source)$/.test(s);
}

Deno.test("every function the architecture doc names next to a file is defined in that file", () => {
  const pairs = [
    ...doc.matchAll(/`([\w.]+)`\s*\(`([\w/]+\.(?:ts|c))`[,)]/g),
  ].map((m) => [m[1].split(".")[0], m[2]] as const);
  assert.ok(pairs.length >= 20, `only ${pairs.length} name (file) pairs`);
  const wrong = pairs.filter(([name, file]) => {
    const text = code.get(file);
    return text === undefined || !defines(text, name);
  });
  assert.deepEqual(wrong, []);
});

Deno.test("every function and class the architecture doc names exists", () => {
  const names = [...new Set(quoted.map((q) => q.split(".")[0]))]
    .filter(isName);
  assert.ok(names.length >= 40, `only ${names.length} names`);
  const all = [...code.values()];
  const missing = names.filter((n) => !all.some((t) => defines(t, n)));
  assert.deepEqual(missing, []);
});

Deno.test("every source file and folder the architecture doc names exists", () => {
  const paths = quoted.filter((q) =>
    /^[\w.-]+(\/[\w.-]+)*(\/|\.(ts|c|h|json|jsonc|yml))$/.test(q) &&
    !q.startsWith("dist/")
  );
  assert.ok(paths.length >= 20, `only ${paths.length} paths`);
  const missing = paths.filter((p) => {
    try {
      Deno.statSync(ROOT + p);
      return false;
    } catch {
      return true;
    }
  });
  assert.deepEqual(missing, []);
});
