import assert from "node:assert/strict";
import { isBeneath, parentOf } from "./paths.ts";

Deno.test("parentOf gives the directory holding an absolute path", () => {
  assert.equal(parentOf("/run/landlockd/sock"), "/run/landlockd");
  assert.equal(parentOf("/run/landlockd/"), "/run");
  assert.equal(parentOf("/run"), "/");
  assert.equal(parentOf("/"), "/");
});

Deno.test("isBeneath is lexical and stops at component boundaries", () => {
  assert.ok(isBeneath("/a/b", "/a"));
  assert.ok(isBeneath("/a", "/a/"));
  assert.ok(!isBeneath("/ab", "/a"));
  assert.ok(isBeneath("/anything", "/"));
});
