import assert from "node:assert/strict";
import type { Policy } from "../policy/schema.ts";
import { plantable, symlinksOn } from "./symlinks.ts";

/** d/ro (the sandbox may not change it) and d/rw (it may), with links. */
function tree() {
  const d = Deno.realPathSync(Deno.makeTempDirSync());
  Deno.mkdirSync(`${d}/ro/real`, { recursive: true });
  Deno.mkdirSync(`${d}/rw`);
  Deno.writeTextFileSync(`${d}/ro/real/f`, "");
  Deno.symlinkSync("real", `${d}/ro/rel`); // ro/rel -> ro/real
  Deno.symlinkSync(`${d}/ro/rel`, `${d}/rw/abs`); // rw/abs -> ro/rel
  Deno.symlinkSync("../ro/real/f", `${d}/ro/up`);
  return d;
}

function policy(d: string, rw: string[]): Policy {
  return {
    version: 1,
    fs_layer: [{
      handled_access_fs: ["read_file", "make_sym", "make_dir"],
      rule: [
        { path: d, allowed_access: ["read_file"], optional: false },
        { path: `${d}/rw`, allowed_access: rw, optional: false },
      ],
    }],
  } as unknown as Policy;
}

Deno.test("symlinksOn lists every symlink met on the way, with the directory holding it", () => {
  const d = tree();
  assert.deepEqual(symlinksOn(`${d}/ro/real/f`), []);
  assert.deepEqual(symlinksOn(`${d}/rw/abs/f`), [
    { link: `${d}/rw/abs`, dir: `${d}/rw` },
    { link: `${d}/ro/rel`, dir: `${d}/ro` },
  ]);
  assert.deepEqual(symlinksOn(`${d}/ro/../ro/up`), [
    { link: `${d}/ro/up`, dir: `${d}/ro` },
  ]);
  Deno.removeSync(d, { recursive: true });
});

Deno.test("plantable: a symlink is trusted only where no layer lets the sandbox make one or move a directory in", () => {
  const d = tree();
  assert.equal(plantable(`${d}/ro/rel/f`, policy(d, ["make_sym"])), undefined);
  assert.deepEqual(plantable(`${d}/rw/abs/f`, policy(d, ["make_sym"])), {
    link: `${d}/rw/abs`,
    dir: `${d}/rw`,
  });
  // make_dir without refer cannot move a prepared directory in; with it, it can.
  assert.equal(plantable(`${d}/rw/abs/f`, policy(d, ["make_dir"])), undefined);
  const withRefer = policy(d, ["make_dir", "refer"]);
  withRefer.fs_layer![0].handled_access_fs.push("refer");
  assert.ok(plantable(`${d}/rw/abs/f`, withRefer));
  // A layer that does not handle make_sym lets the sandbox make one anywhere.
  const open = policy(d, ["read_file"]);
  open.fs_layer![0].handled_access_fs = ["read_file"];
  assert.ok(plantable(`${d}/ro/rel/f`, open));
  Deno.removeSync(d, { recursive: true });
});
