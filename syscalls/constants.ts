/**
 * Flag values from the kernel's uapi headers that landlockd's TypeScript
 * uses. Plain numbers, no FFI: pure modules import them too. Where x86_64
 * and aarch64 differ, both are given.
 *
 * @module
 */

export const AT_FDCWD = -100;
export const AT_REMOVEDIR = 0x200;
export const AT_SYMLINK_FOLLOW = 0x400;
export const AT_EMPTY_PATH = 0x1000;

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20000000;
/** `O_DIRECTORY` differs between architectures. */
export const O_DIRECTORY = Deno.build.arch === "aarch64" ? 0o40000 : 0o200000;

export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_BENEATH = 0x08;

export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;
