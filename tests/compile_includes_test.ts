/**
 * `deno compile` embeds only statically imported modules; landlockd loads
 * some lazily through computed specifiers (to keep them out of `run`'s
 * start-up). Every such module must be listed in the compile task's
 * --include flags, or the single binary would fail where `deno run` works.
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";

const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
const includes = [...config.tasks.compile.command.matchAll(/--include (\S+)/g)]
  .map((m) => m[1].replace(/\/$/, ""));

function* runtimeSources(dir = ROOT): Generator<string> {
  for (const e of Deno.readDirSync(dir)) {
    const path = `${dir}${e.name}`;
    if (e.isDirectory) {
      if (
        ["node_modules", "tests", "bench", "demo", ".git", "dist"].includes(
          e.name,
        )
      ) continue;
      yield* runtimeSources(`${path}/`);
    } else if (e.name.endsWith(".ts") && !e.name.endsWith("_test.ts")) {
      yield path;
    }
  }
}

Deno.test("every lazily imported module is embedded by deno task compile", () => {
  const missing: string[] = [];
  for (const file of runtimeSources()) {
    const text = Deno.readTextFileSync(file);
    // import(new URL("…", import.meta.url).href) and lazyImport<…>("…", …)
    for (
      const m of text.matchAll(
        /(?:import\(\s*new URL\(|\blazyImport(?:<[^>]*>)?\(|\burl\()\s*[`"]([^`"$]+)[`"]/g,
      )
    ) {
      const target = new URL(m[1], `file://${file}`).pathname.slice(
        ROOT.length,
      );
      if (
        !includes.some((i: string) =>
          target === i || target.startsWith(`${i}/`)
        )
      ) {
        missing.push(`${target} (imported by ${file.slice(ROOT.length)})`);
      }
    }
    if (text.includes("./${name}.ts")) {
      assert.ok(
        includes.includes("cli"),
        "cli/main.ts loads cli/*: include cli",
      );
    }
  }
  assert.deepEqual(missing, []);
});
