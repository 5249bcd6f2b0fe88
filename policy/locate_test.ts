import assert from "node:assert/strict";
import { formatKeyPath, indexLines, lineOf } from "./locate.ts";

const DOC = `version = 1

[[fs_layer]]
handled_access_fs = ["read_file"]

  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = [
    "read_file",
  ]

[[fs_layer]]
handled_access_fs = ["execute"]
  [[fs_layer.rule]]
  path = "/bin"   # comment
  allowed_access = ["execute"]

[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = 80
  allowed_access = ["bind_tcp"]
`;

Deno.test("indexLines places keys under array-of-tables headers", () => {
  const idx = indexLines(DOC);
  assert.deepEqual(idx.get("version"), 1);
  assert.deepEqual(idx.get("fs_layer.0"), 3);
  assert.deepEqual(idx.get("fs_layer.0.rule.0.path"), 7);
  assert.deepEqual(idx.get("fs_layer.0.rule.0.allowed_access"), 8);
  assert.deepEqual(idx.get("fs_layer.1.handled_access_fs"), 13);
  assert.deepEqual(idx.get("fs_layer.1.rule.0.path"), 15);
  assert.deepEqual(idx.get("net.rule.0.port"), 21);
});

Deno.test("lineOf falls back to the nearest parent", () => {
  const idx = indexLines(DOC);
  assert.deepEqual(
    lineOf(idx, ["fs_layer", 0, "rule", 0, "allowed_access", 0]),
    8,
  );
  assert.deepEqual(lineOf(idx, ["fs_layer", 1, "nope"]), 12);
  assert.deepEqual(lineOf(idx, []), undefined);
});

Deno.test("formatKeyPath writes indices in brackets", () => {
  assert.deepEqual(
    formatKeyPath(["fs_layer", 0, "rule", 2, "path"]),
    "fs_layer[0].rule[2].path",
  );
  assert.deepEqual(formatKeyPath([]), "");
});
