import assert from "node:assert/strict";
import type { LandlockPlan } from "../policy/plan.ts";
import {
  executeAllowed,
  type PathProbe,
  resolveCommand,
  skippedWarnings,
} from "./command_path.ts";

const FILES = new Set(["/home/u/.pyenv/shims/python3", "/usr/bin/python3"]);
const probe: PathProbe = {
  realPath: (p) => p,
  isExecutable: (p) => FILES.has(p),
};

function plan(rules: { path: string; exec: boolean }[]): LandlockPlan {
  return {
    abi: 7,
    compat: "strict",
    dropped: [],
    stricter: [],
    status: "fully_enforced",
    layers: [{
      from: ["fs_layer[0]"],
      handled_access_fs: ["execute", "read_file"],
      handled_access_net: [],
      scoped: [],
      net_port: [],
      path_beneath: rules.map((r, i) => ({
        key: `fs_layer[0].rule[${i}]`,
        path: r.path,
        allowed_access: r.exec ? ["execute", "read_file"] : ["read_file"],
        optional: false,
      })),
    }],
  };
}

const CANDIDATES = [
  "/home/u/.pyenv/shims/python3",
  "/usr/local/bin/python3",
  "/usr/bin/python3",
];

Deno.test("a denied shim is skipped for the next executable candidate", () => {
  const r = resolveCommand(
    plan([{ path: "/usr", exec: true }, { path: "/home", exec: false }]),
    CANDIDATES,
    probe,
  );
  assert.deepEqual(r, {
    path: "/usr/bin/python3",
    skipped: ["/home/u/.pyenv/shims/python3"],
  });
  assert.deepEqual(skippedWarnings(r), [
    'warning: "/home/u/.pyenv/shims/python3" is on PATH, but the policy does not allow executing it; "/usr/bin/python3" runs instead',
  ]);
});

Deno.test("an allowed first candidate runs, with no warning", () => {
  const r = resolveCommand(
    plan([{ path: "/", exec: true }]),
    CANDIDATES,
    probe,
  );
  assert.deepEqual(r, { path: "/home/u/.pyenv/shims/python3", skipped: [] });
  assert.deepEqual(skippedWarnings(r), []);
});

Deno.test("nothing allowed: every candidate skipped, none runs", () => {
  const r = resolveCommand(plan([]), CANDIDATES, probe);
  assert.equal(r.path, undefined);
  assert.match(skippedWarnings(r)[1], /no later candidate is allowed$/);
});

Deno.test("a layer that does not handle execute allows it", () => {
  const p = plan([]);
  p.layers[0].handled_access_fs = ["read_file"];
  assert.ok(executeAllowed(p, "/usr/bin/python3", probe));
});
