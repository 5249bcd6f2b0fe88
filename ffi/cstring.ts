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
 * A NULL-terminated `char *[]` and the buffers it points into. Keep the
 * returned object reachable until the C call that reads it has returned.
 */
export interface CStringArray {
  pointers: BigUint64Array<ArrayBuffer>;
  strings: Uint8Array<ArrayBuffer>[];
}

/** Builds a NULL-terminated array of C strings. */
export function cstringArray(items: readonly string[]): CStringArray {
  const strings = items.map(cstring);
  const pointers = new BigUint64Array(strings.length + 1);
  strings.forEach((s, i) => pointers[i] = addressOf(s));
  return { pointers, strings };
}
