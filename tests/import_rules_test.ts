/**
 * The layering rules, checked by reading every module's imports (issue 16).
 *
 * 1. The kernel boundary. Only `syscalls/` (and `ffi/` itself) imports
 *    `ffi/`, calls `rawSyscall`, names a syscall number through `NR` or
 *    calls a C symbol (`ll_*`). Tests of ffi itself are excepted
 *    ({@link FFI_TESTS}), and so are the benches that time the floor
 *    beneath the layers ({@link FLOOR_BENCHES}).
 * 2. The command line. Only `cli/` and `main.ts` import `cli/`; tests may.
 *    `sandbox/` knows no exit statuses: it imports neither `cli/` nor
 *    `exit_status.ts` (it returns typed failures; callers map them).
 *    `exit_status.ts`, the numbers the command line and the daemon (which
 *    sends a run's status to its client) share, imports nothing but types:
 *    the map from an error to a status is cli/exit_codes.ts `outcomeOf`.
 * 3. Purity. A module in `policy/` or `seccomp/` imports only:
 *    - modules in `policy/` or `seccomp/`;
 *    - the pure data modules of `syscalls/` ({@link PURE_SYSCALLS}: flag
 *      and errno tables, no FFI), `version.ts`, and `lazy_import.ts` (which
 *      only loads a module it is given);
 *    - the pure packages zod and smol-toml (and node:assert in its tests).
 *    Anything else (ffi/, the rest of syscalls/, sandbox/, daemon/,
 *    broker/, audit/, cli/, oci/, node:fs and the other node: I/O
 *    modules, jsr/std file-system modules) has effects and is refused.
 *    Reading the policy's own files is an effect policy/ needs (loading a
 *    policy and its `extends`): `Deno.*` I/O calls in policy/ and seccomp/
 *    are allowed only in the files listed in {@link POLICY_READERS}.
 *
 * 4. C lives in `ffi/`; a test's own C program lives beside it in `tests/`.
 * 5. Errors are matched with `instanceof`, never by their name string.
 *
 * Comments and string contents other than import specifiers are ignored.
 * {@link KNOWN} lists what still breaks a rule while the code moves;
 * it may only shrink: a new violation fails this test.
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

/** Folders that hold no landlockd source to check. */
const SKIP = ["node_modules", ".git", "dist", "build", "testonly"];

/** Tests of ffi itself: they may import ffi/ and name its symbols. */
const FFI_TESTS = [
  "tests/layout_test.ts",
  "tests/process_test.ts",
  "tests/ffi_library_test.ts",
  "tests/fixtures/memfd_decoy_probe.ts",
  "tests/short_run_test.ts",
];

/**
 * Benches that measure the least a run can cost with this design: they
 * call the C library with no module between (bench/floors.ts).
 */
const FLOOR_BENCHES = [
  "bench/floors.ts",
  "bench/floor_sandbox.ts",
  "bench/floor_socket.ts",
];

/** This file: its examples break the rules on purpose. */
const SELF = "tests/import_rules_test.ts";

/** syscalls/ modules that are plain data (no FFI), importable by pure code. */
const PURE_SYSCALLS = ["syscalls/constants.ts", "syscalls/errno.ts"];

/** Pure packages pure code may import. */
const PURE_PACKAGES = ["zod", "smol-toml", "node:assert/strict", "node:assert"];

/**
 * Files in pure folders that may do I/O: policy/ files that read the
 * policy's own files (and the environment), and build-time generators.
 */
const POLICY_READERS = [
  "policy/source.ts",
  "policy/extends.ts",
  "policy/expand.ts",
  "policy/lint.ts",
  "policy/write_schema.ts",
  "policy/write_starters.ts",
  "seccomp/gen_syscall_table.ts",
];

/**
 * Violations not yet moved, as `rule: file`. This list may only shrink; an
 * entry that no longer applies is reported by the last test so it can be
 * removed (it does not fail, so parallel moves can merge in any order).
 */
const KNOWN: string[] = [];

function* sources(dir = ROOT): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      if (SKIP.includes(e.name)) continue;
      yield* sources(`${dir}${e.name}/`);
    } else if (e.name.endsWith(".ts")) {
      yield `${dir}${e.name}`.slice(ROOT.length);
    }
  }
}

/** The text with comments removed (strings kept: specifiers live there). */
export function stripComments(text: string): string {
  let out = "";
  let i = 0;
  while (i < text.length) {
    const c = text[i];
    const next = text[i + 1];
    if (c === "/" && next === "/") {
      while (i < text.length && text[i] !== "\n") i++;
    } else if (c === "/" && next === "*") {
      const end = text.indexOf("*/", i + 2);
      i = end < 0 ? text.length : end + 2;
    } else if (c === '"' || c === "'" || c === "`") {
      const start = i++;
      while (i < text.length && text[i] !== c) i += text[i] === "\\" ? 2 : 1;
      out += text.slice(start, ++i);
    } else {
      out += c;
      i++;
    }
  }
  return out;
}

