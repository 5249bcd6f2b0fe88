import assert from "node:assert/strict";
import type { Policy } from "../policy/schema.ts";
import { PathError } from "../policy/diagnostic.ts";
import { planMounts } from "./mounts.ts";
import {
  CLONE_NEWNS,
  CLONE_NEWPID,
  CLONE_NEWUSER,
} from "../syscalls/constants.ts";

function policy(extra: Record<string, unknown>): Policy {
  return { version: 1, compat: "strict", ...extra } as Policy;
}

const dir = Deno.makeTempDirSync();
for (const d of ["root/tmp", "root/proc", "root/cache", "src", "tmp"]) {
  Deno.mkdirSync(`${dir}/${d}`, { recursive: true });
}

Deno.test("no mounts and no root: no namespaces", () => {
  assert.equal(planMounts(policy({})), undefined);
});

Deno.test("root needs only a mount namespace; others also a user namespace", () => {
  const p = policy({ mount: { tmpfs: [`${dir}/tmp`] } });
  assert.equal(planMounts(p, 0)!.clone_flags, CLONE_NEWNS);
  assert.deepEqual(planMounts(p, 0)!.namespaces, ["mount"]);
  assert.equal(planMounts(p, 1000)!.clone_flags, CLONE_NEWNS | CLONE_NEWUSER);
});

Deno.test("proc brings a PID namespace", () => {
  const p = policy({ mount: { proc: ["/proc"] } });
  const plan = planMounts(p, 0)!;
  assert.equal(plan.clone_flags, CLONE_NEWNS | CLONE_NEWPID);
  assert.deepEqual(plan.namespaces, ["mount", "pid"]);
});

Deno.test("with a root, targets are inside it, the root is bound on itself, and the pivot comes last", () => {
  const plan = planMounts(
    policy({
      runtime: { root: `${dir}/root` },
      mount: {
        tmpfs: ["/tmp"],
        bind: [{ source: `${dir}/src`, target: "/cache", read_only: true }],
      },
    }),
    0,
  )!;
  assert.deepEqual(plan.steps.map((s) => [s.op, s.target]), [
    ["mount", "/"],
    ["mount", `${dir}/root`],
    ["mount", `${dir}/root/tmp`],
    ["mount", `${dir}/root/cache`],
    ["rdonly", `${dir}/root/cache`],
    ["pivot", `${dir}/root`],
  ]);
  assert.equal(plan.cwd, "/");
  assert.deepEqual(plan.mounts.map((m) => m.target), ["/tmp", "/cache"]);
});

Deno.test("a missing target or a rootfs that is not a directory is a PathError at its key", () => {
  assert.throws(
    () => planMounts(policy({ mount: { tmpfs: [`${dir}/nope`] } }), 0),
    (e: unknown) =>
      e instanceof PathError &&
      e.diagnostic.path.join(".") === "mount.tmpfs.0" &&
      /does not exist/.test(e.message),
  );
  Deno.writeTextFileSync(`${dir}/file`, "");
  assert.throws(
    () => planMounts(policy({ runtime: { root: `${dir}/file` } }), 0),
    (e: unknown) =>
      e instanceof PathError && /is not a directory/.test(e.message),
  );
});
