/**
 * Self-rewrite and policy-file rewrite (issue 10, item 3): nothing a
 * sandboxed command can write may decide how a later run is sandboxed.
 * `run` refuses, before anything starts, a policy that lets the command
 * change landlockd's own files (source tree, node_modules/, ffi/build/),
 * Deno's cache, or the policy file, naming the rule; a named policy that
 * shadows another is read with a warning naming the file.
 */
import assert from "node:assert/strict";
import {
  type As,
  chownTree,
  landlockd,
  NOBODY_HOME,
  policyFile,
  type Result,
  RUN_ROOT,
  tempDir,
  USERS,
} from "../helpers.ts";
import { writesOnly } from "./selftrust_helpers.ts";
import { copyTree } from "../shared_copy.ts";
import { testAtAbi } from "../fresh_needs.ts";

/** A directory outside /tmp and /var/tmp (ci-default cannot write it). */
function victimDir(as: As): string {
  const dir = Deno.makeTempDirSync({
    dir: "/dev/shm",
    prefix: "landlockd-selftrust-",
  });
  Deno.chmodSync(dir, 0o755);
  if (as === "nobody") Deno.chownSync(dir, 65534, 65534);
  globalThis.addEventListener("unload", () => {
    try {
      Deno.removeSync(dir, { recursive: true });
    } catch {
      // best effort
    }
  });
  return dir;
}

/** A copy of landlockd under /tmp, as a user's clone there would be. */
function cloneUnderTmp(as: As): string {
  const clone = `${tempDir()}/landlockd`;
  copyTree(RUN_ROOT, clone);
  if (as === "nobody") {
    new Deno.Command("chown", { args: ["-R", "65534:65534", clone] })
      .outputSync();
  }
  return clone;
}

/** stderr without Deno's first-use `Download`/`Initialize` lines. */
function ours(stderr: string): string {
  return stderr.replace(/^(Download|Initialize) .*\n/gm, "");
}

