/**
 * action.yml, run as the GitHub runner runs it (tests/actions_runner.ts),
 * against releases served from a local directory over HTTP. `deno compile`
 * cannot run here (PLATFORM.md), so the released "binary" is a stand-in:
 * a shell script that runs this checkout's main.ts, the same code.
 */

import assert from "node:assert/strict";
import { PROBE, RUN_ROOT, tempDir, USERS } from "./helpers.ts";
import { newJob, runAction } from "./actions_runner.ts";

const STAND_IN = `#!/bin/sh
exec ${Deno.execPath()} run --allow-all --quiet ${RUN_ROOT}main.ts "$@"
`;

async function sha256(text: string): Promise<string> {
  const digest = await crypto.subtle.digest(
    "SHA-256",
    new TextEncoder().encode(text),
  );
  return Array.from(
    new Uint8Array(digest),
    (b) => b.toString(16).padStart(2, "0"),
  )
    .join("");
}

/** v0.1.0 and latest: good; v0.2.0: SHA256SUMS does not match the binary. */
async function releases(): Promise<string> {
  const root = tempDir("releases-");
  const good = await sha256(STAND_IN);
  const wrong = await sha256("something else");
  const tags: Record<string, string> = {
    "v0.1.0": good,
    latest: good,
    "v0.2.0": wrong,
  };
  for (const [tag, digest] of Object.entries(tags)) {
    Deno.mkdirSync(`${root}/${tag}`);
    const sums = [];
    for (const arch of ["x86_64", "aarch64"]) {
      const asset = `landlockd-${arch}-linux`;
      Deno.writeTextFileSync(`${root}/${tag}/${asset}`, STAND_IN);
      sums.push(`${digest}  ${asset}\n`);
    }
    Deno.writeTextFileSync(`${root}/${tag}/SHA256SUMS`, sums.join(""));
  }
  return root;
}

/** Serves `root` on 127.0.0.1 and records every path requested. */
function serve(root: string) {
  const requests: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const path = new URL(req.url).pathname;
      requests.push(path);
      if (path.includes("..")) return new Response("no", { status: 400 });
      try {
        return new Response(await Deno.readFile(`${root}${path}`));
      } catch {
        return new Response("not found", { status: 404 });
      }
    },
  );
  return {
    requests,
    url: `http://127.0.0.1:${server.addr.port}`,
    close: () => server.shutdown(),
  };
}

function lines(path: string): string[] {
  return Deno.readTextFileSync(path).split("\n").filter(Boolean);
}

