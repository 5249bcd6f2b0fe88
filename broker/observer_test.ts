import assert from "node:assert/strict";
import { loaderOf, socketName } from "./observer.ts";

const bytes = (s: string) => new TextEncoder().encode(s);

Deno.test("a #! line names the interpreter the kernel loads", () => {
  assert.equal(loaderOf(bytes("#!/bin/sh\necho\n")), "/bin/sh");
  assert.equal(loaderOf(bytes("#! /usr/bin/env python3 -u\n")), "/usr/bin/env");
  assert.equal(loaderOf(bytes("#!relative\n")), undefined);
  assert.equal(loaderOf(bytes("echo hi\n")), undefined);
});

Deno.test("an ELF program's PT_INTERP names its loader; a static one has none", () => {
  const head = Deno.readFileSync("/usr/bin/true").subarray(0, 4096);
  assert.match(loaderOf(head) ?? "", /^\/lib.*\/ld-linux[^/]*\.so\.\d$/);
  // Truncated or garbage headers are not read past their end.
  assert.equal(loaderOf(head.subarray(0, 40)), undefined);
  const bad = head.slice();
  new DataView(bad.buffer).setBigUint64(32, 1n << 40n, true); // e_phoff
  assert.equal(loaderOf(bad), undefined);
});

Deno.test("socket kinds are named by family and type", () => {
  assert.equal(socketName(2, 2), "inet/dgram");
  assert.equal(socketName(16, 3), "netlink/raw");
  assert.equal(socketName(40, 1), "family-40/stream");
});
