/**
 * Builds dist/run/: `landlockd run`'s modules bundled into a few files
 * (`deno bundle --code-splitting`), which main.ts loads instead of the ~70
 * source modules when the bundle is fresh (see lazy_import.ts
 * `freshBundle`). Deno pays per module it loads (resolution, cache
 * look-ups, compilation): a few files instead save most of that.
 *
 * What goes in: cli/main.ts, cli/run.ts and every module either of them can
 * reach, statically or through a literal `lazyImport` specifier,
 * transitively: so a bundled module never falls back to a source module
 * (which would hold a second copy of shared state: an error class, the
 * loaded C library). Lazily loaded modules stay lazy, in groups
 * ({@link VARIANTS}); two bundles of the same modules are built, one
 * grouped for a direct run and one for `run --socket`.
 *
 * Every module keeps its own `import.meta.url`: the bundler gives all of a
 * chunk's modules the chunk's URL, so each use is rewritten to the module's
 * source URL (policies, the C library and lazy specifiers resolve as
 * before).
 *
 * Each chunk's top-level functions are compiled with it, so that Deno's
 * code cache keeps them ({@link eagerFunctions}).
 *
 * dist/run/direct.stamps and socket.stamps (lazy_import.ts `stampFile`)
 * record, for the bundle's own files and every module of that graph
 * (type-only ones too), deno.json and deno.lock (which pins the npm
 * packages), its size, inode, mtime and ctime: a change to any of them (a
 * write moves both times, and ctime cannot be set back) makes main.ts
 * ignore the bundle and load the sources.
 *
 * Usage: deno run -A cli/bundle.ts (deno task bundle; deno task build runs it)
 *
 * @module
 */

import {
  BUNDLE_DIR,
  type BundleKind,
  fileStamp,
  stampFile,
} from "../lazy_import.ts";
import { type StampEntry, stampRequest } from "../syscalls/stamps.ts";

const ROOT = new URL("../", import.meta.url);
const ROOT_PATH = ROOT.pathname;
/** The modules `landlockd run` starts from. */
const ENTRIES = ["cli/main.ts", "cli/run.ts"];
/** Not bundled source that still decides what the bundle is. */
const CONFIG = ["deno.json", "deno.lock"];
/**
 * Modules the bundle imports from the sources instead of holding a copy:
 * those main.ts has loaded already, before the bundle, whose state the
 * bundle shares with it. ffi/library.ts maps the C library (main.ts maps it
 * to check the bundle; the bundle's ffi/mod.ts binds from that mapping);
 * lazy_import.ts takes the bundle's modules (`provideModules`) and loads
 * from them. Not a copy: one file fewer to load.
 */
const EXTERNAL = ["ffi/library.ts", "lazy_import.ts"];
/** The name every rewritten `import.meta.url` resolves against. */
const ROOT_VAR = "__landlockd_root";
/** The entry's chunk loader. */
const LOAD_VAR = "__landlockd_load";

function deno(args: string[]): string {
  const out = new Deno.Command(Deno.execPath(), {
    args,
    cwd: ROOT_PATH,
    stdout: "piped",
    stderr: "piped",
  }).outputSync();
  if (!out.success) {
    throw new Error(
      `deno ${args.join(" ")} failed:\n${new TextDecoder().decode(out.stderr)}`,
    );
  }
  return new TextDecoder().decode(out.stdout);
}

/**
 * The local modules `roots` import statically (themselves included); `work`
 * is a folder two levels below the checkout.
 */
function staticGraph(roots: string[], work: string): string[] {
  // deno info takes one module: one that imports them all.
  const probe = `${work}/graph.ts`;
  Deno.writeTextFileSync(
    probe,
    roots.map((r) => `import "../../${r}";\n`).join(""),
  );
  let info;
  try {
    info = JSON.parse(deno(["info", "--json", probe]));
  } finally {
    Deno.removeSync(probe);
  }
  return (info.modules as { specifier: string }[])
    .map((m) => m.specifier)
    .filter((s) => s.startsWith(ROOT.href) && !s.includes("/dist/.run-build-"))
    .map((s) => s.slice(ROOT.href.length));
}