Deno.test("the action downloads, verifies, caches and reports landlockd", async (t) => {
  const server = serve(await releases());
  const env = { LANDLOCKD_DOWNLOAD_URL: server.url };
  try {
    const job = newJob(tempDir("job-"));
    const cache = `${job.dir}/tool-cache/landlockd/0.1.0/x86_64`;

    await t.step(
      "first use: downloads the binary and SHA256SUMS, puts it on PATH",
      async () => {
        const r = await runAction(job, { version: "v0.1.0" }, { env });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.deepEqual(server.requests, [
          "/v0.1.0/landlockd-x86_64-linux",
          "/v0.1.0/SHA256SUMS",
        ]);
        assert.deepEqual(lines(job.env.GITHUB_PATH), [cache]);
        assert.equal(r.outputs.setup.path, `${cache}/landlockd`);
        assert.equal(r.outputs.setup.version, "v0.1.0");
        assert.equal(r.outputs.setup["cache-hit"], "false");
        assert.equal(Deno.statSync(`${cache}/landlockd`).mode! & 0o777, 0o755);
        const summary = Deno.readTextFileSync(job.env.GITHUB_STEP_SUMMARY);
        assert.match(summary, /^### landlockd v0\.1\.0 \(x86_64\)$/m);
        assert.match(summary, /^kernel: Linux \S+$/m);
        assert.match(summary, /^Landlock ABI \d+/m);
        assert.match(summary, /^unprivileged user namespaces: /m);
      },
    );

    await t.step(
      "second use in the same job: no download, same path",
      async () => {
        const before = server.requests.length;
        const r = await runAction(job, { version: "0.1.0" }, { env });
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.equal(server.requests.length, before, "nothing downloaded");
        assert.equal(r.outputs.setup["cache-hit"], "true");
        assert.equal(r.outputs.setup.path, `${cache}/landlockd`);
      },
    );

    await t.step("a tampered cached binary fails the check", async () => {
      const tampered = newJob(tempDir("job-"));
      let r = await runAction(tampered, { version: "v0.1.0" }, { env });
      assert.equal(r.code, 0, r.stdout + r.stderr);
      Deno.writeTextFileSync(
        `${tampered.dir}/tool-cache/landlockd/0.1.0/x86_64/landlockd`,
        "#!/bin/sh\necho pwned\n",
      );
      Deno.writeTextFileSync(tampered.env.GITHUB_PATH, "");
      r = await runAction(tampered, { version: "v0.1.0" }, { env });
      assert.equal(r.code, 1);
      assert.match(
        r.stdout,
        /^::error title=landlockd setup::checksum mismatch/m,
      );
      assert.deepEqual(lines(tampered.env.GITHUB_PATH), []);
    });
  } finally {
    await server.close();
  }
});

Deno.test("a checksum mismatch fails, names both digests and leaves nothing on PATH", async () => {
  const server = serve(await releases());
  try {
    const job = newJob(tempDir("job-"));
    const r = await runAction(job, { version: "v0.2.0" }, {
      env: { LANDLOCKD_DOWNLOAD_URL: server.url },
    });
    assert.equal(r.code, 1);
    const good = await sha256(STAND_IN);
    const wrong = await sha256("something else");
    assert.ok(
      r.stdout.includes(
        `::error title=landlockd setup::checksum mismatch for landlockd-x86_64-linux v0.2.0: SHA256SUMS says ${wrong}, the download is ${good}`,
      ),
      r.stdout,
    );
    assert.deepEqual(lines(job.env.GITHUB_PATH), []);
    assert.equal(Deno.readTextFileSync(job.env.GITHUB_STEP_SUMMARY), "");
    assert.deepEqual([...Deno.readDirSync(`${job.dir}/tool-cache`)], []);
    assert.deepEqual(
      [...Deno.readDirSync(`${job.dir}/temp`)].map((e) => e.name),
      [
        "step-0.sh",
      ],
    );
  } finally {
    await server.close();
  }
});

Deno.test("ARM64 gets the aarch64 binary; an unknown architecture is a clear error", async () => {
  const server = serve(await releases());
  const env = { LANDLOCKD_DOWNLOAD_URL: server.url };
  try {
    const arm = newJob(tempDir("job-"), "ARM64");
    const r = await runAction(arm, { version: "v0.1.0", verify: "true" }, {
      env,
    });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(server.requests[0], "/v0.1.0/landlockd-aarch64-linux");
    assert.deepEqual(lines(arm.env.GITHUB_PATH), [
      `${arm.dir}/tool-cache/landlockd/0.1.0/aarch64`,
    ]);

    const before = server.requests.length;
    const odd = newJob(tempDir("job-"), "ARM");
    const bad = await runAction(odd, { version: "v0.1.0" }, { env });
    assert.equal(bad.code, 1);
    assert.match(
      bad.stdout,
      /^::error title=landlockd setup::no landlockd binary for RUNNER_ARCH "ARM"; expected X64 or ARM64$/m,
    );
    assert.equal(server.requests.length, before, "nothing downloaded");
    assert.deepEqual(lines(odd.env.GITHUB_PATH), []);
  } finally {
    await server.close();
  }
});

Deno.test("without a version the action installs latest and rechecks it on a second use", async () => {
  const server = serve(await releases());
  const env = { LANDLOCKD_DOWNLOAD_URL: server.url };
  try {
    const job = newJob(tempDir("job-"));
    let r = await runAction(job, {}, { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs.setup.version, "latest");
    r = await runAction(job, {}, { env });
    assert.equal(r.code, 0, r.stdout + r.stderr);
    assert.equal(r.outputs.setup["cache-hit"], "true");
    assert.deepEqual(server.requests, [
      "/latest/landlockd-x86_64-linux",
      "/latest/SHA256SUMS",
      "/latest/SHA256SUMS",
    ]);
  } finally {
    await server.close();
  }
});

for (const as of USERS) {
  Deno.test(`run + policy runs the command sandboxed in the same step (as ${as})`, async () => {
    const server = serve(await releases());
    try {
      const job = newJob(tempDir("job-"));
      const scratch = `/tmp/landlockd-actions-${as}-${crypto.randomUUID()}`;
      const denied = `/etc/landlockd-actions-${crypto.randomUUID()}`;
      const r = await runAction(job, {
        version: "v0.1.0",
        policy: "ci-default",
        run: `"$PROBE" create ${scratch} create ${denied}\necho done`,
      }, {
        as,
        env: { LANDLOCKD_DOWNLOAD_URL: server.url, PROBE },
      });
      try {
        assert.equal(r.code, 0, r.stdout + r.stderr);
        assert.match(r.stdout, new RegExp(`^create ${scratch}: OK$`, "m"));
        assert.match(r.stdout, new RegExp(`^create ${denied}: EACCES$`, "m"));
        assert.match(r.stdout, /^done$/m);
        assert.throws(() => Deno.statSync(denied), Deno.errors.NotFound);
        // landlockd saw GITHUB_ACTIONS=true and wrote its own summary.
        const summary = Deno.readTextFileSync(job.env.GITHUB_STEP_SUMMARY);
        assert.match(summary, /^### landlockd run$/m);
        assert.match(
          summary,
          /^\| Policy \| policy "ci-default" \(built in\) \|$/m,
        );
        assert.match(
          summary,
          /^\| Enforcement \| fully enforced \(Landlock ABI \d+\) \|$/m,
        );
        assert.match(summary, /^\| Exit status \| 0 \|$/m);
      } finally {
        try {
          Deno.removeSync(scratch);
        } catch {
          // the probe did not get to create it
        }
      }

      // A failing command fails the step with its status.
      const failing = await runAction(job, {
        version: "v0.1.0",
        policy: "ci-default",
        run: `echo no > ${denied}`,
      }, { as, env: { LANDLOCKD_DOWNLOAD_URL: server.url } });
      assert.equal(failing.code, 1);
      assert.match(failing.stderr, new RegExp(`${denied}: Permission denied`));
    } finally {
      await server.close();
    }
  });
}

Deno.test("run without a policy is refused before anything runs", async () => {
  const server = serve(await releases());
  try {
    const job = newJob(tempDir("job-"));
    const r = await runAction(job, { version: "v0.1.0", run: "true" }, {
      env: { LANDLOCKD_DOWNLOAD_URL: server.url },
    });
    assert.equal(r.code, 2);
    assert.match(
      r.stdout,
      /^::error title=landlockd run::the run input needs a policy input/m,
    );
  } finally {
    await server.close();
  }
});
