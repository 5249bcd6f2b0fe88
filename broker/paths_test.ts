import assert from "node:assert/strict";
import {
  beneath,
  classify,
  type Grants,
  normalize,
  splitParent,
} from "./paths.ts";

Deno.test("normalize resolves ., .. and slashes lexically and never climbs above /", () => {
  assert.equal(normalize("/a/./b/../c"), "/a/c");
  assert.equal(normalize("/../../etc/passwd"), "/etc/passwd");
  assert.equal(normalize("//scratch///x/"), "/scratch/x");
  assert.equal(normalize("../x", "/scratch/a"), "/scratch/x");
  assert.equal(normalize("", "/scratch"), "/scratch");
});

Deno.test("beneath gives the path inside a root, or undefined", () => {
  assert.equal(beneath("/s/a/b", "/s"), "a/b");
  assert.equal(beneath("/s", "/s"), "");
  assert.equal(beneath("/sx/a", "/s"), undefined);
  assert.equal(beneath("/etc", "/"), "etc");
});

Deno.test("splitParent separates the last component", () => {
  assert.deepEqual(splitParent("a/b/c"), ["a/b", "c"]);
  assert.deepEqual(splitParent("c"), [".", "c"]);
});

const GRANTS: Grants = {
  files: new Map([
    ["/etc/resolv.conf", { canonical: "/run/resolv.conf", writable: false }],
    ["/run/resolv.conf", { canonical: "/run/resolv.conf", writable: false }],
    ["/tmp/log", { canonical: "/tmp/log", writable: true }],
  ]),
  scratch: ["/tmp/scratch"],
  export: ["/tmp/export"],
};

Deno.test("classify finds declared files by declared or canonical path", () => {
  assert.deepEqual(classify("/etc/resolv.conf", GRANTS), {
    kind: "file",
    path: "/etc/resolv.conf",
    canonical: "/run/resolv.conf",
    writable: false,
  });
  assert.equal(classify("/run/resolv.conf", GRANTS)?.kind, "file");
  assert.equal(classify("/tmp/log", GRANTS)?.kind, "file");
});

Deno.test("classify places paths in roots, and leaves the rest alone", () => {
  assert.deepEqual(classify("/tmp/scratch/a/b", GRANTS), {
    kind: "scratch",
    path: "/tmp/scratch/a/b",
    root: "/tmp/scratch",
    rel: "a/b",
  });
  assert.equal(classify("/tmp/export", GRANTS)?.kind, "export");
  assert.equal(classify("/tmp/scratchy", GRANTS), undefined);
  assert.equal(classify("/usr/lib/libc.so.6", GRANTS), undefined);
});
