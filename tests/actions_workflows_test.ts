/**
 * action.yml, the workflows and the README's workflow snippet are checked
 * with GitHub's own parser (`@actions/workflow-parser`, a test-only npm
 * dependency), their shell with shellcheck, and the release rules of
 * issue 13 (pinned actions, least privilege) are asserted. The README
 * snippet is also run, as the runner would, against a local release.
 */

import assert from "node:assert/strict";
import { parse } from "yaml";
import { chownTree, ROOT, RUN_ROOT, tempDir } from "./helpers.ts";
import { newJob, runAction } from "./actions_runner.ts";

/** The parser's version; its package is built for bundlers, see below. */
const PARSER = "npm:@actions/workflow-parser@0.3.61";

interface ParseResult {
  context: { errors: { getErrors(): { message: string }[] } };
}
type ParseFn = (
  file: { name: string; content: string },
  trace: unknown,
) => ParseResult;
interface Parser {
  parseWorkflow: ParseFn;
  parseAction: ParseFn;
  NoOperationTraceWriter: new () => unknown;
}

let parser: Promise<Parser> | undefined;

/**
 * The parser imports its JSON schemas without import attributes (it is
 * meant for bundlers), which Deno refuses; `deno bundle` inlines them.
 */
function loadParser(): Promise<Parser> {
  parser ??= (async () => {
    const dir = tempDir("workflow-parser-");
    Deno.writeTextFileSync(
      `${dir}/entry.ts`,
      `export { NoOperationTraceWriter, parseWorkflow } from "${PARSER}";\n` +
        `export { parseAction } from "${PARSER}/actions/action-parser";\n`,
    );
    const out = await new Deno.Command(Deno.execPath(), {
      // The test-only config and lock file pin the parser's integrity.
      args: [
        "bundle",
        "--quiet",
        "--config",
        `${ROOT}tests/testonly/deno.jsonc`,
        "entry.ts",
        "-o",
        "parser.js",
      ],
      cwd: dir,
      stdin: "null",
    }).output();
    assert.equal(
      out.code,
      0,
      `deno bundle failed: ${new TextDecoder().decode(out.stderr)}`,
    );
    return await import(new URL(`file://${dir}/parser.js`).href) as Parser;
  })();
  return parser;
}

/** The parser's errors for one document ([] when GitHub would accept it). */
async function errorsOf(
  kind: "workflow" | "action",
  name: string,
  content: string,
): Promise<string[]> {
  const p = await loadParser();
  const parse = kind === "action" ? p.parseAction : p.parseWorkflow;
  return parse({ name, content }, new p.NoOperationTraceWriter()).context
    .errors.getErrors().map((e) => e.message);
}

const WORKFLOWS = [...Deno.readDirSync(`${ROOT}.github/workflows`)]
  .map((e) => `.github/workflows/${e.name}`).sort();

function read(path: string): string {
  return Deno.readTextFileSync(`${ROOT}${path}`);
}

