/**
 * Attacks on the GitHub Action and the GitHub output:
 * - actions_tamper_release.sh swaps a release's binary; with `verify: false`
 *   the action installs the attacker's binary (the attack works), with the
 *   default it refuses it and puts nothing on PATH;
 * - actions_annotation_inject.toml hides a newline and a second workflow
 *   command in a key; `lint --format github` must print one line for it.
 */

import assert from "node:assert/strict";
import { landlockd, RUN_ROOT, tempDir } from "../helpers.ts";
import { newJob, runAction } from "../actions_runner.ts";

const HERE = new URL(".", import.meta.url).pathname;

async function release(tag: string): Promise<string> {
  const root = tempDir("releases-");
  Deno.mkdirSync(`${root}/${tag}`);
  const bin =
    `#!/bin/sh\nexec ${Deno.execPath()} run --allow-all --quiet ${RUN_ROOT}main.ts "$@"\n`;
  Deno.writeTextFileSync(`${root}/${tag}/landlockd-x86_64-linux`, bin);
  const sums = await new Deno.Command("sha256sum", {
    args: ["landlockd-x86_64-linux"],
    cwd: `${root}/${tag}`,
  }).output();
  Deno.writeFileSync(`${root}/${tag}/SHA256SUMS`, sums.stdout);
  return root;
}

function serve(root: string) {
  return Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      try {
        return new Response(
          await Deno.readFile(`${root}${new URL(req.url).pathname}`),
        );
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
}

Deno.test("a tampered release binary is refused unless verify is turned off", async () => {
  const root = await release("v0.1.0");
  const tamper = await new Deno.Command(`${HERE}actions_tamper_release.sh`, {
    args: [`${root}/v0.1.0`],
  }).output();
  assert.equal(tamper.code, 0);
  const server = serve(root);
  const env = {
    LANDLOCKD_DOWNLOAD_URL: `http://127.0.0.1:${server.addr.port}`,
  };
  try {
    // The attack works when nothing checks the download.
    const open = newJob(tempDir("job-"));
    const r = await runAction(open, { version: "v0.1.0", verify: "false" }, {
      env,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.match(
      r.stdout,
      /^::warning title=landlockd setup::verify is false/m,
    );
    const installed = await new Deno.Command(r.outputs.setup.path, {
      args: ["--version"],
    }).output();
    assert.equal(
      new TextDecoder().decode(installed.stdout),
      "pwned: --version\n",
    );

    // The default refuses it and leaves nothing behind.
    const job = newJob(tempDir("job-"));
    const refused = await runAction(job, { version: "v0.1.0" }, { env });
    assert.equal(refused.code, 1);
    assert.match(
      refused.stdout,
      /^::error title=landlockd setup::checksum mismatch for landlockd-x86_64-linux v0\.1\.0: SHA256SUMS says [0-9a-f]{64}, the download is [0-9a-f]{64}$/m,
    );
    assert.equal(Deno.readTextFileSync(job.env.GITHUB_PATH), "");
    assert.deepEqual([...Deno.readDirSync(`${job.dir}/tool-cache`)], []);
  } finally {
    await server.shutdown();
  }
});

Deno.test("a policy cannot inject a workflow command into lint's annotations", async () => {
  const r = await landlockd([
    "lint",
    "--format",
    "github",
    "--policy-file",
    `${HERE}actions_annotation_inject.toml`,
  ]);
  assert.equal(r.code, 1);
  const lines = r.stdout.split("\n").filter(Boolean);
  assert.equal(lines.length, 1, r.stdout);
  assert.match(
    lines[0],
    /^::error file=[^,]*,title=landlockd lint::x%0A::error title=forged::/,
  );
});
