/**
 * Where a policy's text comes from: a file, or a name looked up in the
 * policy search path and then among the starter policies.
 *
 * @module
 */

import type { Source } from "./diagnostic.ts";

/** The starter policies shipped inside landlockd. */
export const BUILTIN_POLICIES = new URL("../policies/", import.meta.url);

/** A named policy that could not be used. */
export class PolicyLookupError extends Error {
  override name = "PolicyLookupError";
}

/** The directories searched for `--policy NAME`, in order. */
export function policySearchPath(): string[] {
  const dirs: string[] = [];
  const extra = Deno.env.get("LANDLOCKD_POLICY_PATH");
  if (extra) dirs.push(...extra.split(":").filter((d) => d !== ""));
  const xdg = Deno.env.get("XDG_CONFIG_HOME");
  const home = Deno.env.get("HOME");
  if (xdg) dirs.push(`${xdg}/landlockd/policies`);
  else if (home) dirs.push(`${home}/.config/landlockd/policies`);
  dirs.push("/etc/landlockd/policies");
  return dirs;
}

/** Refuses names that could reach outside the search directories. */
export function checkPolicyName(name: string): void {
  if (
    name === "" || name === "." || name === ".." || name.includes("/") ||
    name.includes("\0")
  ) {
    throw new PolicyLookupError(
      `Invalid policy name ${
        JSON.stringify(name)
      }: a name cannot be empty, ".", ".." or contain "/"; use --policy-file for a path`,
    );
  }
}

function readIfExists(path: string | URL): string | undefined {
  try {
    return Deno.readTextFileSync(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotFound) return undefined;
    throw e;
  }
}

/**
 * The file on disk a policy was read from: a path, or a `file:` URL's path;
 * none for a built-in policy embedded in a compiled binary (no file there
 * for a sandbox to change) or a policy that came from no file.
 */
export function sourceFile(source: Source): string | undefined {
  const loc = source.location;
  if (loc === undefined) return undefined;
  if (!/^[a-z]+:/.test(loc)) return loc;
  if (!loc.startsWith("file:")) return undefined;
  if (Deno.build.standalone && loc.startsWith(BUILTIN_POLICIES.href)) {
    return undefined;
  }
  return new URL(loc).pathname;
}

/** A named policy, and the policies of that name it hides. */
export interface NamedSource extends Source {
  /** Files later in the search path, or `the built-in one`, it shadows. */
  shadows: string[];
}

function exists(path: string | URL): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

/**
 * The warning for a named policy that hides another of the same name (a
 * sandbox that could write a search directory may have planted it).
 */
export function shadowWarning(name: string, source: NamedSource): string {
  return `warning: policy "${name}" is read from "${
    sourceFile(source) ?? source.name
  }", which shadows ${
    source.shadows.join(" and ")
  }; check that file: whoever can write its directory chooses this policy`;
}

/**
 * A search-path file's text, or undefined where there is none. A file (or
 * directory) that is there but unreadable stops the lookup: it may be the
 * policy meant, so skipping it for a later one would be a guess. Typical
 * cause: another user's HOME kept across `sudo -u` or `setpriv`.
 */
function readOnSearchPath(path: string, name: string): string | undefined {
  try {
    return readIfExists(path);
  } catch (e) {
    if (e instanceof Deno.errors.NotADirectory) return undefined;
    if (!(e instanceof Deno.errors.PermissionDenied)) throw e;
    const home = Deno.env.get("XDG_CONFIG_HOME") !== undefined
      ? "XDG_CONFIG_HOME"
      : "HOME";
    throw new PolicyLookupError(
      `Cannot look up policy "${name}": "${path}" is on the policy search path but cannot be read: Permission denied (EACCES); if it comes from ${home} of another user (kept by sudo -u or setpriv), set ${home} to your own, or use --policy-file`,
    );
  }
}

/**
 * Reads a named policy: search path first, then the starter policies.
 * `missing`, if given, tells a search-path file that does not exist
 * without reading it (syscalls/sys.ts `pathMissing`: a failed read throws,
 * and a fresh process's first thrown error is slow); whatever it does not
 * call missing is read as before.
 */
export function readNamedPolicy(
  name: string,
  missing?: (path: string) => boolean,
): NamedSource {
  checkPolicyName(name);
  const file = `${name}.toml`;
  const dirs = policySearchPath();
  const builtin = new URL(file, BUILTIN_POLICIES);
  for (const [i, dir] of dirs.entries()) {
    const path = `${dir}/${file}`;
    if (missing?.(path)) continue;
    const text = readOnSearchPath(path, name);
    if (text === undefined) continue;
    const shadows = dirs.slice(i + 1).map((d) => `${d}/${file}`).filter(
      exists,
    ).map((p) => `"${p}"`);
    if (exists(builtin)) shadows.push("the built-in one");
    return { name: path, text, location: path, shadows };
  }
  const text = readIfExists(builtin);
  if (text !== undefined) {
    return {
      name: `policy "${name}" (built in)`,
      text,
      // Embedded in a compiled binary: no file on disk to protect.
      location: builtin.href,
      shadows: [],
    };
  }
  throw new PolicyLookupError(
    `No policy named "${name}" in ${
      policySearchPath().join(", ")
    } or the starter policies (${builtinPolicyNames().join(", ")})`,
  );
}

/** Reads a policy file. */
export function readPolicyFile(path: string): Source {
  try {
    return {
      name: path,
      text: Deno.readTextFileSync(path),
      location: path,
    };
  } catch (e) {
    const why = e instanceof Deno.errors.NotFound
      ? "No such file or directory (ENOENT)"
      : e instanceof Deno.errors.PermissionDenied
      ? "Permission denied (EACCES)"
      : e instanceof Deno.errors.IsADirectory
      ? "Is a directory (EISDIR)"
      : String(e);
    throw new PolicyLookupError(`Cannot read policy "${path}": ${why}`);
  }
}

/** Names of the starter policies. */
export function builtinPolicyNames(): string[] {
  const names: string[] = [];
  for (const entry of Deno.readDirSync(BUILTIN_POLICIES)) {
    if (entry.isFile && entry.name.endsWith(".toml")) {
      names.push(entry.name.slice(0, -5));
    }
  }
  return names.sort();
}