/** `lazyImport` specifiers in `path`; throws on one that is not literal. */
function lazyTargets(path: string): string[] {
  // Block comments and whole-line comments hold examples, not calls.
  const text = Deno.readTextFileSync(`${ROOT_PATH}${path}`)
    .replace(/\/\*[\s\S]*?\*\//g, "").replace(/^\s*\/\/.*$/gm, "");
  const calls = [...text.matchAll(/\blazyImport(?:<[^>]*>)?\(/g)].length -
    [...text.matchAll(/\bfunction lazyImport\b/g)].length;
  const literal = [
    ...text.matchAll(/\blazyImport(?:<[^>]*>)?\(\s*"([^"$]+)"/g),
  ].map((m) =>
    new URL(m[1], `${ROOT.href}${path}`).href.slice(ROOT.href.length)
  );
  // cli/main.ts loads the other commands by a computed name; main.ts
  // takes only `run` from the bundle.
  const computed = path === "cli/main.ts" ? 1 : 0;
  if (literal.length + computed !== calls) {
    throw new Error(
      `${path}: a lazyImport specifier is not a string literal; the bundle cannot tell what it loads`,
    );
  }
  return literal;
}

/** The entries, their lazy targets, and theirs, to the end. */
function lazyClosure(work: string): { lazy: string[]; modules: string[] } {
  const lazy = new Set(ENTRIES);
  let modules: string[] = [];
  for (;;) {
    modules = staticGraph([...lazy], work);
    const before = lazy.size;
    for (const m of modules) lazyTargets(m).forEach((t) => lazy.add(t));
    if (lazy.size === before) break;
  }
  return { lazy: [...lazy].sort(), modules };
}

/**
 * A marker the bundler writes before each module's code, `// path`: the
 * module's path, "generated" for this build's own entry and groups, or
 * undefined for a line that is no marker.
 */
function markerPath(line: string): string | undefined {
  const m = /^\/\/ (\S+\.(?:ts|js|mjs|cjs))$/.exec(line);
  if (!m) return undefined;
  if (m[1].startsWith("dist/.run-build-")) return "generated";
  try {
    return Deno.statSync(`${ROOT_PATH}${m[1]}`).isFile ? m[1] : undefined;
  } catch {
    return undefined;
  }
}

/**
 * Gives each module its own `import.meta.url` back; returns the files the
 * chunk was made from.
 */
function rewriteChunk(text: string): { text: string; sources: string[] } {
  const sources: string[] = [];
  let current: string | undefined;
  const lines = text.split("\n").map((line) => {
    const marked = markerPath(line);
    if (marked === "generated") {
      current = undefined;
      return line;
    } else if (marked) {
      current = marked;
      sources.push(marked);
      return line;
    }
    if (/\bimport\(\s*["'`](?!node:)/.test(line)) {
      // Deno loads every literal dynamic import at start-up: the entry's
      // loaders take the chunk's name as a value, like lazyImport. (A
      // module's own import("node:…") stays: the sources have it too.)
      const m =
        /^(\s*"[^"]+": \(\) => )import\(("\.\/[^"]+\.js")\)(\.then\(\(g\) => g\.m\d+\),?)$/
          .exec(line);
      if (!m || current !== undefined) {
        throw new Error(`a dynamic import outside the entry: "${line.trim()}"`);
      }
      return `${m[1]}${LOAD_VAR}(${m[2]})${m[3]}`;
    }
    if (line.includes(ROOT_PATH)) {
      // The bundler names an external module by its absolute path: the
      // chunk names it relative to dist/run/, so the checkout can move.
      const m = /^(import .*|\} )from "([^"]+)";$/.exec(line);
      const path = m?.[2].slice(ROOT_PATH.length);
      if (!m || !m[2].startsWith(ROOT_PATH) || !EXTERNAL.includes(path!)) {
        throw new Error(`an absolute path in a chunk: "${line.trim()}"`);
      }
      return `${m[1]}from "../../${path}";`;
    }
    if (!line.includes("import.meta")) return line;
    if (current === undefined || /import\.meta(?!\.url\b)/.test(line)) {
      throw new Error(
        `cannot place "${line.trim()}" (in ${current ?? "no module"})`,
      );
    }
    return line.replaceAll(
      "import.meta.url",
      `new URL(${JSON.stringify(current)}, ${ROOT_VAR}).href`,
    );
  });
  const { hoisted, rest } = eagerFunctions(lines);
  return {
    // The chunk sits in dist/run/: the checkout is two levels up.
    text: `const ${ROOT_VAR} = new URL("../../", import.meta.url);\n` +
      `const ${LOAD_VAR} = (chunk) => import(new URL(chunk, import.meta.url).href);\n` +
      [...hoisted, ...rest].join("\n"),
    sources,
  };
}

