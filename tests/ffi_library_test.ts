/**
 * ffi/mod.ts maps landlockd's C library once per process: a Worker (module
 * state of its own) gets the same mapping, so the C library's static state
 * (here the watchdog's slot counter) is shared, whatever the fd numbers.
 */
import assert from "node:assert/strict";
import { library, LIBRARY_URL, rootOnly } from "../ffi/mod.ts";

const MOD = new URL("../ffi/mod.ts", import.meta.url).href;

/**
 * The library's mappings in this process (a memfd's or the file's own),
 * by device and inode.
 */
function mappings(): Set<string> {
  return new Set(
    Deno.readTextFileSync("/proc/self/maps").split("\n")
      .filter((l) =>
        l.includes("/memfd:liblandlockd.so") ||
        l.endsWith(decodeURIComponent(LIBRARY_URL.pathname))
      )
      .map((l) => l.split(/\s+/).slice(3, 5).join(" ")),
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

Deno.test(
  "the library is opened in place only where nobody but root can change it",
  {
    // Needs root to make a root-only directory.
    ignore: Deno.uid() !== 0,
  },
  () => {
    // /run is root's and 0755 on every system with systemd or not.
    const dir = Deno.makeTempDirSync({ dir: "/run", prefix: "landlockd-ffi-" });
    const url = (p: string) => new URL(`file://${p}`);
    try {
      Deno.chmodSync(dir, 0o755);
      const lib = `${dir}/lib.so`;
      Deno.writeFileSync(lib, new Uint8Array(8), { mode: 0o644 });
      Deno.chmodSync(lib, 0o644);
      assert.equal(rootOnly(url(lib)), true);
      Deno.chmodSync(lib, 0o664); // group-writable
      assert.equal(rootOnly(url(lib)), false);
      Deno.chmodSync(lib, 0o644);
      Deno.chownSync(lib, 65534, 65534); // another owner
      assert.equal(rootOnly(url(lib)), false);
      Deno.chownSync(lib, 0, 0);
      Deno.chmodSync(dir, 0o775); // a directory others may write
      assert.equal(rootOnly(url(lib)), false);
      Deno.chmodSync(dir, 0o755);
      Deno.symlinkSync(lib, `${dir}/link.so`); // no symlinks on the way
      assert.equal(rootOnly(url(`${dir}/link.so`)), false);
      assert.equal(rootOnly(url(`${dir}/missing.so`)), false);
      // /tmp is writable by everyone (sticky or not, it does not count).
      const tmp = Deno.makeTempFileSync();
      assert.equal(rootOnly(url(tmp)), false);
      Deno.removeSync(tmp);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
);
