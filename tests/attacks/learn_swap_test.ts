/**
 * Red team: a learned rule that points somewhere the command never went.
 * The command writes a file in a directory that existed before the run
 * (that directory gets a rule), fills the observer's record so that what
 * follows is only counted, then replaces the directory with a symlink to
 * a secret directory. learn named the directory in a rule; `run` follows
 * the symlink when it builds the ruleset, so before the fix the learned
 * policy let the next run read and write the secret directory. Now a path
 * that is not its own real path when learn writes the policy gets no rule
 * (its rights go to the directory above, a real one).
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { testAtAbi } from "../fresh_needs.ts";
import {
  chownTree,
  landlockd,
  outsideTmpDir,
  python3,
  RUN_ROOT,
  USERS,
} from "../helpers.ts";

const ATTACK = `${RUN_ROOT}tests/attacks/learn_swap.py`;

for (const as of USERS) {
  testAtAbi(
    4,
    "the learned [net] (TCP handled)",
    `[${as}] learn: a directory swapped for a symlink after the record filled gets no rule`,
    async () => {
      const area = outsideTmpDir();
      const secret = outsideTmpDir();
      const work = outsideTmpDir();
      const out = outsideTmpDir();
      Deno.mkdirSync(`${area}/dir`);
      Deno.mkdirSync(`${area}/bulk`);
      Deno.writeTextFileSync(`${secret}/key`, "TOPSECRET\n");
      if (as === "nobody") [area, secret, work, out].forEach(chownTree);
      const policy = `${out}/learned.toml`;
      const r = await landlockd([
        "learn",
        "-o",
        policy,
        "--",
        python3(),
        ATTACK,
        `${area}/dir`,
        secret,
        `${area}/bulk`,
      ], { as, cwd: work });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(Deno.readLinkSync(`${area}/dir`), secret);
      const text = Deno.readTextFileSync(policy);
      assert.match(text, /# INCOMPLETE: the record was full/);
      const doc = parse(text) as {
        fs_layer: { rule: { path: string }[] }[];
      };
      const paths = doc.fs_layer.flatMap((l) => l.rule.map((x) => x.path));
      assert.ok(!paths.includes(`${area}/dir`), text);
      assert.ok(paths.includes(area), text);
      // The next run: neither the symlink nor the secret itself.
      const replay = await landlockd([
        "run",
        "--policy-file",
        policy,
        "--",
        "/bin/sh",
        "-c",
        `cat ${area}/dir/key; echo "dir $?"; echo x >> ${secret}/key; echo "secret $?"`,
      ], { as, cwd: work });
      assert.equal(replay.code, 0, replay.stderr);
      assert.equal(replay.stdout, "dir 1\nsecret 2\n", replay.stderr);
      assert.match(replay.stderr, /dir\/key: Permission denied/);
      assert.equal(Deno.readTextFileSync(`${secret}/key`), "TOPSECRET\n");
    },
  );
}