/** The README's workflow snippet: the yaml block of "Use in GitHub Actions". */
function readmeSnippet(): string {
  const readme = read("README.md");
  const section = readme.split(/^## Use in GitHub Actions$/m)[1];
  assert.ok(section, 'README.md has no "## Use in GitHub Actions" section');
  const m = /^```yaml\n([\s\S]*?)^```$/m.exec(section.split(/^## /m)[0]);
  assert.ok(m, "the section has no yaml block");
  return m[1];
}

/** The snippet (a `steps:` list) in a job, verbatim, indented. */
function snippetWorkflow(snippet: string): string {
  const indented = snippet.split("\n").map((l) => l ? `    ${l}` : l)
    .join("\n");
  return `on: push\njobs:\n  install:\n    runs-on: ubuntu-24.04\n${indented}`;
}

Deno.test("GitHub's parser accepts action.yml, every workflow and the README snippet", async () => {
  assert.deepEqual(
    await errorsOf("action", "action.yml", read("action.yml")),
    [],
  );
  assert.deepEqual(WORKFLOWS, [
    ".github/workflows/ci.yml",
    ".github/workflows/release.yml",
  ]);
  for (const w of WORKFLOWS) {
    assert.deepEqual(await errorsOf("workflow", w, read(w)), [], w);
  }
  const snippet = readmeSnippet();
  assert.ok(
    snippet.trimEnd().split("\n").length <= 6,
    `the README snippet has more than 6 lines:\n${snippet}`,
  );
  assert.deepEqual(
    await errorsOf("workflow", "README.md", snippetWorkflow(snippet)),
    [],
  );
});

Deno.test("the parser is not silent: it rejects broken documents", async () => {
  const workflow = read(".github/workflows/release.yml")
    .replace("attestations: write", "attestation: write");
  assert.match(
    (await errorsOf("workflow", "release.yml", workflow)).join("\n"),
    /Unexpected value 'attestation'/,
  );
  const action = read("action.yml").replace("using: composite", "using: node");
  assert.notDeepEqual(await errorsOf("action", "action.yml", action), []);
});

interface Workflow {
  on: Record<string, unknown>;
  permissions?: Record<string, string>;
  jobs: Record<string, {
    needs?: string | string[];
    if?: string;
    permissions?: Record<string, string>;
    steps: { uses?: string; run?: string; with?: Record<string, string> }[];
  }>;
}

function workflow(path: string): Workflow {
  return parse(read(path));
}

Deno.test("third-party actions are pinned to a full commit SHA with the version in a comment", () => {
  for (const w of WORKFLOWS) {
    const uses = read(w).split("\n").filter((l) => /^\s*-?\s*uses:/.test(l));
    assert.ok(uses.length > 0, w);
    for (const line of uses) {
      assert.match(
        line,
        /uses: [\w.-]+\/[\w./-]+@[0-9a-f]{40} # v\d+\.\d+\.\d+$/,
        `${w}: ${line.trim()}`,
      );
    }
  }
});

Deno.test("the release workflow: test, then a read-only build matrix, then one publish job", () => {
  const r = workflow(".github/workflows/release.yml");
  assert.deepEqual(r.on, { push: { tags: ["v*"] }, workflow_dispatch: null });
  assert.deepEqual(r.permissions, { contents: "read" });
  assert.deepEqual(Object.keys(r.jobs), ["test", "build", "publish"]);
  const { test, build, publish } = r.jobs;
  assert.deepEqual(test.permissions, { contents: "read" });
  assert.equal(build.needs, "test");
  assert.deepEqual(build.permissions, { contents: "read" });
  assert.deepEqual(publish.permissions, {
    contents: "write",
    "id-token": "write",
    attestations: "write",
  });
  assert.equal(publish.needs, "build");
  assert.equal(publish.if, "startsWith(github.ref, 'refs/tags/v')");
  const runs = (job: Workflow["jobs"][string]) =>
    job.steps.map((s) => s.run ?? "").join("\n");
  assert.match(runs(test), /\.ci\/run/);
  assert.match(runs(build), /deno task compile/);
  assert.match(runs(build), /\.ci\/smoke dist\/landlockd/);
  assert.ok(
    build.steps.some((s) => s.uses?.startsWith("actions/upload-artifact@")),
    "workflow_dispatch keeps the binaries as artifacts",
  );
  assert.match(runs(publish), /"\$TAG" != "v\$\{version\}"/);
  assert.match(runs(publish), /sha256sum .* >SHA256SUMS/);
  assert.ok(
    publish.steps.some((s) =>
      s.uses?.startsWith("actions/attest-build-provenance@")
    ),
  );
  assert.equal(runs(publish).match(/gh release/g)?.length, 1);
  assert.match(runs(publish), /gh release create .*SHA256SUMS/s);
});

Deno.test("ci.yml checks formatting, lint, the tests and the compiled binary", () => {
  const c = workflow(".github/workflows/ci.yml");
  assert.deepEqual(Object.keys(c.on), ["push", "pull_request"]);
  assert.deepEqual(c.permissions, { contents: "read" });
  const all = Object.values(c.jobs).flatMap((j) => j.steps)
    .map((s) => s.run ?? "").join("\n");
  for (
    const cmd of [
      "deno fmt --check",
      "deno lint",
      ".ci/run",
      "deno task compile",
      ".ci/smoke dist/landlockd",
    ]
  ) {
    assert.ok(all.includes(cmd), cmd);
  }
});

/** Every `run:` of the workflows and action.yml, named for messages. */
function runBlocks(): [string, string][] {
  const out: [string, string][] = [];
  for (const w of WORKFLOWS) {
    for (const [id, job] of Object.entries(workflow(w).jobs)) {
      job.steps.forEach((s, i) => {
        if (s.run) out.push([`${w} ${id} step ${i}`, s.run]);
      });
    }
  }
  const action = parse(read("action.yml"));
  action.runs.steps.forEach((s: { run: string }, i: number) =>
    out.push([`action.yml step ${i}`, s.run])
  );
  return out;
}

Deno.test("no run: block expands ${{ }} expressions (they go through env:)", () => {
  for (const [name, script] of runBlocks()) {
    assert.doesNotMatch(script, /\$\{\{/, name);
  }
});

const SHELLCHECK = (() => {
  try {
    return new Deno.Command("shellcheck", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `shellcheck passes the action's scripts, .ci/ and every run: block${
    SHELLCHECK
      ? ""
      : " (ignored: shellcheck is not installed; .ci/run installs it)"
  }`,
  ignore: !SHELLCHECK,
  fn: async () => {
    const dir = tempDir("shellcheck-");
    const files = ["action/setup.sh", "action/run.sh", ".ci/run", ".ci/smoke"]
      .map((f) => `${ROOT}${f}`);
    runBlocks().forEach(([name, script], i) => {
      const f = `${dir}/${i}.sh`;
      // The runner's shell: bash -e {0}; name the block for messages.
      Deno.writeTextFileSync(f, `#!/usr/bin/env bash\n# ${name}\n${script}`);
      files.push(f);
    });
    const out = await new Deno.Command("shellcheck", {
      args: ["--shell=bash", "--severity=style", ...files],
    }).output();
    assert.equal(
      out.code,
      0,
      new TextDecoder().decode(out.stdout) +
        new TextDecoder().decode(out.stderr),
    );
  },
});

const NPM = (() => {
  try {
    return new Deno.Command("npm", { args: ["--version"] }).outputSync()
      .success;
  } catch {
    return false;
  }
})();

Deno.test({
  name: `the README snippet installs with npm ci under ci-default, in a copy${
    NPM ? "" : " (ignored: npm is not installed)"
  }`,
  ignore: !NPM,
  fn: async () => {
    const snippet = parse(readmeSnippet()) as {
      steps: { uses: string; with?: Record<string, string> }[];
    };
    const step = snippet.steps.find((s) =>
      s.uses.startsWith("landlockd/landlockd@")
    );
    assert.ok(step?.with, "the snippet has no landlockd step");
    const ref = step.uses.split("@")[1];

    // A release of the stand-in binary for the snippet's ref.
    const releases = tempDir("releases-");
    Deno.mkdirSync(`${releases}/${ref}`);
    const standIn =
      `#!/bin/sh\nexec ${Deno.execPath()} run --allow-all --quiet ${RUN_ROOT}main.ts "$@"\n`;
    Deno.writeTextFileSync(
      `${releases}/${ref}/landlockd-x86_64-linux`,
      standIn,
    );
    const sums = await new Deno.Command("sha256sum", {
      args: ["landlockd-x86_64-linux"],
      cwd: `${releases}/${ref}`,
    }).output();
    Deno.writeFileSync(`${releases}/${ref}/SHA256SUMS`, sums.stdout);
    const server = Deno.serve(
      { hostname: "127.0.0.1", port: 0, onListen() {} },
      async (req) => {
        try {
          return new Response(
            await Deno.readFile(`${releases}${new URL(req.url).pathname}`),
          );
        } catch {
          return new Response("not found", { status: 404 });
        }
      },
    );
    try {
      // A checkout with one dependency from a local tarball (no network).
      const job = newJob(tempDir("job-"));
      const work = `${job.dir}/work`;
      Deno.mkdirSync(`${work}/dep`);
      Deno.writeTextFileSync(
        `${work}/dep/package.json`,
        '{"name":"dep","version":"1.0.0"}',
      );
      const pack = await new Deno.Command("npm", {
        args: ["pack", "--silent", "./dep"],
        cwd: work,
      }).output();
      assert.equal(pack.code, 0, new TextDecoder().decode(pack.stderr));
      Deno.removeSync(`${work}/dep`, { recursive: true });
      Deno.writeTextFileSync(
        `${work}/package.json`,
        '{"name":"app","version":"1.0.0","dependencies":{"dep":"file:dep-1.0.0.tgz"}}',
      );
      Deno.writeTextFileSync(
        `${work}/package-lock.json`,
        JSON.stringify({
          name: "app",
          version: "1.0.0",
          lockfileVersion: 3,
          requires: true,
          packages: {
            "": {
              name: "app",
              version: "1.0.0",
              dependencies: { dep: "file:dep-1.0.0.tgz" },
            },
            "node_modules/dep": {
              version: "1.0.0",
              resolved: "file:dep-1.0.0.tgz",
            },
          },
        }),
      );
      chownTree(job.dir);
      const r = await runAction(job, step.with, {
        ref,
        env: {
          LANDLOCKD_DOWNLOAD_URL: `http://127.0.0.1:${server.addr.port}`,
          npm_config_audit: "false",
          npm_config_fund: "false",
          npm_config_update_notifier: "false",
        },
      });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      assert.equal(r.outputs.setup.version, ref);
      assert.match(r.stdout, /added 1 package/);
      assert.deepEqual(
        [...Deno.readDirSync(work)].map((e) => e.name).sort(),
        ["dep-1.0.0.tgz", "package-lock.json", "package.json"],
        "the checkout is unchanged",
      );
    } finally {
      await server.shutdown();
    }
  },
});
