/**
 * A content-addressed cache of validated policies.
 *
 * Validation needs zod and a TOML parser, which take tens of milliseconds to
 * load; `run` would pay that on every start. The cache maps the SHA-256 of
 * (cache format, landlockd version, policy text) to the validated policy, so
 * a policy that was validated once starts without either. The cache lives in
 * the user's own directory (mode 0700), and entries not owned by the user or
 * writable by others are ignored. `LANDLOCKD_NO_CACHE=1` turns it off.
 *
 * @module
 */

import { VERSION } from "../version.ts";
import type { Policy } from "./schema.ts";
import { sha256Hex } from "./sha256.ts";

const FORMAT = 1;

function cacheDir(): string | undefined {
  if (Deno.env.get("LANDLOCKD_NO_CACHE") === "1") return undefined;
  const explicit = Deno.env.get("LANDLOCKD_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  const base = xdg || (home ? `${home}/.cache` : undefined);
  return base ? `${base}/landlockd/policies` : undefined;
}

function keyOf(text: string): string {
  return sha256Hex(new TextEncoder().encode(`${FORMAT}\0${VERSION}\0${text}`));
}

function trusted(path: string): boolean {
  const st = Deno.statSync(path);
  return st.uid === Deno.uid() && ((st.mode ?? 0) & 0o022) === 0;
}

/** Looks up the validated form of `text`. */
export function cachedPolicy(text: string): Policy | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const file = `${dir}/${keyOf(text)}.json`;
  try {
    if (!trusted(dir) || !trusted(file)) return undefined;
    return JSON.parse(Deno.readTextFileSync(file)) as Policy;
  } catch {
    return undefined;
  }
}

/** Remembers the validated form of `text`; failures only cost speed. */
export function cachePolicy(text: string, policy: Policy): void {
  const dir = cacheDir();
  if (!dir) return;
  try {
    Deno.mkdirSync(dir, { recursive: true, mode: 0o700 });
    const file = `${dir}/${keyOf(text)}.json`;
    const tmp = `${file}.${Deno.pid}.tmp`;
    Deno.writeTextFileSync(tmp, JSON.stringify(policy), { mode: 0o600 });
    Deno.renameSync(tmp, file);
  } catch {
    // An unwritable cache is not an error.
  }
}