/** A top-level function declaration as the bundler writes it. */
const DECLARATION = /^(async )?function(\*?) ([A-Za-z_$][\w$]*)(\(.*)$/;

/**
 * V8 compiles a function when it is first called, and Deno's code cache
 * holds only what was compiled with the module: so a run compiled its
 * ~230 functions anew each time. A function expression in parentheses is
 * compiled with its module (V8's heuristic for one called at once), and
 * cached. Each top-level `function f(…) {…}` becomes
 * `var f = (function(…) {…});` (the same name, from the binding), moved
 * to the chunk's start so that, like a declaration, it exists before any
 * of the chunk's code runs. (Another chunk could see the difference only
 * through an import cycle between chunks; `build` refuses one.) Functions
 * nested in these stay lazy.
 */
export function eagerFunctions(
  lines: string[],
): { hoisted: string[]; rest: string[] } {
  const hoisted: string[] = [];
  const rest: string[] = [];
  for (let i = 0; i < lines.length; i++) {
    const m = DECLARATION.exec(lines[i]);
    if (!m) {
      rest.push(lines[i]);
      continue;
    }
    // The bundler ends a top-level declaration with a line of its own.
    const end = lines.indexOf("}", i + 1);
    if (!lines[i].endsWith("{") || end < 0) {
      throw new Error(`cannot find the end of "${lines[i].trim()}"`);
    }
    hoisted.push(
      `var ${m[3]} = (${m[1] ?? ""}function${m[2]}${m[4]}`,
      ...lines.slice(i + 1, end),
      "});",
    );
    i = end;
  }
  return { hoisted: eagerArrows(hoisted), rest: eagerArrows(rest) };
}

/** A token of a chunk: where it starts and ends, and what it is. */
interface Token {
  kind: "punct" | "name" | "value";
  text: string;
  start: number;
  end: number;
}

/** Words after which a `/` starts a regular expression, not a division. */
const BEFORE_REGEXP = new Set([
  "return",
  "typeof",
  "instanceof",
  "in",
  "of",
  "new",
  "delete",
  "void",
  "throw",
  "case",
  "do",
  "else",
  "yield",
  "await",
]);

/**
 * The tokens of `text` (JavaScript as the bundler writes it) from `from`
 * on, up to the `}` that closes a template literal's `${` when `inTemplate`
 * (then the last token is that `}`). Strings, template literals (their
 * substitutions included), regular expressions and numbers are single
 * "value" tokens, comments are skipped. Throws on what it cannot read, so
 * the build stops rather than cutting code in the wrong place.
 */
function tokenize(text: string, from = 0, inTemplate = false): Token[] {
  const tokens: Token[] = [];
  let depth = 0; // braces opened since `from`
  let i = from;
  const fail = (what: string): never => {
    throw new Error(
      `eagerArrows: ${what} at offset ${i}: "${text.slice(i, i + 40)}"`,
    );
  };
  const regexpAllowed = () => {
    const prev = tokens.at(-1);
    if (!prev) return true;
    if (prev.kind === "value") return false;
    if (prev.kind === "name") return BEFORE_REGEXP.has(prev.text);
    return !")]}".includes(prev.text);
  };
  while (i < text.length) {
    const c = text[i];
    const start = i;
    if (/\s/.test(c)) {
      i++;
    } else if (text.startsWith("//", i)) {
      const nl = text.indexOf("\n", i);
      i = nl < 0 ? text.length : nl;
    } else if (text.startsWith("/*", i)) {
      const close = text.indexOf("*/", i + 2);
      if (close < 0) fail("an unclosed comment");
      i = close + 2;
    } else if (c === '"' || c === "'") {
      for (i++; text[i] !== c; i++) {
        if (i >= text.length || text[i] === "\n") fail("an unclosed string");
        if (text[i] === "\\") i++;
      }
      i++;
      tokens.push({ kind: "value", text: c, start, end: i });
    } else if (c === "`") {
      for (i++; text[i] !== "`"; i++) {
        if (i >= text.length) fail("an unclosed template literal");
        if (text[i] === "\\") i++;
        else if (text.startsWith("${", i)) {
          const inner = tokenize(text, i + 2, true);
          i = inner.length ? inner.at(-1)!.end - 1 : fail("an empty ${}");
        }
      }
      i++;
      tokens.push({ kind: "value", text: "`", start, end: i });
    } else if (c === "/" && regexpAllowed()) {
      let inClass = false;
      for (i++; inClass || text[i] !== "/"; i++) {
        if (i >= text.length || text[i] === "\n") fail("an unclosed RegExp");
        if (text[i] === "\\") i++;
        else if (text[i] === "[") inClass = true;
        else if (text[i] === "]") inClass = false;
      }
      for (i++; /[a-z]/.test(text[i] ?? ""); i++);
      tokens.push({ kind: "value", text: "/", start, end: i });
    } else if (/[0-9]/.test(c) || (c === "." && /[0-9]/.test(text[i + 1]))) {
      // digits, letters (hex, exponents, BigInt), dots, separators, and a
      // sign right after an exponent
      for (i++; i < text.length; i++) {
        if (/[\w.]/.test(text[i])) continue;
        if (/[+-]/.test(text[i]) && /[eE]/.test(text[i - 1])) continue;
        break;
      }
      tokens.push({ kind: "value", text: text.slice(start, i), start, end: i });
    } else if (/[\w$#\\]/.test(c) || c > "\x7f") {
      for (
        i++;
        i < text.length && (/[\w$\\]/.test(text[i]) || text[i] > "\x7f");
        i++
      );
      tokens.push({ kind: "name", text: text.slice(start, i), start, end: i });
    } else {
      // The operators that matter here: `=>`, `?` apart from `?.` and `??`,
      // and the ones that could otherwise end in `=>` or `?`.
      const op = /^(?:=>|\?\?=?|\?\.(?![0-9])|[=!]==?|[<>]=|\S)/.exec(
        text.slice(i, i + 3),
      )![0];
      i += op.length;
      if (op === "{") depth++;
      if (op === "}" && inTemplate && depth-- === 0) {
        tokens.push({ kind: "punct", text: op, start, end: i });
        return tokens;
      }
      tokens.push({ kind: "punct", text: op, start, end: i });
    }
  }
  if (inTemplate) fail("an unclosed ${}");
  return tokens;
}

const OPENS: Record<string, string> = { "(": ")", "[": "]", "{": "}" };

/**
 * The same as {@link eagerFunctions} for arrow functions: V8 compiles an
 * arrow function with its enclosing code when it is in parentheses (`((x)
 * => x + 1)`, what it takes for one called at once), lazily otherwise. So
 * every `(…) => …` not marked `async` (which the heuristic does not cover)
 * is put in parentheses: top-level ones are then compiled with the chunk,
 * and the callbacks and local helpers of a function with it, all kept in
 * Deno's code cache. Only parentheses are added (lines stay lines), and an
 * arrow function in parentheses is the same expression.
 */
export function eagerArrows(lines: string[]): string[] {
  const text = lines.join("\n");
  const tokens = tokenize(text);
  // Each bracket's partner.
  const partner = new Map<number, number>();
  const open: number[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== "punct") return;
    if (t.text in OPENS) open.push(k);
    else if (")]}".includes(t.text)) {
      const j = open.pop();
      if (j === undefined || OPENS[tokens[j].text] !== t.text) {
        throw new Error(`eagerArrows: unbalanced "${t.text}" at ${t.start}`);
      }
      partner.set(j, k).set(k, j);
    }
  });
  if (open.length) throw new Error("eagerArrows: an unclosed bracket");
  const opens: number[] = [];
  const closes: number[] = [];
  tokens.forEach((t, k) => {
    if (t.kind !== "punct" || t.text !== "=>") return;
    const prev = tokens[k - 1];
    const first = prev.text === ")" ? partner.get(k - 1)! : k - 1;
    if (prev.kind !== "name" && prev.text !== ")") {
      throw new Error(`eagerArrows: no parameters before "=>" at ${t.start}`);
    }
    if (tokens[first - 1]?.text === "async") return;
    let last = k + 1;
    if (tokens[last]?.text === "{") {
      last = partner.get(last)!;
    } else {
      // An expression: up to a `,` `;` or closing bracket of the code
      // around it, or the `:` of a `?` before it.
      let questions = 0;
      for (; last < tokens.length; last++) {
        const u = tokens[last];
        if (u.kind !== "punct") continue;
        if (u.text in OPENS) last = partner.get(last)!;
        else if (u.text === "?") questions++;
        else if (u.text === ":" && questions) questions--;
        else if (/^[,;:)\]}]$/.test(u.text)) break;
      }
      last--;
    }
    opens.push(tokens[first].start);
    closes.push(tokens[last].end);
  });
  // Closing before opening where they meet; several at one place are alike.
  const edits = [
    ...closes.map((at) => ({ at, text: ")", order: 0 })),
    ...opens.map((at) => ({ at, text: "(", order: 1 })),
  ].sort((a, b) => a.at - b.at || a.order - b.order);
  let out = "";
  let done = 0;
  for (const e of edits) {
    out += text.slice(done, e.at) + e.text;
    done = e.at;
  }
  return (out + text.slice(done)).split("\n");
}

