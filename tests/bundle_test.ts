/**
 * The bundle of `landlockd run` (cli/bundle.ts, dist/run/): used only while
 * it matches the sources it was made from, and a run from it behaves as a
 * run from the sources (same output, same status).
 */
import assert from "node:assert/strict";
import { fileStamp, freshBundle, stampFile } from "../lazy_import.ts";
import { stampRequest } from "../syscalls/stamps.ts";
import { eagerArrows, eagerFunctions } from "../cli/bundle.ts";
import { ROOT } from "./helpers.ts";

/** The record of a bundle of `chunks` made from `sources`, as they are. */
function record(
  root: string,
  chunks: string[],
  sources: string[],
): Uint8Array {
  const stamped = (paths: string[]) =>
    paths.map((path) => ({ path, ...fileStamp(`${root}/${path}`) }));
  return stampRequest([
    { check: "own", files: stamped(chunks) },
    { check: "stamp", files: stamped(sources) },
  ]);
}

/** A checkout with one module and each bundle's record made from it. */
function fakeCheckout(): string {
  const root = Deno.makeTempDirSync({ prefix: "landlockd-bundle-" });
  Deno.mkdirSync(`${root}/dist/run`, { recursive: true });
  Deno.writeTextFileSync(`${root}/a.ts`, "export const a = 1;\n");
  for (const chunk of ["entry-0.js", "entry-1.js"]) {
    Deno.writeTextFileSync(`${root}/dist/run/${chunk}`, "export {};\n");
  }
  Deno.writeFileSync(
    `${root}/${stampFile("direct")}`,
    record(root, ["dist/run/entry-0.js"], ["a.ts"]),
  );
  Deno.writeFileSync(
    `${root}/${stampFile("socket")}`,
    record(root, ["dist/run/entry-1.js"], ["a.ts"]),
  );
  return root;
}

Deno.test("eager functions keep what a declaration gives: its name, its binding before any code runs", async () => {
  const lines = [
    "export const early = [plain(2), gen().next().value];",
    "function plain(x) {",
    "  plain = null;", // the binding, not a constant of the function's own
    "  return x * 2;",
    "}",
    "function* gen() {",
    "  yield 1;",
    "}",
    "async function later() {",
    "  return `",
    "}`;",
    "}",
    "export { later, plain };",
  ];
  const { hoisted, rest } = eagerFunctions(lines);
  assert.equal(hoisted[0], "var plain = (function(x) {");
  assert.ok(!rest.some((l) => l.includes("function")));
  const m = await import(
    `data:text/javascript,${
      encodeURIComponent([...hoisted, ...rest].join("\n"))
    }`
  );
  assert.deepEqual(m.early, [4, 1]);
  assert.equal(m.plain, null);
  assert.equal(m.later.name, "later");
  assert.equal(await m.later(), "\n}");
});

Deno.test("eager arrows: every arrow function but an async one is put in parentheses, and computes the same", async () => {
  const lines = [
    "var inc = (x) => x + 1;",
    "var pick = (p) => p ? (q) => q * 2 : (r) => r;",
    "var rows = [1, 2].map((y) => ({ y })).filter(({ y }) => y > 1);",
    "var later = async (x) => x;",
    "var text = (s) => { return `${[s].map((k) => k)}}` + /=>[(]/.source; };",
    "var half = (n) => n / 2 / 1;",
    "class K { #m = () => 3; m() { return (s) => s + this.#m(); } }",
    "export const out = [inc(1), pick(true)(2), pick(false)(2), rows,",
    "  await later(5), text('a'), half(8), new K().m()(1)];",
  ];
  const eager = eagerArrows(lines);
  assert.equal(eager.length, lines.length);
  assert.deepEqual(eager.slice(0, 5), [
    "var inc = ((x) => x + 1);",
    "var pick = ((p) => p ? ((q) => q * 2) : ((r) => r));",
    "var rows = [1, 2].map(((y) => ({ y }))).filter((({ y }) => y > 1));",
    "var later = async (x) => x;",
    // not inside a template literal's substitutions
    "var text = ((s) => { return `${[s].map((k) => k)}}` + /=>[(]/.source; });",
  ]);
  assert.equal(
    eager[6],
    "class K { #m = (() => 3); m() { return ((s) => s + this.#m()); } }",
  );
  // Only parentheses were added.
  assert.equal(
    eager.join("").replace(/[()]/g, ""),
    lines.join("").replace(/[()]/g, ""),
  );
  const load = async (code: string[]) =>
    (await import(
      `data:text/javascript,${encodeURIComponent(code.join("\n"))}`
    )).out;
  const out = await load(eager);
  assert.deepEqual(out, await load(lines));
  assert.deepEqual(out, [2, 4, 2, [{ y: 2 }], 5, "a}=>[(]", 4, 4]);
  // What it cannot read stops the build.
  assert.throws(() => eagerArrows(['var s = "open;']), /unclosed string/);
  assert.throws(() => eagerArrows(["var f = (x => x;"]), /unclosed bracket/);
});

