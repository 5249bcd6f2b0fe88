/**
 * Bad environment values: one clear line naming the variable, exit 125 (the
 * set-up error code), and never a stack trace or an uncaught error.
 */
import assert from "node:assert/strict";
import { landlockd } from "./helpers.ts";

const CASES: [Record<string, string>, string[], RegExp][] = [
  [
    { LANDLOCKD_ABI_MAX: "six" },
    ["run", "--policy", "ci-default", "--", "true"],
    /^landlockd: LANDLOCKD_ABI_MAX must be a whole number, got "six"\n$/,
  ],
  [
    { LANDLOCKD_ABI_MAX: "-1" },
    ["abi"],
    /^landlockd: LANDLOCKD_ABI_MAX must be a whole number, got "-1"\n$/,
  ],
  [
    { LANDLOCKD_ABI_MAX: "4.5" },
    ["run", "--policy", "ci-default", "--dry-run"],
    /^landlockd: LANDLOCKD_ABI_MAX must be a whole number, got "4\.5"\n$/,
  ],
  [
    { LANDLOCKD_ABI_MAX: "99999999999999999999" },
    ["lint", "--policy", "ci-default"],
    /^landlockd: LANDLOCKD_ABI_MAX must be a whole number, got "9+"\n$/,
  ],
];

for (const [env, args, message] of CASES) {
  const [name, value] = Object.entries(env)[0];
  Deno.test(`${name}=${value} (landlockd ${args[0]}): one line, exit 125, no stack trace`, async () => {
    const r = await landlockd(args, { env });
    assert.doesNotMatch(r.stderr, /^\s+at /m, `a stack trace:\n${r.stderr}`);
    assert.doesNotMatch(r.stderr, /Uncaught|TypeError/, r.stderr);
    assert.match(r.stderr, message);
    assert.equal(r.stdout, "");
    assert.equal(r.code, 125);
  });
}

Deno.test("good values are accepted: LANDLOCKD_ABI_MAX=4", async () => {
  const r = await landlockd(["run", "--policy", "ci-default", "--", "true"], {
    env: { LANDLOCKD_ABI_MAX: "4" },
  });
  assert.equal(r.stderr, "");
  assert.equal(r.code, 0);
});