function stamps(paths: string[]): StampEntry[] {
  return paths.map((path) => ({
    path,
    ...fileStamp(`${ROOT_PATH}${path}`),
  }));
}

/**
 * Lazy modules loaded together share a chunk. Two bundles of the same
 * modules, one for each way of running: its command line and its way of
 * running in one chunk (one file, not a dozen of shared fragments), zod's
 * validator alone, everything else (the other way of running, broker,
 * observer, --explain, OCI, the proxy) in one more.
 */
const VARIANTS: Record<BundleKind, [string, string[]][]> = {
  direct: [
    ["run", ["cli/main.ts", "cli/run.ts", "cli/run_direct.ts"]],
    ["validate", ["policy/validate.ts"]],
  ],
  socket: [
    ["run", ["cli/main.ts", "cli/run.ts", "cli/remote_run.ts"]],
    ["validate", ["policy/validate.ts"]],
  ],
};

/** The lazy modules by group: `groups`, then `rest`. */
function groupLazy(
  lazy: string[],
  groups: [string, string[]][],
): Map<string, string[]> {
  const out = new Map<string, string[]>();
  const placed = new Set<string>();
  for (const [name, members] of groups) {
    const present = members.filter((m) => lazy.includes(m));
    present.forEach((m) => placed.add(m));
    if (present.length) out.set(name, present);
  }
  const rest = lazy.filter((m) => !placed.has(m));
  if (rest.length) out.set("rest", rest);
  return out;
}

