/**
 * Policies written in the C landlockd's style whose only restriction is a
 * [mount] view, a [runtime] root or a [broker] lint clean (the broker-only
 * one with a warning); a policy with nothing in it still fails. Our own
 * fixtures, written for this test.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, tempDir } from "./helpers.ts";

const root = tempDir("rootfs-");

const VALID: { name: string; toml: string; warning?: RegExp }[] = [
  {
    name: "mount tmpfs only",
    toml: `version = 1\n[mount]\ntmpfs = ["/tmp"]\n`,
  },
  {
    name: "mount bind only",
    toml:
      `version = 1\n[mount]\nbind = [{ source = "/usr", target = "/usr", read_only = true }]\n`,
  },
  {
    name: "runtime root only",
    toml: `version = 1\n[runtime]\nroot = "${root}"\n`,
  },
  {
    name: "broker only",
    toml: `version = 1\n[broker]\nallow_read = ["/etc/hostname"]\n`,
    warning:
      /warning: broker: without an \[\[fs_layer\]\], the broker's exceptions grant nothing/,
  },
];

for (const c of VALID) {
  Deno.test(`seed-style policy lints clean: ${c.name}`, async () => {
    const r = await landlockd(["lint", "--policy-file", policyFile(c.toml)]);
    assert.equal(r.code, 0, r.stderr);
    if (c.warning) assert.match(r.stderr, c.warning);
  });
}

Deno.test("a policy with no restriction at all still fails, naming what to add", async () => {
  const r = await landlockd([
    "lint",
    "--policy-file",
    policyFile("version = 1\n[mount]\ntmpfs = []\n"),
  ]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /restricts nothing: add .*\[mount\] or \[runtime\] root/,
  );
});
