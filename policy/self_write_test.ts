import assert from "node:assert/strict";
import {
  type ResolvedLayer,
  type ResolvedRule,
  type Target,
  writeGrant,
} from "./self_write.ts";
import type { FsRight } from "./rights.ts";

// A tiny tree of inode ids: / (r) → tmp (t) → clone (c) → clone/out (o);
// / → home (h).
const CHAINS: Record<string, string[]> = {
  "/": ["r"],
  "/tmp": ["t", "r"],
  "/tmp/clone": ["c", "t", "r"],
  "/tmp/clone/out": ["o", "c", "t", "r"],
  "/home": ["h", "r"],
};

function rule(key: string, path: string, access: FsRight[]): ResolvedRule {
  const chain = CHAINS[path];
  return { key, path, allowed_access: access, id: chain[0], chain };
}

function target(path: string, tree: boolean): Target {
  const chain = CHAINS[path];
  return { path, tree, id: chain[0], chain };
}

const clone = target("/tmp/clone", true);

Deno.test("a write right granted above the tree makes it writable", () => {
  const layers: ResolvedLayer[] = [{
    handled_access_fs: ["read_file", "write_file"],
    path_beneath: [
      rule("fs_layer[0].rule[0]", "/", ["read_file"]),
      rule("fs_layer[0].rule[1]", "/tmp", ["write_file"]),
    ],
  }];
  assert.deepEqual(writeGrant(clone, layers), {
    right: "write_file",
    key: ["fs_layer", 0, "rule", 1, "allowed_access"],
    path: "/tmp",
  });
  assert.equal(writeGrant(target("/home", true), layers), undefined);
});

Deno.test("a rule beneath a tree counts; beneath a single file it cannot", () => {
  const layers: ResolvedLayer[] = [{
    handled_access_fs: ["make_reg"],
    path_beneath: [rule("fs_layer[0].rule[0]", "/tmp/clone/out", ["make_reg"])],
  }];
  assert.equal(writeGrant(clone, layers)?.right, "make_reg");
  assert.equal(writeGrant(target("/tmp/clone", false), layers), undefined);
});

Deno.test("every layer that handles a right must grant it", () => {
  const layers: ResolvedLayer[] = [
    {
      handled_access_fs: ["write_file"],
      path_beneath: [rule("fs_layer[0].rule[0]", "/tmp", ["write_file"])],
    },
    {
      handled_access_fs: ["write_file"],
      path_beneath: [rule("fs_layer[1].rule[0]", "/home", ["write_file"])],
    },
  ];
  assert.equal(writeGrant(clone, layers), undefined);
  layers[1].path_beneath = [
    rule("fs_layer[1].rule[0]", "/tmp/clone/out", ["write_file"]),
  ];
  assert.deepEqual(writeGrant(clone, layers)?.key, [
    "fs_layer",
    1,
    "rule",
    0,
    "allowed_access",
  ]);
});

Deno.test("rights no layer handles are not refused (the policy restricts no writing)", () => {
  const layers: ResolvedLayer[] = [{
    handled_access_fs: ["read_file"],
    path_beneath: [rule("fs_layer[0].rule[0]", "/", ["read_file"])],
  }];
  assert.equal(writeGrant(clone, layers), undefined);
});

Deno.test("broker grants that write on the command's behalf count", () => {
  const scratch = {
    kind: "scratch",
    index: 0,
    ...target("/tmp", true),
  };
  assert.deepEqual(writeGrant(clone, [], [scratch]), {
    right: "scratch",
    key: ["broker", "scratch", 0],
    path: "/tmp",
  });
  const file = {
    kind: "allow_write",
    index: 2,
    ...target("/tmp/clone/out", false),
  };
  assert.equal(writeGrant(clone, [], [file])?.right, "allow_write");
  assert.equal(
    writeGrant(target("/home", true), [], [scratch, file]),
    undefined,
  );
});