/**
 * Bundles the `lazy` modules, grouped, into `dir`; returns the names of its
 * files, the entry's first, and adds them and their sources to the sets.
 */
async function bundleVariant(
  work: string,
  dir: string,
  lazy: string[],
  groupList: [string, string[]][],
  chunks: Set<string>,
  sources: Set<string>,
): Promise<string[]> {
  Deno.mkdirSync(work, { recursive: true });
  // Literal dynamic imports: each group becomes a chunk, code shared by
  // groups chunks of its own.
  const entry = `${work}/entry.ts`;
  const groups = groupLazy(lazy, groupList);
  for (const [name, members] of groups) {
    Deno.writeTextFileSync(
      `${work}/${name}.ts`,
      members.map((m, i) => `export * as m${i} from "../../../${m}";\n`)
        .join(""),
    );
  }
  Deno.writeTextFileSync(
    entry,
    `import { provideModules } from "../../../lazy_import.ts";\n` +
      `export const MODULES = {\n${
        [...groups].flatMap(([name, members]) =>
          members.map((m, i) =>
            `  ${
              JSON.stringify(m)
            }: () => import("./${name}.ts").then((g) => g.m${i}),`
          )
        ).join("\n")
      }\n};\nprovideModules(MODULES);\n`,
  );
  deno([
    "bundle",
    "--quiet",
    "--platform",
    "deno",
    "--code-splitting",
    ...EXTERNAL.map((m) => `--external=${ROOT_PATH}${m}`),
    "--outdir",
    `${work}/out`,
    entry,
  ]);
  // Chunk names carry a hash of their content (the entry's is added
  // here): a build never changes a file an earlier build wrote.
  let entryName = "";
  const texts = new Map<string, string>();
  const check = `${work}/check`;
  Deno.mkdirSync(check);
  for (const e of Deno.readDirSync(`${work}/out`)) {
    const chunk = rewriteChunk(Deno.readTextFileSync(`${work}/out/${e.name}`));
    // npm packages are not stamped: their folder names the version, which
    // deno.lock pins with its checksum (as Deno itself trusts node_modules/).
    chunk.sources.filter((s) => !s.startsWith("node_modules/"))
      .forEach((s) => sources.add(s));
    const name = e.name === "entry.js"
      ? (entryName = `entry-${await shortHash(chunk.text)}.js`)
      : e.name;
    texts.set(name, chunk.text);
    Deno.writeTextFileSync(`${check}/${name}`, chunk.text);
  }
  refuseImportCycles(texts);
  // The formatter parses each file (and fails on a syntax error), so a
  // function `eagerFunctions` cut in the wrong place stops the build.
  deno(["fmt", "--no-config", "--quiet", check]);
  const names = [...texts.keys()];
  for (const [name, text] of texts) {
    chunks.add(name);
    writeAtomically(`${dir}/${name}`, text);
  }
  // the entry first
  return [entryName, ...names.filter((n) => n !== entryName).sort()];
}

