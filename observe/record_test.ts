import assert from "node:assert/strict";
import { AccessRecorder } from "./record.ts";

Deno.test("repeats of one access are counted, not repeated", () => {
  const r = new AccessRecorder(4);
  for (let i = 0; i < 3; i++) {
    r.add({ op: "read", path: "/etc/x", syscall: "openat" });
  }
  r.add({ op: "read", path: "/etc/x", syscall: "open" });
  const log = r.log();
  assert.equal(log.accesses.length, 2);
  assert.equal(log.accesses[0].count, 3);
  assert.equal(log.dropped, 0);
});

Deno.test("past the limit, distinct accesses are dropped and counted once each", () => {
  const r = new AccessRecorder(2);
  for (let i = 0; i < 10; i++) {
    r.add({ op: "read", path: `/f${i}`, syscall: "openat" });
    r.add({ op: "read", path: `/f${i}`, syscall: "openat" });
  }
  const log = r.log();
  assert.deepEqual(log.accesses.map((a) => [a.path, a.count]), [
    ["/f0", 2],
    ["/f1", 2],
  ]);
  assert.equal(log.dropped, 8);
  assert.equal(log.limit, 2);
});

Deno.test("10,000 distinct accesses keep only the limit", () => {
  const r = new AccessRecorder(100);
  for (let i = 0; i < 10_000; i++) {
    r.add({ op: "create", path: `/w/${i}`, syscall: "openat" });
  }
  const log = r.log(true);
  assert.equal(log.accesses.length, 100);
  assert.equal(log.dropped, 9_900);
  assert.equal(log.cutShort, true);
});

Deno.test("a limit that is not a positive integer is refused", () => {
  assert.throws(() => new AccessRecorder(0), RangeError);
  assert.throws(() => new AccessRecorder(1.5), RangeError);
});
