/**
 * ffi/mod.ts maps landlockd's C library once per process: a Worker (module
 * state of its own) gets the same mapping, so the C library's static state
 * (here the watchdog's slot counter) is shared, whatever the fd numbers.
 */
import assert from "node:assert/strict";
import { library } from "../ffi/mod.ts";

const MOD = new URL("../ffi/mod.ts", import.meta.url).href;

/** The inodes of the library's memfd mappings in this process. */
function mappings(): Set<string> {
  return new Set(
    Deno.readTextFileSync("/proc/self/maps").split("\n")
      .filter((l) => l.includes("/memfd:liblandlockd.so"))
      .map((l) => l.split(/\s+/)[4]),
  );
}

Deno.test("a Worker shares this thread's mapping of the C library", async () => {
  const mine = library().ll_watch_thread();
  assert.ok(mine >= 0, `ll_watch_thread: ${mine}`);
  const code = `import { library } from "${MOD}";
    postMessage(library().ll_watch_thread());`;
  const url = URL.createObjectURL(
    new Blob([code], { type: "application/javascript" }),
  );
  const worker = new Worker(url, { type: "module" });
  try {
    const theirs = await new Promise<number>((resolve, reject) => {
      worker.onmessage = (e) => resolve(e.data);
      worker.onerror = (e) => reject(e.error ?? new Error(e.message));
    });
    // One slot counter: the Worker's slot comes after this thread's.
    assert.ok(theirs > mine, `worker slot ${theirs}, this thread's ${mine}`);
    assert.equal(mappings().size, 1, "one mapping of liblandlockd.so");
  } finally {
    worker.terminate();
    URL.revokeObjectURL(url);
  }
});
