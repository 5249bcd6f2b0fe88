/**
 * Finds the line a key path comes from in a TOML document, so that errors
 * found after parsing can still point at a line. It understands table
 * headers (`[a.b]`, `[[a.b]]`) and `key =` lines, which is all the policy
 * format uses; anything it cannot place falls back to the nearest parent.
 *
 * @module
 */

/** A key path as zod reports it, e.g. `["fs_layer", 0, "rule", 1, "path"]`. */
export type KeyPath = readonly (string | number)[];

const HEADER = /^\s*(\[\[?)\s*([^\]]+?)\s*\]\]?\s*(#.*)?$/;
const KEY = /^\s*("[^"]*"|'[^']*'|[A-Za-z0-9_.-]+)\s*=/;

function splitKey(key: string): string[] {
  return key.split(".").map((k) => k.trim().replace(/^["']|["']$/g, ""));
}

/** Maps every key path in `text` to its 1-based line. */
export function indexLines(text: string): Map<string, number> {
  const lines = new Map<string, number>();
  const counts = new Map<string, number>();
  let table: (string | number)[] = [];
  let depth = 0; // inside a multi-line array or inline table

  text.split("\n").forEach((line, i) => {
    const n = i + 1;
    if (depth > 0) {
      depth += bracketBalance(line);
      return;
    }
    const header = HEADER.exec(line);
    if (header) {
      const keys = splitKey(header[2]);
      const resolved: (string | number)[] = [];
      // Array-of-tables parents resolve to their latest element.
      keys.forEach((k, j) => {
        resolved.push(k);
        const isLast = j === keys.length - 1;
        const id = resolved.join(".");
        if (isLast && header[1] === "[[") {
          const index = (counts.get(id) ?? -1) + 1;
          counts.set(id, index);
          resolved.push(index);
        } else if (counts.has(id)) {
          resolved.push(counts.get(id)!);
        }
        if (!lines.has(resolved.join("."))) lines.set(resolved.join("."), n);
      });
      table = resolved;
      return;
    }
    const key = KEY.exec(line);
    if (key) {
      const path = [...table, ...splitKey(key[1])].join(".");
      if (!lines.has(path)) lines.set(path, n);
      depth = Math.max(0, bracketBalance(line.slice(key[0].length)));
    }
  });
  return lines;
}

function bracketBalance(s: string): number {
  let balance = 0;
  let quote = "";
  for (const ch of s) {
    if (quote) {
      if (ch === quote) quote = "";
    } else if (ch === '"' || ch === "'") quote = ch;
    else if (ch === "#") break;
    else if (ch === "[" || ch === "{") balance++;
    else if (ch === "]" || ch === "}") balance--;
  }
  return balance;
}

/** The line of `path`, or of its nearest parent that has one. */
export function lineOf(
  index: Map<string, number>,
  path: KeyPath,
): number | undefined {
  for (let len = path.length; len > 0; len--) {
    const line = index.get(path.slice(0, len).join("."));
    if (line !== undefined) return line;
  }
  return undefined;
}

/** `fs_layer[0].rule[1].path` */
export function formatKeyPath(path: KeyPath): string {
  let out = "";
  for (const part of path) {
    out += typeof part === "number" ? `[${part}]` : out ? `.${part}` : part;
  }
  return out;
}
