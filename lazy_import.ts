/**
 * Loads a module when it is first needed. The specifier reaches `import()`
 * computed, not literal: Deno loads every literal dynamic import at
 * start-up, which would put zod, yaml and every command into `run`'s start.
 * deno.json's compile task embeds these modules with --include, and
 * tests/compile_includes_test.ts checks that every one is listed.
 *
 * @example
 * ```ts ignore
 * const { runDirect } = await lazyImport<typeof import("./cli/run_direct.ts")>(
 *   "./cli/run_direct.ts",
 *   import.meta.url,
 * );
 * ```
 *
 * @module
 */

/** Imports `specifier`, relative to `base` (the caller's import.meta.url). */
export function lazyImport<M>(specifier: string, base: string): Promise<M> {
  return import(new URL(specifier, base).href);
}