/**
 * Throws when the chunks import each other in a cycle (see
 * `eagerFunctions`: without one, a chunk's functions exist before any
 * other chunk can call them).
 */
function refuseImportCycles(texts: Map<string, string>): void {
  const imports = new Map(
    [...texts].map(([name, text]) => [
      name,
      [...text.matchAll(/^(?:import|\} from) "\.\/([^"]+\.js)";$/gm)]
        .map((m) => m[1]),
    ]),
  );
  const done = new Set<string>();
  const visit = (name: string, path: string[]): void => {
    if (path.includes(name)) {
      throw new Error(
        `the bundler's chunks import each other in a cycle: ${
          [...path, name].join(" → ")
        }`,
      );
    }
    if (done.has(name)) return;
    (imports.get(name) ?? []).forEach((n) => visit(n, [...path, name]));
    done.add(name);
  };
  [...imports.keys()].forEach((n) => visit(n, []));
}

async function shortHash(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return [...new Uint8Array(digest).slice(0, 6)]
    .map((b) => b.toString(16).padStart(2, "0")).join("");
}

/**
 * Writes `path` whole or not at all (a run may be reading the folder);
 * leaves a file that already holds `content` as it is (its stamp too).
 */
function writeAtomically(path: string, content: string | Uint8Array): void {
  const bytes = typeof content === "string"
    ? new TextEncoder().encode(content)
    : content;
  try {
    const old = Deno.readFileSync(path);
    if (
      (Deno.statSync(path).mode! & 0o022) === 0 &&
      old.length === bytes.length && old.every((b, i) => b === bytes[i])
    ) return;
  } catch {
    // not there yet
  }
  const tmp = `${path}.${Deno.pid}.tmp`;
  // Not group- or world-writable whatever the umask: main.ts loads no
  // bundle file that others could change (lazy_import.ts freshBundle).
  Deno.writeFileSync(tmp, bytes, { mode: 0o644 });
  Deno.chmodSync(tmp, 0o644);
  Deno.renameSync(tmp, path);
}

