/**
 * ffi/mod.ts maps landlockd's C library once per process: a Worker (module
 * state of its own) gets the same mapping, so the C library's static state
 * (here the watchdog's slot counter) is shared, whatever the fd numbers.
 */
import assert from "node:assert/strict";
import { library, LIBRARY_URL, rootOnly } from "../ffi/mod.ts";
import { checkStamps, stampRequest } from "../ffi/library.ts";
import { fileStamp } from "../lazy_import.ts";

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

Deno.test("a Worker takes the memfd this process mapped, not another fd named like it", async () => {
  // A copy of ffi/ under /tmp (writable by all): the library goes through
  // a memfd. Before the Worker starts, a second memfd with the same name
  // and the same bytes (a decoy: another user's could hold any code; see
  // tests/attacks/libmemfd_test.ts) sits at a lower fd than this process's.
  const dir = Deno.makeTempDirSync({ dir: "/tmp", prefix: "landlockd-ffi-" });
  try {
    Deno.mkdirSync(`${dir}/ffi/build`, { recursive: true });
    for (const e of Deno.readDirSync(new URL("../ffi/", import.meta.url))) {
      if (e.isFile && e.name.endsWith(".ts")) {
        Deno.copyFileSync(
          new URL(`../ffi/${e.name}`, import.meta.url),
          `${dir}/ffi/${e.name}`,
        );
      }
    }
    Deno.copyFileSync(LIBRARY_URL, `${dir}/ffi/build/liblandlockd.so`);
    const out = await new Deno.Command(Deno.execPath(), {
      args: [
        "run",
        "--allow-all",
        "--no-config",
        new URL("./fixtures/memfd_decoy_probe.ts", import.meta.url).pathname,
        dir,
      ],
      stderr: "piped",
    }).output();
    assert.ok(out.success, new TextDecoder().decode(out.stderr));
    const r = JSON.parse(new TextDecoder().decode(out.stdout));
    assert.ok(r.mine >= 0, `ll_watch_thread: ${r.mine}`);
    // One slot counter, one mapping: the Worker followed this process's
    // memfd, not the decoy.
    assert.ok(r.theirs > r.mine, `worker slot ${r.theirs}, main ${r.mine}`);
    assert.equal(r.maps.length, 1, `mappings: ${r.maps.join(", ")}`);
  } finally {
    Deno.removeSync(dir, { recursive: true });
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

Deno.test("ll_stamps_check compares what Deno.statSync gives, field by field", async () => {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-stamps-" });
  try {
    Deno.chmodSync(dir, 0o755);
    Deno.writeTextFileSync(`${dir}/a`, "a\n", { mode: 0o644 });
    Deno.chmodSync(`${dir}/a`, 0o644);
    // 999.999999 ms past the second: Deno truncates to 999.
    new Deno.Command("touch", {
      args: ["-d", "2026-01-01 00:00:00.999999999", `${dir}/a`],
    }).outputSync();
    const was = { path: "a", ...fileStamp(`${dir}/a`) };
    assert.equal(was.mtime % 1000, 999);
    const check = (
      files: typeof was[],
      how: "stamp" | "own" = "stamp",
    ) => checkStamps(dir, [stampRequest([{ check: how, files }])]);
    const ownOnly = (path: string) =>
      checkStamps(dir, [
        stampRequest([{ check: "own-only", files: [{ path }] }]),
      ]);
    assert.equal(await check([was]), -1);
    assert.equal(await check([was], "own"), -1);
    for (const field of ["size", "ino", "mtime", "ctime"] as const) {
      assert.equal(
        await check([was, { ...was, [field]: was[field] + 1 }]),
        1,
        field,
      );
    }
    assert.equal(await check([{ ...was, path: "gone" }]), 0);
    // Ownership: a group-writable file; a symlink (stat follows it, so
    // only "own", which lstats, refuses it).
    Deno.symlinkSync(`${dir}/a`, `${dir}/link`);
    assert.equal(await check([{ ...was, path: "link" }]), -1);
    assert.equal(await check([{ ...was, path: "link" }], "own"), 0);
    Deno.chmodSync(`${dir}/a`, 0o664);
    const now = { path: "a", ...fileStamp(`${dir}/a`) };
    assert.equal(await check([now]), -1);
    assert.equal(await check([now], "own"), 0);
    assert.equal(await ownOnly("."), -1);
    Deno.chmodSync(dir, 0o757);
    assert.equal(await ownOnly("."), 0);
  } finally {
    Deno.removeSync(dir, { recursive: true });
  }
});

Deno.test("ll_stamps_check refuses a malformed request", () => {
  const lib = Deno.dlopen(decodeURIComponent(LIBRARY_URL.pathname), {
    ll_stamps_check: {
      parameters: ["buffer", "buffer", "u32"],
      result: "i32",
    },
  });
  try {
    const root = new TextEncoder().encode("/\0");
    const good = stampRequest([{
      check: "own-only",
      files: [{ path: "tmp" }],
    }]);
    const call = (req: Uint8Array<ArrayBuffer>) =>
      lib.symbols.ll_stamps_check(root, req, req.length);
    assert.equal(call(good.slice()), 1); // /tmp is world-writable
    const EINVAL = -22;
    assert.equal(call(good.slice(0, 39)), EINVAL); // a cut head
    const noNul = good.slice();
    noNul[40 + 3] = 0x41; // the path's NUL overwritten
    assert.equal(call(noNul), EINVAL);
    const flags = good.slice();
    flags[32] = 8; // an unknown flag
    assert.equal(call(flags), EINVAL);
    const long = good.slice();
    new DataView(long.buffer).setUint32(36, 4096, true);
    assert.equal(call(long), EINVAL);
  } finally {
    lib.close();
  }
});
