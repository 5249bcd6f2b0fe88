import assert from "node:assert/strict";
import type { LandlockPlan } from "../policy/plan.ts";
import { covers, parentOf, refusal, resolvePlan } from "./verdict.ts";

const plan: LandlockPlan = {
  abi: 7,
  compat: "strict",
  dropped: [],
  stricter: [],
  status: "fully_enforced",
  layers: [
    {
      from: ["fs_layer[0]", "net"],
      handled_access_fs: [
        "execute",
        "read_file",
        "read_dir",
        "write_file",
        "make_reg",
        "remove_file",
        "refer",
      ],
      handled_access_net: ["bind_tcp", "connect_tcp"],
      scoped: [],
      path_beneath: [
        {
          key: "fs_layer[0].rule[0]",
          path: "/usr",
          allowed_access: ["execute", "read_file", "read_dir"],
          optional: false,
        },
        {
          key: "fs_layer[0].rule[1]",
          path: "/work",
          allowed_access: ["read_file", "write_file", "make_reg"],
          optional: false,
        },
        {
          key: "fs_layer[0].rule[2]",
          path: "/gone",
          allowed_access: ["read_file"],
          optional: true,
        },
      ],
      net_port: [{ port: 443, allowed_access: ["connect_tcp"] }],
    },
    {
      from: ["fs_layer[1]"],
      handled_access_fs: ["write_file"],
      handled_access_net: [],
      scoped: [],
      path_beneath: [{
        key: "fs_layer[1].rule[0]",
        path: "/work/out",
        allowed_access: ["write_file"],
        optional: false,
      }],
      net_port: [],
    },
  ],
};

// "/lib" is a symlink to "/usr/lib" on merged-/usr systems: rule paths
// resolve before they are compared; "/gone" does not exist.
const real = (p: string) =>
  p === "/gone" ? undefined : p.replace(/^\/lib\b/, "/usr/lib");
const resolved = resolvePlan(plan, real);

Deno.test("a path is covered by itself and the directories above it, not by a sibling prefix", () => {
  assert.ok(covers("/work", "/work"));
  assert.ok(covers("/work", "/work/a/b"));
  assert.ok(covers("/", "/etc"));
  assert.ok(!covers("/work", "/workshop/x"));
  assert.equal(parentOf("/work/a"), "/work");
  assert.equal(parentOf("/a"), "/");
});

Deno.test("an access a rule of every handling layer grants is allowed", () => {
  assert.equal(
    refusal(resolved, {
      path: "/usr/bin/python3",
      rights: ["execute", "read_file"],
    }),
    undefined,
  );
  assert.equal(
    refusal(resolved, { path: "/work/out/log", rights: ["write_file"] }),
    undefined,
  );
  assert.equal(
    refusal(resolved, { port: 443, rights: ["connect_tcp"] }),
    undefined,
  );
});

Deno.test("the first refusing layer is named with exactly the rights it lacks", () => {
  assert.deepEqual(
    refusal(resolved, { path: "/etc/passwd", rights: ["read_file"] }),
    { layer: 0, section: "fs_layer[0]", missing: ["read_file"] },
  );
  // Layer 0 grants writes under /work; layer 1 only under /work/out.
  assert.deepEqual(
    refusal(resolved, { path: "/work/x", rights: ["write_file"] }),
    { layer: 1, section: "fs_layer[1]", missing: ["write_file"] },
  );
  assert.deepEqual(
    refusal(resolved, { port: 8080, rights: ["connect_tcp"] }),
    { layer: 0, section: "net", missing: ["connect_tcp"] },
  );
  assert.deepEqual(
    refusal(resolved, { port: 443, rights: ["bind_tcp"] }),
    { layer: 0, section: "net", missing: ["bind_tcp"] },
  );
});

Deno.test("directory rights are checked from the parent up, file rights from the path up", () => {
  // make_reg on /work (the parent) allows creating /work/new.
  assert.equal(
    refusal(resolved, { path: "/work/new", rights: ["make_reg"] }),
    undefined,
  );
  // remove_file is granted nowhere.
  assert.deepEqual(
    refusal(resolved, { path: "/work/new", rights: ["remove_file"] }),
    { layer: 0, section: "fs_layer[0]", missing: ["remove_file"] },
  );
  // Creating /work itself needs make_reg on / .
  assert.deepEqual(
    refusal(resolved, { path: "/work", rights: ["make_reg"] }),
    { layer: 0, section: "fs_layer[0]", missing: ["make_reg"] },
  );
});

Deno.test("rights no layer handles are allowed; missing rule paths grant nothing", () => {
  assert.equal(
    refusal(resolved, { path: "/etc/x", rights: ["make_dir", "truncate"] }),
    undefined,
  );
  assert.deepEqual(
    refusal(resolved, { path: "/gone/file", rights: ["read_file"] }),
    { layer: 0, section: "fs_layer[0]", missing: ["read_file"] },
  );
});
