/**
 * Attacks on what `landlockd learn` writes, made by the command it learns
 * from (learn_plant.sh):
 * - a file name holding a newline and a TOML rule, read by the command, so
 *   that its evidence comment would end and the rest become a rule
 *   (before the fix the learned policy let the command read /etc/shadow);
 * - the output path replaced by a symlink to a victim while the command runs
 *   (under a --base that lets it write there).
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { testAtAbi } from "../fresh_needs.ts";
import {
  chownTree,
  landlockd,
  outsideTmpDir,
  ROOT,
  USERS,
} from "../helpers.ts";

const PATH = "/usr/local/bin:/usr/bin:/bin";

/** The attack script, copied where every test user can run it. */
function script(): string {
  const dir = outsideTmpDir();
  Deno.copyFileSync(
    `${ROOT}tests/attacks/learn_plant.sh`,
    `${dir}/learn_plant.sh`,
  );
  Deno.chmodSync(`${dir}/learn_plant.sh`, 0o755);
  return `${dir}/learn_plant.sh`;
}

for (const as of USERS) {
  testAtAbi(
    4,
    "the learned [net] (TCP handled)",
    `[${as}] learn: a file name with a newline cannot add a rule to the learned policy`,
    async () => {
      const sh = script();
      const planted = outsideTmpDir();
      const out = outsideTmpDir();
      const work = outsideTmpDir();
      if (as === "nobody") [planted, out, work].forEach(chownTree);
      // The attacker's earlier, unrelated run leaves the file.
      const plant = new Deno.Command(sh, { args: ["plant", planted] })
        .outputSync();
      assert.ok(plant.success, new TextDecoder().decode(plant.stderr));
      if (as === "nobody") chownTree(planted);

      const policy = `${out}/learned.toml`;
      const r = await landlockd(
        ["learn", "-o", policy, "--", sh, "read", planted],
        { as, cwd: work, env: { PATH } },
      );
      assert.equal(r.code, 0, r.stderr);
      const text = Deno.readTextFileSync(policy);
      const doc = parse(text) as {
        fs_layer: { rule: { path: string; allowed_access: string[] }[] }[];
      };
      const rules = doc.fs_layer[0].rule;
      assert.ok(!rules.some((x) => x.path === "/etc/shadow"), text);
      // The planted file's rule is the file itself, read only.
      const own = rules.find((x) => x.path.startsWith(`${planted}/x\n`));
      assert.deepEqual(own?.allowed_access, ["read_file"], text);

      // And the policy still refuses what the run never did: reading
      // /etc/shadow (as root only Landlock can refuse it), writing elsewhere.
      const shadow = await landlockd([
        "run",
        "--policy-file",
        policy,
        "--",
        "/bin/sh",
        "-c",
        "cat /etc/shadow",
      ], { as, cwd: work, env: { PATH } });
      assert.notEqual(shadow.code, 0);
      assert.match(shadow.stderr, /Permission denied/);
      const victim = `${out}/victim.txt`;
      Deno.writeTextFileSync(victim, "untouched\n");
      if (as === "nobody") chownTree(victim);
      const denied = await landlockd([
        "run",
        "--policy-file",
        policy,
        "--",
        "/bin/sh",
        "-c",
        `echo x >> "${victim}"`,
      ], { as, cwd: work, env: { PATH } });
      assert.notEqual(denied.code, 0);
      assert.match(denied.stderr, /Permission denied/);
      assert.equal(Deno.readTextFileSync(victim), "untouched\n");
    },
  );
}

testAtAbi(
  3,
  "truncate (ci-default)",
  "learn: an output path the command replaces by a symlink is never written through",
  async () => {
    const sh = script();
    // ci-default lets the command write /tmp: the output goes there.
    const outDir = Deno.makeTempDirSync({ prefix: "landlockd-learn-out-" });
    const victimDir = outsideTmpDir();
    const victim = `${victimDir}/victim.txt`;
    Deno.writeTextFileSync(victim, "untouched\n");
    const out = `${outDir}/learned.toml`;
    try {
      const refused = await landlockd(
        [
          "learn",
          "--base",
          "ci-default",
          "-o",
          out,
          "--",
          sh,
          "link",
          out,
          victim,
        ],
        { cwd: victimDir, env: { PATH } },
      );
      assert.equal(refused.code, 125, refused.stderr);
      assert.match(refused.stderr, /exists; add --force to replace it/);
      assert.equal(Deno.readTextFileSync(victim), "untouched\n");
      assert.ok(Deno.lstatSync(out).isSymlink);

      Deno.removeSync(out);
      const forced = await landlockd(
        [
          "learn",
          "--force",
          "--base",
          "ci-default",
          "-o",
          out,
          "--",
          sh,
          "link",
          out,
          victim,
        ],
        { cwd: victimDir, env: { PATH } },
      );
      assert.equal(forced.code, 0, forced.stderr);
      // The symlink itself was replaced; its target is untouched.
      assert.equal(Deno.readTextFileSync(victim), "untouched\n");
      assert.ok(!Deno.lstatSync(out).isSymlink);
      assert.match(Deno.readTextFileSync(out), /^extends = "ci-default"$/m);
    } finally {
      Deno.removeSync(outDir, { recursive: true });
    }
  },
);