/** `dir` made, and writable by its owner alone (see writeAtomically). */
function ownDir(dir: string): void {
  Deno.mkdirSync(dir, { recursive: true });
  const mode = Deno.statSync(dir).mode! & 0o7777;
  if (mode & 0o022) Deno.chmodSync(dir, mode & ~0o022);
}

/**
 * Chunks of earlier builds stay for a day: a run that started from one may
 * still load its lazy chunks.
 */
const KEEP_OLD_MS = 24 * 3600 * 1000;

async function build(): Promise<void> {
  const work = `${ROOT_PATH}dist/.run-build-${Deno.pid}`;
  const dir = `${ROOT_PATH}${BUNDLE_DIR}`;
  Deno.mkdirSync(work, { recursive: true });
  ownDir(`${ROOT_PATH}dist`);
  ownDir(dir);
  try {
    const { lazy, modules } = lazyClosure(work);
    const before = stamps([...new Set([...modules, ...CONFIG])].sort());
    // Every module of the graph, bundled or only imported for its types.
    const sources = new Set<string>([...modules, ...CONFIG]);
    const chunks = new Set<string>();
    const written = {} as Record<BundleKind, string[]>;
    for (const [kind, groups] of Object.entries(VARIANTS)) {
      written[kind as BundleKind] = await bundleVariant(
        `${work}/${kind}`,
        dir,
        lazy,
        groups,
        chunks,
        sources,
      );
    }
    // A file that changed while the bundler read it: build again.
    const files = stamps([...sources].sort());
    const was = new Map(before.map((f) => [f.path, JSON.stringify(f)]));
    for (const f of files) {
      if (was.has(f.path) && was.get(f.path) !== JSON.stringify(f)) {
        throw new Error(`${f.path} changed during the bundle: build again`);
      }
    }
    // Stamped once both are written (they share chunks), with the stamps
    // just compared.
    const records = new Set<string>();
    for (const [kind, names] of Object.entries(written)) {
      const record = stampFile(kind as BundleKind);
      records.add(record.slice(BUNDLE_DIR.length + 1));
      writeAtomically(
        `${ROOT_PATH}${record}`,
        stampRequest([
          {
            check: "own",
            files: stamps(names.map((n) => `${BUNDLE_DIR}/${n}`)),
          },
          { check: "stamp", files },
        ]),
      );
    }
    const now = Date.now();
    for (const e of Deno.readDirSync(dir)) {
      if (records.has(e.name) || chunks.has(e.name)) continue;
      const mtime = Deno.statSync(`${dir}/${e.name}`).mtime?.getTime() ?? 0;
      if (now - mtime > KEEP_OLD_MS) Deno.removeSync(`${dir}/${e.name}`);
    }
    console.log(
      `${BUNDLE_DIR}: ${
        files.length - CONFIG.length
      } modules in ${chunks.size} chunks`,
    );
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
}

/**
 * `--optional` (what `deno task build` passes): the bundle only makes `run`
 * start faster, so a failure (no esbuild to download offline, say) is a
 * warning, the old records are removed and `run` loads the sources.
 */
if (import.meta.main) {
  try {
    await build();
  } catch (e) {
    if (!Deno.args.includes("--optional")) throw e;
    for (const kind of Object.keys(VARIANTS) as BundleKind[]) {
      try {
        Deno.removeSync(`${ROOT_PATH}${stampFile(kind)}`);
      } catch {
        // None to remove: without one, run loads the sources anyway.
      }
    }
    console.error(
      `landlockd: no bundle made (run loads the sources, a little slower): ${
        e instanceof Error ? e.message : e
      }`,
    );
  }
}
