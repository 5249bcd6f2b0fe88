/**
 * Errors and warnings about a policy document, in one voice:
 * `FILE:LINE: KEY.PATH: what is wrong; what was expected`.
 *
 * @module
 */

import { formatKeyPath, indexLines, type KeyPath, lineOf } from "./locate.ts";

/** One finding about a policy. */
export interface Diagnostic {
  severity: "error" | "warning";
  /** Key path inside the document; empty for the document itself. */
  path: KeyPath;
  message: string;
  /** 1-based; set when the TOML parser or the line index knows it. */
  line?: number;
  column?: number;
  /** The file it is about, when not the policy being read (a base it extends). */
  source?: Source;
}

/** The document a diagnostic is about. */
export interface Source {
  /** What to call it in messages: a file path or `policy "ci-default"`. */
  name: string;
  text: string;
  /**
   * Where it was read from (a path or URL), to resolve `extends` against;
   * `sourceFile` (policy/source.ts) gives the file on disk, if any.
   */
  location?: string;
}

/** Adds line numbers from the document to diagnostics that lack one. */
export function locate(source: Source, diags: Diagnostic[]): Diagnostic[] {
  const indexes = new Map<Source, Map<string, number>>();
  return diags.map((d) => {
    if (d.line !== undefined || d.path.length === 0) return d;
    const of = d.source ?? source;
    if (!indexes.has(of)) indexes.set(of, indexLines(of.text));
    return { ...d, line: lineOf(indexes.get(of)!, d.path) };
  });
}

/** `ci.toml:7: fs_layer[0].rule[0].path: "/nope" does not exist` */
export function formatDiagnostic(source: Source, d: Diagnostic): string {
  let where = (d.source ?? source).name;
  if (d.line !== undefined) where += `:${d.line}`;
  if (d.column !== undefined) where += `:${d.column}`;
  const key = formatKeyPath(d.path);
  const prefix = d.severity === "warning" ? "warning: " : "";
  return `${where}: ${prefix}${key ? `${key}: ` : ""}${d.message}`;
}

/** A policy that cannot be used; carries every error found. */
export class PolicyError extends Error {
  override name = "PolicyError";

  constructor(readonly source: Source, readonly diagnostics: Diagnostic[]) {
    super(
      locate(source, diagnostics).map((d) => formatDiagnostic(source, d)).join(
        "\n",
      ),
    );
  }
}

/** One problem with a path the policy names, found when it is opened. */
export class PathError extends Error {
  override name = "PathError";
  constructor(readonly diagnostic: Diagnostic) {
    super(diagnostic.message);
  }
}
