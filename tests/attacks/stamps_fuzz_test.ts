/**
 * ll_stamps_check (ffi/stamps.c) reads a request from the bundle's record:
 * built with AddressSanitizer and UBSan, stamps_fuzz.c feeds it cut
 * requests, bad path lengths (0, past the end, 2^31-1, 2^32-1), a path
 * without its NUL or with one inside, an unknown flag, paths with `..`
 * and absolute ones, a NaN stamp, a missing root, and 100,000 random and
 * mutated requests, each in a heap buffer of exactly its length. Every
 * answer is -EINVAL or an entry's index (the run then loads the sources);
 * no read outside the request (held: no report).
 */
import assert from "node:assert/strict";
import { tempDir } from "../helpers.ts";

const HERE = new URL("./", import.meta.url).pathname;
const FFI = new URL("../../ffi/", import.meta.url).pathname;

Deno.test("attack: malformed and random stamp requests never make ll_stamps_check read outside them", async () => {
  const dir = tempDir("stamps-fuzz-");
  const exe = `${dir}/stamps_fuzz`;
  const built = await new Deno.Command("gcc", {
    args: [
      "-O1",
      "-g",
      "-fsanitize=address,undefined",
      "-fno-sanitize-recover=all",
      "-Wall",
      "-Werror",
      `-I${FFI}`,
      "-o",
      exe,
      `${HERE}stamps_fuzz.c`,
      `${FFI}stamps.c`,
    ],
    stderr: "piped",
  }).output();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  Deno.mkdirSync(`${dir}/root`);
  Deno.writeTextFileSync(`${dir}/root/f`, "hello\n");
  const r = await new Deno.Command(exe, {
    args: [`${dir}/root`, "100000"],
    stdout: "piped",
    stderr: "piped",
  }).output();
  const stderr = new TextDecoder().decode(r.stderr);
  assert.equal(stderr, "");
  assert.equal(r.code, 0);
  assert.equal(new TextDecoder().decode(r.stdout), "ok 100000\n");
});