/** Every specifier a module imports or re-exports, static or dynamic. */
export function importsOf(code: string): string[] {
  const found: string[] = [];
  const patterns = [
    /\b(?:import|export)\s[^;]*?\bfrom\s*["']([^"']+)["']/g,
    /\bimport\s*["']([^"']+)["']/g,
    /\bimport\(\s*["']([^"']+)["']\s*\)/g,
    /\bimport\(\s*new URL\(\s*["'`]([^"'`$]+)["'`]/g,
    /\blazyImport(?:<[^>]*>)?\(\s*["'`]([^"'`$]+)["'`]/g,
  ];
  for (const re of patterns) {
    for (const m of code.matchAll(re)) {
      if (!m[1].includes("${")) found.push(m[1]);
    }
  }
  return found;
}

/** The specifiers of every import or re-export that is not `import type`. */
export function valueImports(code: string): string[] {
  const found: string[] = [];
  for (
    const m of code.matchAll(
      /\b(import|export)\s+(type\s)?[^;]*?\bfrom\s*["']([^"']+)["']/g,
    )
  ) {
    if (!m[2]) found.push(m[3]);
  }
  for (const m of code.matchAll(/\bimport\s*(?:\(\s*)?["']([^"']+)["']/g)) {
    found.push(m[1]);
  }
  return found;
}

/** A relative specifier as a path from the repository root. */
function resolve(file: string, spec: string): string {
  if (!spec.startsWith(".")) return spec;
  return new URL(spec, `file:///${file}`).pathname.slice(1);
}

const under = (file: string, dir: string) => file.startsWith(`${dir}/`);

/** Every rule a module breaks, as `rule: file (detail)` keys. */
export function violations(file: string, text: string): Map<string, string> {
  const found = new Map<string, string>();
  const add = (rule: string, detail: string) => {
    const key = `${rule}: ${file}`;
    if (!found.has(key)) found.set(key, detail);
  };
  const code = stripComments(text);
  const targets = importsOf(code).map((s) => resolve(file, s));
  const kernelSide = under(file, "syscalls") || under(file, "ffi") ||
    FFI_TESTS.includes(file) || FLOOR_BENCHES.includes(file);

  if (!kernelSide) {
    const ffi = targets.find((t) => under(t, "ffi"));
    if (ffi) add("imports ffi/", ffi);
    const raw = code.match(/\brawSyscall\b|\bNR\s*[.[]|\.ll_\w+\s*\(/);
    if (raw) add("raw syscall or C symbol", raw[0]);
  }

  if (
    !under(file, "cli") && file !== "main.ts" && !under(file, "tests") &&
    !file.endsWith("_test.ts")
  ) {
    const cli = targets.find((t) => under(t, "cli"));
    if (cli) add("imports cli/", cli);
  }

  if (under(file, "sandbox")) {
    const exit = targets.find((t) => t === "exit_status.ts");
    if (exit) add("sandbox knows exit statuses", exit);
  }

  if (!under(file, "tests") && !file.endsWith("_test.ts")) {
    const byName = code.match(/\.name\s*[!=]==?\s*["'`]\w*Error["'`]/);
    if (byName) add("error matched by name", byName[0]);
  }

  if (file === "exit_status.ts") {
    const effect = valueImports(code)[0];
    if (effect) add("exit_status.ts imports values", effect);
  }

  if (under(file, "policy") || under(file, "seccomp")) {
    for (const t of targets) {
      const pure = under(t, "policy") || under(t, "seccomp") ||
        PURE_SYSCALLS.includes(t) || t === "version.ts" ||
        t === "lazy_import.ts" ||
        PURE_PACKAGES.includes(t) ||
        // a test may use the sandbox's tables to check its own
        (file.endsWith("_test.ts") && !under(t, "ffi"));
      if (!pure) add("pure module imports effects", t);
    }
    if (!POLICY_READERS.includes(file) && !file.endsWith("_test.ts")) {
      const io = code.match(
        /\bDeno\.(?:read\w*|write\w*|open\w*|create\w*|stat\w*|lstat\w*|mkdir\w*|remove\w*|rename\w*|Command|dlopen|connect\w*|listen\w*|env|cwd|chdir|exit|kill)\b/,
      );
      if (io) add("pure module does I/O", io[0]);
    }
  }
  return found;
}

function all(): Map<string, string> {
  const found = new Map<string, string>();
  for (const file of sources()) {
    if (file === SELF) continue;
    for (const [k, v] of violations(file, Deno.readTextFileSync(ROOT + file))) {
      found.set(k, v);
    }
  }
  return found;
}

Deno.test("the rules see imports, raw syscalls and C symbols, not comments", () => {
  assert.deepEqual(
    [...violations("daemon/x.ts", 'import { a } from "../ffi/mod.ts";').keys()],
    ["imports ffi/: daemon/x.ts"],
  );
  assert.deepEqual(
    [...violations("broker/x.ts", "lib().ll_sock_send(1);").keys()],
    ["raw syscall or C symbol: broker/x.ts"],
  );
  assert.deepEqual(
    [...violations("audit/x.ts", "f(NR.openat, 1)").keys()],
    ["raw syscall or C symbol: audit/x.ts"],
  );
  assert.deepEqual(
    [...violations("daemon/x.ts", "// ll_sock_send(), NR.openat\n").keys()],
    [],
  );
  assert.deepEqual(
    [...violations("syscalls/x.ts", 'import "../ffi/mod.ts"; NR.open').keys()],
    [],
  );
  assert.deepEqual(
    [
      ...violations("sandbox/x.ts", 'export { EXIT } from "../cli/exit.ts";')
        .keys(),
    ],
    ["imports cli/: sandbox/x.ts"],
  );
  assert.deepEqual(
    [
      ...violations("sandbox/x.ts", 'import { EXIT } from "../exit_status.ts";')
        .keys(),
    ],
    ["sandbox knows exit statuses: sandbox/x.ts"],
  );
  assert.deepEqual(
    [...violations("main.ts", 'import { EXIT } from "./cli/exit.ts";').keys()],
    [],
  );
  assert.deepEqual(
    [
      ...violations(
        "policy/x.ts",
        'import "./y.ts"; import "zod"; import { f } from "../syscalls/sys.ts";',
      ).keys(),
    ],
    ["pure module imports effects: policy/x.ts"],
  );
  assert.deepEqual(
    [...violations("seccomp/x.ts", 'import "node:fs";').keys()],
    ["pure module imports effects: seccomp/x.ts"],
  );
  assert.deepEqual(
    [...violations("seccomp/x.ts", "Deno.readTextFileSync(p)").keys()],
    ["pure module does I/O: seccomp/x.ts"],
  );
  assert.deepEqual(
    [
      ...violations(
        "policy/x.ts",
        'import { O_PATH } from "../syscalls/constants.ts";',
      ).keys(),
    ],
    [],
  );
});

Deno.test("an error matched by its name breaks a rule", () => {
  assert.deepEqual(
    [...violations("cli/x.ts", 'if (e.name !== "Error") print(e);').keys()],
    ["error matched by name: cli/x.ts"],
  );
  assert.deepEqual(
    [...violations("cli/x.ts", 'e.name === "TypeError"').keys()],
    ["error matched by name: cli/x.ts"],
  );
  assert.deepEqual(
    [...violations("cli/x.ts", "if (e instanceof UsageError) x();").keys()],
    [],
  );
});

Deno.test("exit_status.ts may import types only", () => {
  assert.deepEqual(
    [
      ...violations(
        "exit_status.ts",
        'import type { FailureKind } from "./sandbox/report.ts";',
      ).keys(),
    ],
    [],
  );
  assert.deepEqual(
    [
      ...violations(
        "exit_status.ts",
        'import { runFailure } from "./sandbox/report.ts";',
      ).keys(),
    ],
    ["exit_status.ts imports values: exit_status.ts"],
  );
});

/** Every C source or header in the repository, from the root. */
function* cSources(dir = ROOT): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    if (e.isDirectory) {
      if (SKIP.includes(e.name)) continue;
      yield* cSources(`${dir}${e.name}/`);
    } else if (/\.[ch]$/.test(e.name)) {
      yield `${dir}${e.name}`.slice(ROOT.length);
    }
  }
}

/** A C program in bench/ is the bench's own load, beside the script that builds it. */
function benchProgram(f: string): boolean {
  if (!under(f, "bench") || !f.endsWith(".c")) return false;
  const script = f.replace(/\.c$/, ".ts");
  try {
    return Deno.readTextFileSync(`${ROOT}${script}`).includes(f);
  } catch {
    return false;
  }
}

Deno.test("C lives only in ffi/, or beside the tests or benches that run it", () => {
  const stray = [...cSources()].filter((f) =>
    !under(f, "ffi") && !under(f, "tests") && !benchProgram(f)
  );
  assert.deepEqual(stray, []);
});

Deno.test("no module breaks a layering rule beyond the known list", () => {
  const found = all();
  const fresh = [...found].filter(([k]) => !KNOWN.includes(k))
    .map(([k, v]) => `${k} (${v})`);
  assert.deepEqual(fresh, []);
});

Deno.test("the known list names only what still breaks a rule", () => {
  const found = all();
  const stale = KNOWN.filter((k) => !found.has(k));
  if (stale.length > 0) {
    console.log(`import rules: remove from KNOWN: ${stale.join(", ")}`);
  }
});