/** `deno run CLONE/main.ts ARGS` as `as`. */
async function fromClone(
  clone: string,
  args: string[],
  as: As,
): Promise<Result> {
  const env: Record<string, string> = {
    PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
    NO_COLOR: "1",
    HOME: as === "nobody" ? NOBODY_HOME : Deno.env.get("HOME") ?? "/root",
  };
  let argv = [
    Deno.execPath(),
    "run",
    "--allow-all",
    `${clone}/main.ts`,
    ...args,
  ];
  if (as === "nobody") {
    Deno.mkdirSync(NOBODY_HOME, { recursive: true });
    Deno.chownSync(NOBODY_HOME, 65534, 65534);
    env.DENO_DIR = `${NOBODY_HOME}/deno`;
    argv = [
      "setpriv",
      "--reuid=nobody",
      "--regid=nogroup",
      "--clear-groups",
      "--",
      ...argv,
    ];
  } else if (Deno.env.get("DENO_DIR")) {
    env.DENO_DIR = Deno.env.get("DENO_DIR")!;
  }
  const out = await new Deno.Command(argv[0], {
    args: argv.slice(1),
    env,
    clearEnv: true,
    cwd: "/",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: ours(dec.decode(out.stderr)),
  };
}

for (const as of USERS) {
  Deno.test(`[${as}] ci-default from a clone under /tmp is refused before the command can rewrite landlockd`, async () => {
    const clone = cloneUnderTmp(as);
    const victim = victimDir(as);
    const builtIn = Deno.readTextFileSync(`${clone}/policies/ci-default.toml`);
    const expected =
      `landlockd: policy "ci-default" (built in):23: fs_layer[0].rule[1].allowed_access: "write_file" on "/tmp" lets the command change landlockd's source tree (its modules and ffi/build/), "${clone}", and a later run would trust what it wrote there; run landlockd from a directory this policy cannot write\n`;

    // Before the fix, run 1 printed "rewrote" and run 2 wrote the victim.
    const rewrite = await fromClone(clone, [
      "run",
      "--policy",
      "ci-default",
      "--",
      "sh",
      `${RUN_ROOT}tests/attacks/selftrust_rewrite_self.sh`,
      clone,
    ], as);
    assert.equal(rewrite.code, 125, rewrite.stderr);
    assert.equal(rewrite.stdout, "");
    assert.equal(rewrite.stderr, expected);
    assert.equal(
      Deno.readTextFileSync(`${clone}/policies/ci-default.toml`),
      builtIn,
    );

    const escape = await fromClone(clone, [
      "run",
      "--policy",
      "ci-default",
      "--",
      "sh",
      "-c",
      `echo escaped > ${victim}/f`,
    ], as);
    assert.equal(escape.code, 125);
    assert.equal(escape.stderr, expected);
    assert.throws(() => Deno.statSync(`${victim}/f`), Deno.errors.NotFound);

    // The allowed counterpart: the same clone under a policy that writes
    // only somewhere else runs normally.
    const ok = await fromClone(clone, [
      "run",
      "--policy-file",
      writesOnly(victim),
      "--",
      "sh",
      "-c",
      `echo fine > ${victim}/ok && cat ${victim}/ok`,
    ], as);
    assert.equal(ok.stderr, "");
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, "fine\n");
  });

  Deno.test(`[${as}] a policy that lets the command rewrite a file it extends is refused`, async () => {
    // The base lies in a directory the merged policy can write; the
    // extending file lies where it cannot.
    const writable = tempDir();
    chownTree(writable);
    const base = writesOnly(writable, writable);
    const top = policyFile(`extends = "${base}"\n`, victimDir(as));
    const r = await landlockd(
      ["run", "--policy-file", top, "--", "sh", "-c", `echo x >> ${base}`],
      { as },
    );
    assert.equal(r.code, 125, r.stderr);
    assert.equal(r.stdout, "");
    assert.match(
      ours(r.stderr),
      new RegExp(
        `"write_file" on "${writable}" lets the command change a policy file it extends, "${base}", and a later run would trust what it wrote there`,
      ),
    );
    assert.ok(!Deno.readTextFileSync(base).endsWith("x\n"));

    // The allowed counterpart: the same base kept out of reach runs.
    const safeBase = writesOnly(writable, victimDir(as));
    const ok = await landlockd(
      [
        "run",
        "--policy-file",
        policyFile(`extends = "${safeBase}"\n`, victimDir(as)),
        "--",
        "true",
      ],
      { as },
    );
    assert.equal(ok.code, 0, ok.stderr);
  });

  Deno.test(`[${as}] a policy that lets the command rewrite the policy file itself is refused`, async () => {
    const dir = tempDir();
    chownTree(dir);
    const file = writesOnly(dir, dir);
    const r = await landlockd(
      ["run", "--policy-file", file, "--", "sh", "-c", `echo x >> ${file}`],
      { as },
    );
    assert.equal(r.code, 125);
    assert.equal(r.stdout, "");
    assert.equal(
      ours(r.stderr),
      `landlockd: ${file}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${dir}" lets the command change this policy file, "${file}", and a later run would trust what it wrote there; keep the policy where the policy itself cannot write\n`,
    );
    assert.ok(!Deno.readTextFileSync(file).endsWith("x\n"));

    // Through the broker: allow_write on the policy file.
    const brokered = policyFile(
      Deno.readTextFileSync(writesOnly(victimDir(as))) +
        `[broker]\nallow_write = ["${dir}/policy.toml"]\n`,
      dir,
    );
    const b = await landlockd(
      ["run", "--policy-file", brokered, "--", "true"],
      {
        as,
      },
    );
    assert.equal(b.code, 125);
    assert.equal(
      ours(b.stderr),
      `landlockd: ${brokered}:14: broker.allow_write[0]: the broker's allow_write "${dir}/policy.toml" lets the command change this policy file, "${brokered}", and a later run would trust what it wrote there; keep the policy where the policy itself cannot write\n`,
    );

    // The allowed counterpart: the same policy kept elsewhere runs.
    const elsewhere = writesOnly(dir);
    const ok = await landlockd(
      [
        "run",
        "--policy-file",
        elsewhere,
        "--",
        "sh",
        "-c",
        `echo y > ${dir}/y`,
      ],
      { as },
    );
    assert.equal(ours(ok.stderr), "");
    assert.equal(ok.code, 0);
  });

  Deno.test(`[${as}] a policy that can write the Deno cache landlockd loads from is refused`, async () => {
    const home = tempDir();
    const denoDir = `${home}/deno`;
    Deno.mkdirSync(denoDir);
    chownTree(home);
    const file = writesOnly(home);
    const r = await landlockd(
      ["run", "--policy-file", file, "--", "true"],
      { as, env: { DENO_DIR: denoDir } },
    );
    assert.equal(r.code, 125);
    assert.equal(
      ours(r.stderr),
      `landlockd: ${file}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${home}" lets the command change Deno's cache (DENO_DIR), which the next start loads code from, "${denoDir}", and a later run would trust what it wrote there; set DENO_DIR to a directory this policy cannot write
`,
    );
  });

  Deno.test(`[${as}] a writable bind mount of landlockd under a writable directory is refused`, async () => {
    const dir = tempDir();
    Deno.mkdirSync(`${dir}/ll`);
    chownTree(dir);
    const root = RUN_ROOT.replace(/\/$/, "");
    const file = policyFile(
      Deno.readTextFileSync(writesOnly(dir)) +
        `[mount]\nbind = [{ source = "${root}", target = "${dir}/ll" }]\n`,
    );
    const r = await landlockd(["run", "--policy-file", file, "--", "true"], {
      as,
    });
    assert.equal(r.code, 125);
    assert.equal(
      ours(r.stderr),
      `landlockd: ${file}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${dir}" lets the command change landlockd's source tree (its modules and ffi/build/), "${root}" through the bind mount of "${root}" on "${dir}/ll", and a later run would trust what it wrote there; run landlockd from a directory this policy cannot write\n`,
    );
  });

  Deno.test(`[${as}] a named policy in the user's directory that lets the command rewrite it is refused`, async () => {
    const config = tempDir();
    const dir = `${config}/landlockd/policies`;
    Deno.mkdirSync(dir, { recursive: true });
    const file = `${dir}/selftrust.toml`;
    Deno.writeTextFileSync(file, Deno.readTextFileSync(writesOnly(config)));
    chownTree(config);
    const r = await landlockd(["run", "--policy", "selftrust", "--", "true"], {
      as,
      env: { XDG_CONFIG_HOME: config },
    });
    assert.equal(r.code, 125);
    assert.equal(
      ours(r.stderr),
      `landlockd: ${file}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${config}" lets the command change this policy file, "${file}", and a later run would trust what it wrote there; keep the policy where the policy itself cannot write\n`,
    );
  });

  Deno.test(`[${as}] a policy that can plant the default daemon socket is refused`, async () => {
    const runtime = tempDir();
    chownTree(runtime);
    const file = writesOnly(runtime);
    const r = await landlockd(
      ["run", "--policy-file", file, "--", "true"],
      { as, env: { XDG_RUNTIME_DIR: runtime } },
    );
    assert.equal(r.code, 125);
    assert.equal(
      ours(r.stderr),
      `landlockd: ${file}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${runtime}" lets the command change the default daemon socket, "${runtime}/landlockd.sock" (not there yet: its directory "${runtime}"), and a later run would trust what it wrote there; keep $XDG_RUNTIME_DIR out of what the policy may write\n`,
    );
  });

  testAtAbi(
    3,
    "truncate (ci-default)",
    `[${as}] a named policy planted in the user's policy directory is read with a warning naming it`,
    async () => {
      const config = tempDir();
      chownTree(config);
      const planted = `${config}/landlockd/policies/ci-default.toml`;
      const env = { XDG_CONFIG_HOME: config };
      // Run 1: a command that may write its config directory plants a
      // ci-default that restricts nothing but reading.
      const plant = await landlockd([
        "run",
        "--policy-file",
        writesOnly(config),
        "--",
        "sh",
        "-c",
        `mkdir -p ${config}/landlockd/policies && printf 'version = 1\\n[[fs_layer]]\\nhandled_access_fs = ["read_file"]\\n  [[fs_layer.rule]]\\n  path = "/"\\n  allowed_access = ["read_file"]\\n' > ${planted}`,
      ], { as, env });
      assert.equal(plant.code, 0, plant.stderr);

      const r = await landlockd(
        ["run", "--policy", "ci-default", "--", "true"],
        { as, env },
      );
      assert.equal(r.code, 0);
      assert.equal(
        ours(r.stderr),
        `landlockd: warning: policy "ci-default" is read from "${planted}", which shadows the built-in one; check that file: whoever can write its directory chooses this policy\n`,
      );

      // The allowed counterpart: without the planted file, no warning.
      Deno.removeSync(planted);
      const clean = await landlockd(
        ["run", "--policy", "ci-default", "--", "true"],
        { as, env },
      );
      assert.equal(clean.code, 0);
      assert.equal(ours(clean.stderr), "");
    },
  );
}