Deno.test("a bundle made from the files as they are is used", async () => {
  const root = fakeCheckout();
  try {
    assert.equal(
      await freshBundle("direct", { root: `file://${root}/` }),
      `file://${root}/dist/run/entry-0.js`,
    );
    assert.equal(
      await freshBundle("socket", { root: `file://${root}/` }),
      `file://${root}/dist/run/entry-1.js`,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a source written after the bundle turns the bundle off", async () => {
  const root = fakeCheckout();
  try {
    // Same size, same second: the mtime (ms) or the ctime still moves.
    const was = fileStamp(`${root}/a.ts`);
    Deno.writeTextFileSync(`${root}/a.ts`, "export const a = 2;\n");
    const stamp = fileStamp(`${root}/a.ts`);
    if (stamp.mtime === was.mtime && stamp.ctime === was.ctime) {
      // Written within the same millisecond: move it on and write again.
      Deno.utimeSync(`${root}/a.ts`, new Date(), new Date(was.mtime + 5));
    }
    assert.equal(
      await freshBundle("direct", { root: `file://${root}/` }),
      undefined,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a source rewritten in place, same size, its mtime set back, turns the bundle off", async () => {
  const root = fakeCheckout();
  try {
    const before = fileStamp(`${root}/a.ts`);
    // Into the next second: ctime, which nobody can set back, moves.
    const wait = before.ctime + 1000 - Date.now();
    if (wait > 0) await new Promise((r) => setTimeout(r, wait + 20));
    const f = Deno.openSync(`${root}/a.ts`, { write: true });
    f.writeSync(new TextEncoder().encode("export const b = 1;\n"));
    f.close();
    Deno.utimeSync(`${root}/a.ts`, new Date(), new Date(before.mtime));
    const after = fileStamp(`${root}/a.ts`);
    assert.deepEqual(
      { ...after, ctime: before.ctime },
      before,
      "only the ctime tells",
    );
    assert.equal(
      await freshBundle("direct", { root: `file://${root}/` }),
      undefined,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a missing source, chunk or record turns the bundle off", async () => {
  const root = fakeCheckout();
  try {
    Deno.removeSync(`${root}/dist/run/entry-1.js`);
    assert.equal(
      await freshBundle("socket", { root: `file://${root}/` }),
      undefined,
    );
    assert.ok(await freshBundle("direct", { root: `file://${root}/` }));
    Deno.removeSync(`${root}/a.ts`);
    assert.equal(
      await freshBundle("direct", { root: `file://${root}/` }),
      undefined,
    );
    Deno.removeSync(`${root}/${stampFile("direct")}`);
    assert.equal(
      await freshBundle("direct", { root: `file://${root}/` }),
      undefined,
    );
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a bundle others could change turns the bundle off", async () => {
  const root = fakeCheckout();
  const url = `file://${root}/`;
  try {
    assert.ok(await freshBundle("direct", { root: url }));
    // Group-writable: a chunk, then the bundle's folder.
    Deno.chmodSync(`${root}/dist/run/entry-0.js`, 0o664);
    assert.equal(await freshBundle("direct", { root: url }), undefined);
    assert.ok(await freshBundle("socket", { root: url }));
    Deno.chmodSync(`${root}/dist/run`, 0o775);
    assert.equal(await freshBundle("socket", { root: url }), undefined);
    Deno.chmodSync(`${root}/dist/run`, 0o755);
    assert.ok(await freshBundle("socket", { root: url }));
    // Another user's record (as root, who can give it away).
    if (Deno.uid() === 0) {
      Deno.chownSync(`${root}/${stampFile("socket")}`, 65534, 65534);
      assert.equal(await freshBundle("socket", { root: url }), undefined);
      Deno.chownSync(`${root}/${stampFile("socket")}`, 0, 0);
      assert.ok(await freshBundle("socket", { root: url }));
    }
    // A chunk that is a symlink to a file with the same stamp (the
    // stamps are stat's, which follows it: only the ownership check sees).
    Deno.renameSync(
      `${root}/dist/run/entry-1.js`,
      `${root}/dist/entry-1.js`,
    );
    Deno.symlinkSync(`${root}/dist/entry-1.js`, `${root}/dist/run/entry-1.js`);
    assert.equal(await freshBundle("socket", { root: url }), undefined);
    Deno.removeSync(`${root}/dist/run/entry-1.js`);
    Deno.renameSync(
      `${root}/dist/entry-1.js`,
      `${root}/dist/run/entry-1.js`,
    );
    assert.ok(await freshBundle("socket", { root: url }));
    if (Deno.uid() === 0) {
      // Another user's chunk, then another user's dist/.
      Deno.chownSync(`${root}/dist/run/entry-1.js`, 65534, 65534);
      assert.equal(await freshBundle("socket", { root: url }), undefined);
      Deno.chownSync(`${root}/dist/run/entry-1.js`, 0, 0);
      Deno.chownSync(`${root}/dist`, 65534, 65534);
      assert.equal(await freshBundle("socket", { root: url }), undefined);
      Deno.chownSync(`${root}/dist`, 0, 0);
      assert.ok(await freshBundle("socket", { root: url }));
    }
    // A world-writable record.
    Deno.chmodSync(`${root}/${stampFile("socket")}`, 0o646);
    assert.equal(await freshBundle("socket", { root: url }), undefined);
    Deno.chmodSync(`${root}/${stampFile("socket")}`, 0o644);
    // dist/run as a symlink to a folder holding the same files.
    Deno.renameSync(`${root}/dist/run`, `${root}/dist/real`);
    Deno.symlinkSync(`${root}/dist/real`, `${root}/dist/run`);
    assert.equal(await freshBundle("socket", { root: url }), undefined);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

Deno.test("a record whose chunks are not the bundle's own files turns the bundle off", async () => {
  const root = fakeCheckout();
  const url = `file://${root}/`;
  const path = `${root}/${stampFile("direct")}`;
  try {
    // The entry outside the bundle's folder, stamped and owned as needed.
    Deno.writeFileSync(path, record(root, ["a.ts"], ["a.ts"]));
    assert.equal(await freshBundle("direct", { root: url }), undefined);
    Deno.writeFileSync(
      path,
      record(root, ["dist/run/../../a.ts"], ["a.ts"]),
    );
    assert.equal(await freshBundle("direct", { root: url }), undefined);
    // No chunk at all: the sources only.
    Deno.writeFileSync(path, record(root, [], ["a.ts"]));
    assert.equal(await freshBundle("direct", { root: url }), undefined);
    // A cut record: the C check refuses it, the sources load.
    const whole = record(root, ["dist/run/entry-0.js"], ["a.ts"]);
    Deno.writeFileSync(path, whole.subarray(0, whole.length - 8));
    assert.equal(await freshBundle("direct", { root: url }), undefined);
    Deno.writeFileSync(path, whole);
    assert.ok(await freshBundle("direct", { root: url }));
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});

/** Runs `deno run main.ts ARGS` from this checkout, bundle on or off. */
function run(args: string[], bundle: boolean, files?: string) {
  const out = new Deno.Command(Deno.execPath(), {
    args: [
      "run",
      "--cached-only",
      "--allow-all",
      "--log-level=debug",
      `${ROOT}main.ts`,
      ...args,
    ],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      HOME: Deno.env.get("HOME") ?? "/",
      ...(Deno.env.get("DENO_DIR")
        ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
        : {}),
      NO_COLOR: "1",
      ...(bundle ? {} : { LANDLOCKD_NO_BUNDLE: "1" }),
      ...(files ? { LANDLOCKD_POLICY_PATH: files } : {}),
    },
    cwd: "/",
  }).outputSync();
  const lines = new TextDecoder().decode(out.stderr).split("\n");
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    // landlockd's own lines, not Deno's debug log
    stderr: lines.filter((l) => !/^DEBUG |^\s|^[{}]|^$/.test(l)).join("\n"),
    fromBundle: lines.some((l) => l.includes("/dist/run/entry-")),
  };
}

Deno.test({
  name: "run from the bundle prints and exits as run from the sources",
  fn() {
    const built = new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}cli/bundle.ts`],
      stdout: "null",
    }).outputSync();
    assert.ok(built.success, "deno task bundle failed");
    const dir = Deno.makeTempDirSync({ prefix: "landlockd-bundle-pol-" });
    Deno.writeTextFileSync(
      `${dir}/broken.toml`,
      'version = 1\n[[fs_layer]]\nhandled_access_fs = ["read_fyle"]\n',
    );
    try {
      const cases = [
        ["run", "--policy", "ci-default", "--", "/bin/echo", "hi"],
        ["run", "--policy", "ci-default", "--", "sh", "-c", "echo x > /x"],
        ["run", "--policy", "broken", "--", "/bin/true"],
        ["run", "--policy", "ci-default", "--", "/no/such/command"],
        ["run", "--policy", "ci-default"],
        [
          "run",
          "--socket",
          "/nonexistent/s",
          "--policy",
          "ci-default",
          "--",
          "/bin/true",
        ],
        [
          "run",
          "--socket=/nonexistent/s",
          "--policy",
          "broken",
          "--",
          "/bin/true",
        ],
      ];
      for (const args of cases) {
        const bundled = run(args, true, dir);
        const sources = run(args, false, dir);
        assert.ok(bundled.fromBundle, `${args.join(" ")}: not from the bundle`);
        assert.ok(!sources.fromBundle, `${args.join(" ")}: from the bundle`);
        assert.deepEqual(
          { ...bundled, fromBundle: true },
          { ...sources, fromBundle: true },
          args.join(" "),
        );
      }
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});
