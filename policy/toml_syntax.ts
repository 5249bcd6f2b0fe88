/**
 * Clearer TOML syntax errors for the mistakes people make in policy files,
 * found line by line: a table header without its closing `]` (smol-toml
 * reports the next line, or accepts it at the end of the file) and a string
 * that is never closed (smol-toml reports a bad key on the next line).
 *
 * @module
 */

/** Where a syntax error is, 1-based, and what it is. */
export interface SyntaxProblem {
  line: number;
  column: number;
  message: string;
}

/** Blanks out quoted text, so brackets and `#` inside strings are ignored. */
function withoutStrings(s: string): { text: string; open?: number } {
  let out = "";
  let quote = "";
  let start = 0;
  for (let i = 0; i < s.length; i++) {
    const ch = s[i];
    if (quote) {
      if (quote === '"' && ch === "\\") {
        out += "  ";
        i++;
        continue;
      }
      if (ch === quote) quote = "";
      out += quote ? " " : ch;
    } else if (ch === '"' || ch === "'") {
      if (s.startsWith(ch.repeat(3), i)) return { text: out, open: -1 - i };
      quote = ch;
      start = i;
      out += ch;
    } else if (ch === "#") break;
    else out += ch;
  }
  return quote ? { text: out, open: start } : { text: out };
}

/** The first problem found, or undefined. */
export function findSyntaxProblem(text: string): SyntaxProblem | undefined {
  const lines = text.split("\n");
  let depth = 0; // inside a multi-line array or inline table
  let multiline = ""; // inside a """ or ''' string: its delimiter
  let multilineStart = 0;
  for (let i = 0; i < lines.length; i++) {
    let line = lines[i];
    if (multiline) {
      const end = line.indexOf(multiline);
      if (end < 0) continue;
      line = line.slice(end + 3);
      multiline = "";
    }
    const { text: bare, open } = withoutStrings(line);
    if (open !== undefined && open < 0) {
      const at = -1 - open;
      const delim = line.slice(at, at + 3);
      const rest = line.slice(at + 3);
      if (!rest.includes(delim)) {
        multiline = delim;
        multilineStart = i;
        continue;
      }
    } else if (open !== undefined) {
      return {
        line: i + 1,
        column: open + 1,
        message: "unterminated string: a string must end on the line it starts",
      };
    }
    if (depth === 0 && /^\s*\[/.test(bare)) {
      const trimmed = bare.trim();
      const array = trimmed.startsWith("[[");
      const ok = array
        ? /^\[\[[^[\]]+\]\]$/.test(trimmed)
        : /^\[[^[\]]+\]$/.test(trimmed);
      if (!ok) {
        return {
          line: i + 1,
          column: bare.length - bare.trimStart().length + 1,
          message: `table header ${JSON.stringify(line.trim())}: expected ${
            array ? "[[name]]" : "[name]"
          }, with its closing ${array ? "]]" : "]"} on the same line`,
        };
      }
      continue;
    }
    const eq = depth === 0 ? bare.indexOf("=") : -1;
    for (const ch of eq >= 0 ? bare.slice(eq + 1) : bare) {
      if (ch === "[" || ch === "{") depth++;
      else if (ch === "]" || ch === "}") depth = Math.max(0, depth - 1);
    }
  }
  if (multiline) {
    return {
      line: multilineStart + 1,
      column: 1,
      message: `unterminated string: the ${multiline} string is never closed`,
    };
  }
  return undefined;
}
