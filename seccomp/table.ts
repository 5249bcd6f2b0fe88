/**
 * System call names → numbers for x86_64 and aarch64 (the generated tables).
 * Kept apart from the filter builder so that a run without a deny list or a
 * broker does not load them.
 *
 * @module
 */

import { AARCH64_SYSCALLS, X86_64_SYSCALLS } from "./syscall_table.ts";
import type { Arch } from "./filter.ts";

/** The syscall table of `arch`. */
export function syscallTable(arch: Arch): Readonly<Record<string, number>> {
  return arch === "x86_64" ? X86_64_SYSCALLS : AARCH64_SYSCALLS;
}

/** The number of `name` on `arch`, or undefined. */
export function syscallNumber(arch: Arch, name: string): number | undefined {
  return Object.hasOwn(syscallTable(arch), name)
    ? syscallTable(arch)[name]
    : undefined;
}
