import assert from "node:assert/strict";
import {
  ABI_VERSIONS,
  clampAbi,
  FS_READ_RIGHTS,
  FS_RIGHT_NAMES,
  FS_RIGHTS,
  fsRightsForAbi,
  fsWriteRightsForAbi,
  NEWEST_KNOWN_ABI,
  toMask,
} from "./rights.ts";

Deno.test("clampAbi treats newer kernels as the newest known ABI and ≤ 0 as none", () => {
  assert.equal(clampAbi(-1), 0);
  assert.equal(clampAbi(0), 0);
  assert.equal(clampAbi(3), 3);
  assert.equal(clampAbi(99), NEWEST_KNOWN_ABI);
});

for (const { abi } of ABI_VERSIONS) {
  Deno.test(`on ABI ${abi}, read ∪ write = all and read ∩ write = ∅`, () => {
    const all = fsRightsForAbi(abi);
    const read = FS_READ_RIGHTS.filter((r) => all.includes(r));
    const write = fsWriteRightsForAbi(abi);
    assert.deepEqual(new Set([...read, ...write]), new Set(all));
    assert.equal(read.filter((r) => write.includes(r)).length, 0);
  });
}

Deno.test("filesystem rights follow the kernel's bit order", () => {
  FS_RIGHT_NAMES.forEach((name, i) => assert.equal(FS_RIGHTS[name].bit, i));
  assert.equal(toMask(FS_RIGHTS, fsRightsForAbi(1)), (1n << 13n) - 1n);
  assert.equal(toMask(FS_RIGHTS, fsRightsForAbi(5)), (1n << 16n) - 1n);
});
