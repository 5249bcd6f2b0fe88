/**
 * Path relations shared by lint and the run path (no zod here).
 *
 * @module
 */

/** Whether `path` is `base` or lies beneath it (lexically). */
export function isBeneath(path: string, base: string): boolean {
  if (base === "/") return true;
  const b = base.replace(/\/+$/, "");
  return path === b || path.startsWith(`${b}/`);
}

/** The directory holding absolute `path` (`"/"` for `"/"` and `"/x"`). */
export function parentOf(path: string): string {
  const i = path.replace(/\/+$/, "").lastIndexOf("/");
  return i <= 0 ? "/" : path.slice(0, i);
}
