/**
 * TOML text → a document, or one diagnostic naming the line of the first
 * syntax error. Without zod: `run` parses with this before it knows whether
 * it needs zod at all (policy/load.ts).
 *
 * @module
 */

import { parse, TomlError } from "smol-toml";
import type { Diagnostic, Source } from "./diagnostic.ts";
import { findSyntaxProblem } from "./toml_syntax.ts";

/** Parses TOML, or says where the syntax is wrong. */
export function parseDocument(
  source: Source,
): { doc: Record<string, unknown>; diagnostics?: undefined } | {
  doc?: undefined;
  diagnostics: Diagnostic[];
} {
  // Our own scan first: it names the right line for the usual mistakes,
  // and catches a header smol-toml accepts without its closing "]".
  const problem = findSyntaxProblem(source.text);
  const error = (line: number, column: number, message: string) => ({
    diagnostics: [{
      severity: "error" as const,
      path: [],
      line,
      column,
      message: `TOML syntax error: ${message}`,
    }],
  });
  let doc: Record<string, unknown>;
  try {
    doc = parse(source.text) as Record<string, unknown>;
  } catch (e) {
    if (!(e instanceof TomlError)) throw e;
    if (problem && problem.line <= e.line) {
      return error(problem.line, problem.column, problem.message);
    }
    const first = e.message.split("\n")[0].replace(
      /^Invalid TOML document: /,
      "",
    );
    return error(e.line, e.column, first);
  }
  if (problem) return error(problem.line, problem.column, problem.message);
  return { doc };
}
