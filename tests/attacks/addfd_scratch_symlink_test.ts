/**
 * Attack: `[[broker.addfd]] scratch_open` rules narrow opens beneath a
 * scratch root by path, but the broker opened scratch paths following
 * symlinks inside the root. With `ro` read-only and `rw` writable, the
 * sandbox plants `rw/l -> ../ro/victim` (or `rw/dl -> ../ro`) and opens the
 * link for writing: the path names `rw`, the write lands in `ro`. The same
 * with a hard link or a rename from `ro` into `rw`, or a directory renamed
 * over a rule's target. With narrowing that is not uniform over a root,
 * scratch opens now refuse symlinks (ELOOP), and links and renames between
 * places the rules treat differently, or across a rule's target, are
 * refused (EACCES). Root and nobody.
 */
import assert from "node:assert/strict";
import { assertProbe, chownTree, sandboxed, USERS } from "../helpers.ts";
import { testAtAbi } from "../fresh_needs.ts";
import { brokerPolicy, brokerTree } from "../broker_fixtures.ts";

function tree(): string {
  const d = brokerTree();
  Deno.mkdirSync(`${d}/scratch/ro`);
  Deno.mkdirSync(`${d}/scratch/rw`);
  Deno.writeTextFileSync(`${d}/scratch/ro/victim`, "INTACT\n");
  chownTree(d);
  return d;
}

const RULES = (s: string) =>
  `[[broker.addfd]]
action = "scratch_open"
target = "${s}/ro"
mode = "read"
[[broker.addfd]]
action = "scratch_open"
target = "${s}/rw"
mode = "write"
`;

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] a symlink in a writable scratch_open area cannot reach a read-only one`,
    async () => {
      const d = tree();
      const s = `${d}/scratch`;
      const r = await sandboxed(brokerPolicy(d, RULES(s)), [
        `${d}/bin/probe`,
        ...["create", `${s}/rw/new`, "write", `${s}/ro/victim`],
        ...["read", `${s}/ro/victim`],
        ...["symlink", "../ro/victim", `${s}/rw/l`, "write", `${s}/rw/l`],
        ...["symlink", "../ro", `${s}/rw/dl`, "write", `${s}/rw/dl/victim`],
      ], { as });
      assertProbe(r, {
        [`create ${s}/rw/new`]: "OK",
        [`write ${s}/ro/victim`]: "EACCES",
        [`read ${s}/ro/victim`]: "OK",
        [`symlink ${s}/rw/l`]: "OK",
        [`write ${s}/rw/l`]: "ELOOP",
        [`symlink ${s}/rw/dl`]: "OK",
        [`write ${s}/rw/dl/victim`]: "ELOOP",
      });
      assert.equal(Deno.readTextFileSync(`${s}/ro/victim`), "INTACT\n");
    },
  );
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] a hard link or rename cannot move read-only scratch_open content into a writable area`,
    async () => {
      const d = tree();
      const s = `${d}/scratch`;
      Deno.mkdirSync(`${s}/other`);
      Deno.writeTextFileSync(`${s}/other/f`, "OTHER\n");
      chownTree(d);
      const r = await sandboxed(brokerPolicy(d, RULES(s)), [
        `${d}/bin/probe`,
        ...["link", `${s}/ro/victim`, `${s}/rw/h`, "write", `${s}/rw/h`],
        ...["rename", `${s}/ro/victim`, `${s}/rw/v`, "write", `${s}/rw/v`],
        // a directory moved over a rule's target: rw would name it
        ...["mkdir", `${s}/ro/sub`, "rename", `${s}/rw`, `${s}/rw2`],
        ...["rename", `${s}/ro/sub`, `${s}/rw`],
        // the same class on both sides stays allowed
        ...["create", `${s}/rw/a`, "rename", `${s}/rw/a`, `${s}/rw/b`],
      ], { as });
      assertProbe(r, {
        [`link ${s}/ro/victim`]: "EACCES",
        [`write ${s}/rw/h`]: "ENOENT", // never made
        [`rename ${s}/ro/victim`]: "EACCES",
        [`write ${s}/rw/v`]: "ENOENT",
        [`mkdir ${s}/ro/sub`]: "OK",
        [`rename ${s}/rw`]: "EACCES",
        [`rename ${s}/ro/sub`]: "EACCES",
        [`create ${s}/rw/a`]: "OK",
        [`rename ${s}/rw/a`]: "OK",
      });
      assert.equal(Deno.readTextFileSync(`${s}/ro/victim`), "INTACT\n");
    },
  );
}
