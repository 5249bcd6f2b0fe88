/**
 * A malformed bundle record (dist/run/direct.stamps) fails closed: main.ts
 * loads the sources. Random byte flips and cuts of a good record, and
 * crafted ones (an entry outside dist/run/, `..`, an absolute path, a
 * 1 MiB path, path lengths 0 and 2^32-1, an entry checked only for its
 * owner, an entry that is a symlink to a chunk), each given to the real
 * check (lazy_import.ts freshBundle, then ll_stamps_check): it returns
 * the bundle's own entry or nothing, and never throws (held).
 */
import assert from "node:assert/strict";
import { fileStamp, freshBundle, stampFile } from "../../lazy_import.ts";
import { type StampList, stampRequest } from "../../syscalls/stamps.ts";

function fakeCheckout(): string {
  const root = Deno.makeTempDirSync({ prefix: "landlockd-record-" });
  Deno.chmodSync(root, 0o755);
  Deno.mkdirSync(`${root}/dist/run`, { recursive: true });
  Deno.writeTextFileSync(`${root}/a.ts`, "export const a = 1;\n");
  Deno.writeTextFileSync(`${root}/dist/run/entry-0.js`, "export {};\n");
  Deno.writeTextFileSync(`${root}/dist/run/chunk-1.js`, "export {};\n");
  return root;
}

const stamp = (root: string, path: string) => ({
  path,
  ...fileStamp(`${root}/${path}`),
});

Deno.test("attack: malformed bundle records load the sources, never a file the record did not vouch for", async () => {
  const root = fakeCheckout();
  const url = `file://${root}/`;
  const entry = `${url}dist/run/entry-0.js`;
  const record = `${root}/${stampFile("direct")}`;
  const check = async (bytes: Uint8Array) => {
    Deno.writeFileSync(record, bytes);
    return await freshBundle("direct", { root: url });
  };
  try {
    const good = stampRequest([
      {
        check: "own",
        files: [
          stamp(root, "dist/run/entry-0.js"),
          stamp(root, "dist/run/chunk-1.js"),
        ],
      },
      { check: "stamp", files: [stamp(root, "a.ts")] },
    ]);
    assert.equal(await check(good), entry);

    // Crafted records.
    Deno.symlinkSync("entry-0.js", `${root}/dist/run/link.js`);
    const crafted: [string, StampList[]][] = [
      ["outside dist/run", [{ check: "own", files: [stamp(root, "a.ts")] }]],
      ["..", [{
        check: "own",
        files: [{ ...stamp(root, "a.ts"), path: "dist/run/../../a.ts" }],
      }]],
      ["absolute", [{
        check: "own",
        files: [{
          ...stamp(root, "a.ts"),
          path: `${root}/dist/run/entry-0.js`,
        }],
      }]],
      ["1 MiB path", [{
        check: "own",
        files: [{
          ...stamp(root, "a.ts"),
          path: `dist/run/${"a".repeat(1 << 20)}.js`,
        }],
      }]],
      ["owner only", [{
        check: "own-only",
        files: [{ path: "dist/run/entry-0.js" }],
      }]],
      ["only stamped", [{
        check: "stamp",
        files: [stamp(root, "dist/run/entry-0.js")],
      }]],
      ["a symlink", [{
        check: "own",
        files: [{
          ...stamp(root, "dist/run/entry-0.js"),
          path: "dist/run/link.js",
        }],
      }]],
    ];
    for (const [what, lists] of crafted) {
      assert.equal(await check(stampRequest(lists)), undefined, what);
    }
    for (const len of [0, 0xffffffff, 0x7fffffff, 9]) {
      const bad = good.slice();
      new DataView(bad.buffer).setUint32(36, len, true);
      assert.equal(await check(bad), undefined, `path length ${len}`);
    }

    // Random flips and cuts: the entry or nothing.
    let seed = 1;
    const rand = (n: number) => {
      seed = (seed * 1103515245 + 12345) % 2147483648;
      return seed % n;
    };
    let loaded = 0;
    for (let i = 0; i < 2000; i++) {
      let bad = good.slice();
      for (let k = 0; k <= rand(3); k++) bad[rand(bad.length)] = rand(256);
      if (rand(4) === 0) bad = bad.slice(0, rand(bad.length + 1));
      const got = await check(bad);
      assert.ok(got === undefined || got === entry, `${got}`);
      if (got) loaded++;
    }
    // A flip in padding leaves the record good: some runs still load.
    assert.ok(loaded < 2000, `${loaded} of 2000 loaded`);
  } finally {
    Deno.removeSync(root, { recursive: true });
  }
});
