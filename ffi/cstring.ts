/**
 * C strings and NULL-terminated pointer arrays for FFI calls.
 *
 * @module
 */

const encoder = new TextEncoder();

/**
 * Encodes `s` as UTF-8 followed by a NUL byte.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cstring } from "./cstring.ts";
 * assert.deepEqual(cstring("é").length, 3);
 * ```
 */
export function cstring(s: string): Uint8Array<ArrayBuffer> {
  if (s.includes("\0")) {
    throw new TypeError(
      `Cannot pass ${JSON.stringify(s)} to C: it contains a NUL byte`,
    );
  }
  const bytes = encoder.encode(s);
  const out = new Uint8Array(bytes.length + 1);
  out.set(bytes);
  return out;
}

/** The address of a buffer, as the integer a syscall argument takes. */
export function addressOf(buf: BufferSource | null): bigint {
  if (buf === null) return 0n;
  const view = buf instanceof ArrayBuffer ? new Uint8Array(buf) : buf;
  return BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(view)));
}

/**
 * A NULL-terminated `char *[]` and the buffer it points into. Keep the
 * returned object reachable until the C call that reads it has returned.
 */
export interface CStringArray {
  pointers: BigUint64Array<ArrayBuffer>;
  /** Every string, NUL-terminated, one after another. */
  bytes: Uint8Array<ArrayBuffer>;
}

/**
 * Builds a NULL-terminated array of C strings, all in one buffer: one
 * pointer lookup for the whole array instead of one per string (the
 * daemon passes a client's environment, often 50+ strings, on every run).
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { cstringArray } from "./cstring.ts";
 * const a = cstringArray(["a", "é"]);
 * assert.deepEqual([...a.bytes], [0x61, 0, 0xc3, 0xa9, 0]);
 * assert.equal(a.pointers[1] - a.pointers[0], 2n);
 * assert.equal(a.pointers[2], 0n);
 * ```
 */
export function cstringArray(items: readonly string[]): CStringArray {
  for (const s of items) {
    if (s.includes("\0")) {
      throw new TypeError(
        `Cannot pass ${JSON.stringify(s)} to C: it contains a NUL byte`,
      );
    }
  }
  // One encode for all: no string has a NUL, so the NULs joined in are
  // exactly where each ends (one encodeInto per string cost a fresh
  // process several times more).
  const bytes = items.length
    ? encoder.encode(items.join("\0") + "\0")
    : new Uint8Array(1);
  const base = addressOf(bytes);
  const pointers = new BigUint64Array(items.length + 1);
  let at = 0;
  for (let i = 0; i < items.length; i++) {
    pointers[i] = base + BigInt(at);
    at = bytes.indexOf(0, at) + 1;
  }
  return { pointers, bytes };
}
