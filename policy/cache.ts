/**
 * A cache of validated policies, keyed by their exact text.
 *
 * Validation needs zod and a TOML parser, which take tens of milliseconds to
 * load; `run` would pay that on every start. An entry stores the policy text
 * next to its validated form and is used only when the stored text equals
 * the text being run, character for character; the file name is just a
 * 64-bit FNV-1a hash of (format, landlockd version, text) to find it. The
 * cache lives in the user's own directory (mode 0700), and entries not owned
 * by the user or writable by others are ignored. `LANDLOCKD_NO_CACHE=1`
 * turns it off; `LANDLOCKD_CACHE_DIR` moves it.
 *
 * @module
 */

import { envSwitch } from "../env.ts";
import { VERSION } from "../version.ts";
import type { Policy } from "./schema.ts";

const FORMAT = 2;

interface Entry {
  text: string;
  policy: Policy;
}

function cacheDir(): string | undefined {
  if (envSwitch("LANDLOCKD_NO_CACHE")) return undefined;
  const explicit = Deno.env.get("LANDLOCKD_CACHE_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  const home = Deno.env.get("HOME");
  const base = xdg || (home ? `${home}/.cache` : undefined);
  return base ? `${base}/landlockd/policies` : undefined;
}

/** 64-bit FNV-1a over UTF-16 code units, as 16 hex digits. */
export function fnv1a64(s: string): string {
  let hi = 0xcbf29ce4, lo = 0x84222325;
  for (let i = 0; i < s.length; i++) {
    lo = (lo ^ s.charCodeAt(i)) >>> 0;
    // (hi:lo) * 0x100000001b3 mod 2^64 = (hi:lo) * 0x1b3 + ((hi:lo) << 40)
    const low = lo * 0x1b3;
    hi = (hi * 0x1b3 + Math.floor(low / 0x100000000) + ((lo << 8) >>> 0)) >>>
      0;
    lo = low >>> 0;
  }
  return hi.toString(16).padStart(8, "0") + lo.toString(16).padStart(8, "0");
}

function fileFor(dir: string, text: string): string {
  // The architecture is in the key: syscall names validate against its table.
  return `${dir}/${
    fnv1a64(`${FORMAT}\0${VERSION}\0${Deno.build.arch}\0${text}`)
  }.json`;
}

function trusted(path: string): boolean {
  const st = Deno.statSync(path);
  return st.uid === Deno.uid() && ((st.mode ?? 0) & 0o022) === 0;
}

/** The validated form of exactly `text`, if it was cached. */
export function cachedPolicy(text: string): Policy | undefined {
  const dir = cacheDir();
  if (!dir) return undefined;
  const file = fileFor(dir, text);
  try {
    if (!trusted(dir) || !trusted(file)) return undefined;
    const entry = JSON.parse(Deno.readTextFileSync(file)) as Entry;
    return entry.text === text ? entry.policy : undefined;
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
    const file = fileFor(dir, text);
    const tmp = `${file}.${Deno.pid}.tmp`;
    const entry: Entry = { text, policy };
    Deno.writeTextFileSync(tmp, JSON.stringify(entry), { mode: 0o600 });
    Deno.renameSync(tmp, file);
  } catch {
    // An unwritable cache is not an error.
  }
}