for (const as of USERS) {
  Deno.test(`[${as}] the daemon refuses a policy that lets the command change the daemon's own files`, async () => {
    const { startDaemon } = await import("../daemon_helpers.ts");
    const d = await startDaemon({ as });
    try {
      const build = `${RUN_ROOT}ffi/build`;
      const policy = writesOnly(build);
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        policy,
        "--",
        "sh",
        "-c",
        `echo x > ${build}/selftrust-planted`,
      ], { as });
      assert.throws(
        () => Deno.statSync(`${build}/selftrust-planted`),
        Deno.errors.NotFound,
      );
      assert.equal(r.code, 125);
      assert.equal(r.stdout, "");
      assert.equal(
        ours(r.stderr),
        `landlockd: ${policy}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${build}" lets the command change landlockd's source tree (its modules and ffi/build/), "${
          RUN_ROOT.replace(/\/$/, "")
        }", and a later run would trust what it wrote there; run landlockd from a directory this policy cannot write\n`,
      );

      // The allowed counterpart: a policy that writes elsewhere runs.
      const dir = tempDir();
      chownTree(dir);
      const ok = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        writesOnly(dir),
        "--",
        "sh",
        "-c",
        `echo y > ${dir}/y`,
      ], { as });
      assert.equal(ours(ok.stderr), "");
      assert.equal(ok.code, 0);
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  });
}
