/**
 * Every starter policy runs in strict mode on Landlock ABI 4 (GitHub's
 * ubuntu-24.04 runners), or says in its header which ABI it needs; and
 * that header is true: strict on the ABI below it is refused.
 */
import assert from "node:assert/strict";
import { landlockd, ROOT, tempDir } from "./helpers.ts";

function rootfs(): string {
  const dir = tempDir();
  for (const d of ["usr/bin", "tmp", "etc"]) {
    Deno.mkdirSync(`${dir}/${d}`, { recursive: true });
  }
  return dir;
}

const NAMES = [...Deno.readDirSync(`${ROOT}policies`)]
  .filter((e) => e.name.endsWith(".toml"))
  .map((e) => e.name.slice(0, -5))
  .sort();

/** The ABI a starter policy's header comment says it needs. */
function needs(name: string): number {
  const header = Deno.readTextFileSync(`${ROOT}policies/${name}.toml`)
    .split("\n").filter((l) => l.startsWith("#")).join(" ").replace(/#/g, "");
  const m = header.match(/Needs\s+Landlock\s+ABI\s+(\d)/);
  assert.ok(m, `policies/${name}.toml: the header names no ABI`);
  return Number(m[1]);
}

async function dryRun(name: string, abi: number) {
  return await landlockd(["run", "--policy", name, "--dry-run"], {
    env: { LANDLOCKD_ABI_MAX: String(abi), LANDLOCKD_ROOTFS: rootfs() },
  });
}

for (const name of NAMES) {
  Deno.test(`starter policy ${name}: strict on the ABI its header names (and on 4 if that is enough), refused below`, async () => {
    const abi = needs(name);
    const policy = Deno.readTextFileSync(`${ROOT}policies/${name}.toml`);
    assert.doesNotMatch(policy, /^compat\s*=\s*"best_effort"/m);
    for (const at of new Set([abi, Math.max(abi, 4)])) {
      const r = await dryRun(name, at);
      assert.equal(r.code, 0, `ABI ${at}: ${r.stderr}`);
      assert.equal(JSON.parse(r.stdout).landlock.compat, "strict");
    }
    const below = await dryRun(name, abi - 1);
    assert.equal(below.code, 125, below.stdout);
    assert.match(below.stderr, /needs Landlock ABI \d/);
  });
}

Deno.test("net-fetch runs strict on ABI 4; the broker's signal scope is noted as best effort", async () => {
  const r = await landlockd(["run", "--policy", "net-fetch", "--", "true"], {
    env: { LANDLOCKD_ABI_MAX: "4" },
  });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
  const plan = JSON.parse((await dryRun("net-fetch", 4)).stdout);
  assert.deepEqual(plan.landlock.dropped, []);
  assert.equal(plan.landlock.status, "fully_enforced");
  assert.equal(plan.landlock.implied.length, 1);
  assert.equal(plan.landlock.implied[0].scope, "signal");
  assert.equal(plan.landlock.implied[0].enforced, false);
  assert.match(plan.landlock.implied[0].note, /best effort: Landlock ABI 4/);
  const six = JSON.parse((await dryRun("net-fetch", 6)).stdout);
  assert.equal(six.landlock.implied[0].enforced, true);
  assert.deepEqual(six.landlock.layers[0].scoped, ["signal"]);
});
