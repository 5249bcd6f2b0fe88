/**
 * What the client of `run --socket` trusts on its next start: the policy
 * file it read and the files it extends, its own landlockd tree, and its
 * Deno cache (DENO_DIR). The daemon refused only plans that could write its
 * own files, never knowing the client's: a sandbox started through the
 * daemon rewrote its own policy file (the next run, direct or not, applied
 * what it wrote) or planted code in the client's DENO_DIR. The client now
 * sends what it trusts, and the daemon refuses such a plan as a direct run
 * would.
 */
import assert from "node:assert/strict";
import {
  chownTree,
  landlockd,
  policyFile,
  tempDir,
  USERS,
} from "../helpers.ts";
import { writesOnly } from "./selftrust_helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";

/** A policy that lets the next run write anything. */
const WEAK = `version = 1
[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute"]
`;

/** stderr without Deno's first-use `Download`/`Initialize` lines. */
function ours(stderr: string): string {
  return stderr.replace(/^(Download|Initialize) .*\n/gm, "");
}

for (const as of USERS) {
  Deno.test(`[${as}] through the daemon, a command cannot rewrite its own policy file`, async () => {
    const d = await startDaemon({ as });
    try {
      const dir = tempDir();
      const policy = writesOnly(dir, dir);
      chownTree(dir);
      const before = Deno.readTextFileSync(policy);
      // Before the fix: exit 0, and the file held WEAK.
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        policy,
        "--",
        "sh",
        "-c",
        `printf '${WEAK.replaceAll("\n", "\\n")}' > ${policy}`,
      ], { as });
      assert.equal(Deno.readTextFileSync(policy), before);
      assert.equal(r.code, 125, r.stderr);
      assert.equal(r.stdout, "");
      assert.equal(
        ours(r.stderr),
        `landlockd: ${policy}:9: fs_layer[0].rule[1].allowed_access: "write_file" on "${dir}" lets the command change this policy file, "${policy}", and a later run would trust what it wrote there; keep the policy where the policy itself cannot write\n`,
      );

      // The allowed counterpart: the policy kept elsewhere runs.
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
      assert.equal(Deno.readTextFileSync(`${dir}/y`), "y\n");
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  });

  Deno.test(`[${as}] through the daemon, a command cannot rewrite a policy file its policy extends`, async () => {
    const d = await startDaemon({ as });
    try {
      // The base lies where the merged policy can write; the top does not.
      const writable = tempDir();
      const base = writesOnly(writable, writable);
      chownTree(writable);
      const top = policyFile(`extends = "${base}"\n`);
      const before = Deno.readTextFileSync(base);
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        top,
        "--",
        "sh",
        "-c",
        `echo '[env]' >> ${base}`,
      ], { as });
      assert.equal(Deno.readTextFileSync(base), before);
      assert.equal(r.code, 125, r.stderr);
      assert.match(
        ours(r.stderr),
        new RegExp(
          `"write_file" on "${writable}" lets the command change a policy file it extends, "${base}", and a later run would trust what it wrote there`,
        ),
      );
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  });

  Deno.test(`[${as}] through the daemon, a command cannot write the client's DENO_DIR`, async () => {
    const d = await startDaemon({ as });
    try {
      // The client's cache differs from the daemon's (as a root daemon's
      // from its users'): only the client knows it.
      const home = tempDir();
      chownTree(home);
      const env = { DENO_DIR: `${home}/deno` };
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        writesOnly(home),
        "--",
        "sh",
        "-c",
        `echo planted > ${home}/deno/planted`,
      ], { as, env });
      assert.throws(
        () => Deno.statSync(`${home}/deno/planted`),
        Deno.errors.NotFound,
      );
      assert.equal(r.code, 125, r.stderr);
      assert.match(
        ours(r.stderr),
        new RegExp(
          `"write_file" on "${home}" lets the command change Deno's cache \\(DENO_DIR\\), which the next start loads code from, "${home}/deno", and a later run would trust what it wrote there; set DENO_DIR to a directory this policy cannot write\n$`,
        ),
      );

      // The allowed counterpart: the same cache, a policy writing elsewhere.
      const other = tempDir();
      chownTree(other);
      const ok = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        writesOnly(other),
        "--",
        "sh",
        "-c",
        `echo y > ${other}/y`,
      ], { as, env });
      assert.equal(ours(ok.stderr), "");
      assert.equal(ok.code, 0);
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  });
}

Deno.test({
  name:
    "through the library API, a command cannot write the calling process's DENO_DIR",
  sanitizeOps: false,
  sanitizeResources: false,
  async fn() {
    const { connect, DaemonError } = await import("../../mod.ts");
    const d = await startDaemon();
    const was = Deno.env.get("DENO_DIR");
    const client = await connect(d.socket);
    try {
      // This process's cache (where a library from a registry lives).
      const home = tempDir();
      Deno.env.set("DENO_DIR", `${home}/deno`);
      const policy = Deno.readTextFileSync(writesOnly(home));
      await assert.rejects(
        client.run({
          policy,
          argv: ["sh", "-c", `echo planted > ${home}/deno/planted`],
        }),
        (e: InstanceType<typeof DaemonError>) =>
          e.exitCode === 125 &&
          e.message.includes(
            `lets the command change Deno's cache (DENO_DIR), which the next start loads code from, "${home}/deno"`,
          ),
      );
      assert.throws(
        () => Deno.statSync(`${home}/deno/planted`),
        Deno.errors.NotFound,
      );
      // The allowed counterpart: the same policy, the cache elsewhere.
      Deno.env.set("DENO_DIR", `${tempDir()}/deno`);
      const ok = await client.run({
        policy,
        argv: ["sh", "-c", `echo y > ${home}/y`],
      });
      assert.equal(ok.code, 0, new TextDecoder().decode(ok.stderr));
    } finally {
      if (was === undefined) Deno.env.delete("DENO_DIR");
      else Deno.env.set("DENO_DIR", was);
      client.close();
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});
