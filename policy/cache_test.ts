import assert from "node:assert/strict";
import { cachedPolicy, cachePolicy, fnv1a64 } from "./cache.ts";
import type { Policy } from "./schema.ts";

Deno.test("fnv1a64 matches the published test vectors", () => {
  assert.equal(fnv1a64(""), "cbf29ce484222325");
  assert.equal(fnv1a64("a"), "af63dc4c8601ec8c");
  assert.equal(fnv1a64("foobar"), "85944171f73967e8");
});

Deno.test("the cache answers only for the exact text it stored", () => {
  const dir = Deno.makeTempDirSync();
  Deno.env.set("LANDLOCKD_CACHE_DIR", `${dir}/c`);
  try {
    const policy = { version: 1, compat: "strict" } as Policy;
    assert.equal(cachedPolicy("version = 1"), undefined);
    cachePolicy("version = 1", policy);
    assert.deepEqual(cachedPolicy("version = 1"), policy);
    assert.equal(cachedPolicy("version = 1 "), undefined);
    // An entry others could have written is ignored.
    for (const e of Deno.readDirSync(`${dir}/c`)) {
      Deno.chmodSync(`${dir}/c/${e.name}`, 0o666);
    }
    assert.equal(cachedPolicy("version = 1"), undefined);
  } finally {
    Deno.env.delete("LANDLOCKD_CACHE_DIR");
  }
});
