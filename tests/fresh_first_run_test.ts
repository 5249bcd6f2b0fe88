/**
 * A fresh machine: landlockd never fetches a package at run time, so a
 * command's stderr and landlockd's own diagnostics never carry Deno's
 * `Download …` / `Initialize …` lines, even with an empty Deno cache; and
 * test-only packages stay out of what `deno task landlockd` installs.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, ROOT, tempDir, USERS } from "./helpers.ts";

const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));

/** A policy in a file (not a built-in one), so validation must load zod and smol-toml. */
function policy(): string {
  return policyFile(`version = 1
[[fs_layer]]
handled_access_fs = ["write_file"]
`);
}

for (const as of USERS) {
  Deno.test(`[${as}] with an empty Deno cache, a command's stderr is only its own`, async () => {
    const home = tempDir();
    const r = await landlockd(
      ["run", "--policy-file", policy(), "--", "sh", "-c", "echo own >&2"],
      {
        as,
        env: {
          DENO_DIR: `${home}/deno`,
          HOME: home,
        },
      },
    );
    assert.equal(r.stderr, "own\n");
    assert.equal(r.code, 0);
  });

  Deno.test(`[${as}] with an empty Deno cache, landlockd's own diagnostics have no package-manager lines`, async () => {
    const home = tempDir();
    const r = await landlockd(["lint", "--policy-file", policyFile("x = 1")], {
      as,
      env: { DENO_DIR: `${home}/deno`, HOME: home },
    });
    assert.equal(r.code, 1);
    assert.doesNotMatch(r.stderr, /Download|Initialize/);
    for (const line of r.stderr.trimEnd().split("\n")) {
      assert.match(line, /policy\.toml(:\d+)?: /);
    }
  });
}

/** What `deno task deps` caches: its entry points, after --entrypoint. */
const depsArgs: string[] = config.tasks.deps.command.split(/\s+/);
const cached = depsArgs.slice(depsArgs.indexOf("--entrypoint") + 1);

function* lazyImports(dir: string): Generator<[string, string]> {
  for (const e of Deno.readDirSync(`${ROOT}${dir}`)) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) {
      if (["node_modules", "tests", ".git", "dist"].includes(e.name)) continue;
      yield* lazyImports(`${path}/`);
    } else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      const text = Deno.readTextFileSync(`${ROOT}${path}`);
      for (
        const m of text.matchAll(
          /(?:import\(\s*new URL|\burl)\(\s*[`"]([^`"]+)[`"]/g,
        )
      ) {
        yield [path, new URL(m[1], `file:///${path}`).pathname.slice(1)];
      }
    }
  }
}

Deno.test("deno task deps caches every module reached by a computed specifier", () => {
  const missing: string[] = [];
  for (const [from, target] of lazyImports("")) {
    if (from.startsWith("bench/") || from.startsWith("demo/")) continue;
    const dir = target.split("/")[0];
    if (
      !cached.includes(dir) && !cached.includes(target.replace(/\$\{.*/, ""))
    ) {
      missing.push(`${target} (imported by ${from})`);
    }
  }
  assert.deepEqual(missing, []);
  assert.ok(
    depsArgs.includes("--entrypoint"),
    "deps: deno install --entrypoint",
  );
  assert.ok(cached.includes("main.ts"));
  assert.deepEqual(config.tasks.build.dependencies, ["deps"]);
});

Deno.test("deno task landlockd and the tests start landlockd with --cached-only", () => {
  assert.match(config.tasks.landlockd.command, /^deno run --cached-only /);
});

Deno.test("test-only packages are not in deno.json or deno.lock: deno task landlockd never installs them", () => {
  const lock = Deno.readTextFileSync(`${ROOT}deno.lock`);
  for (const name of ["kubernetes-models", "ajv", "@actions/workflow-parser"]) {
    assert.ok(!JSON.stringify(config).includes(name), `deno.json: ${name}`);
    assert.ok(!lock.includes(name), `deno.lock: ${name}`);
  }
  assert.deepEqual(Object.keys(config.imports).sort(), [
    "smol-toml",
    "yaml",
    "zod",
  ]);
});
