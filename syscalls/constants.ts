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
export const AT_RECURSIVE = 0x8000;

export const O_ACCMODE = 3;
export const O_RDONLY = 0;
export const O_WRONLY = 1;
export const O_CREAT = 0o100;
export const O_TRUNC = 0o1000;
export const O_APPEND = 0o2000;
export const O_NONBLOCK = 0o4000;
export const O_CLOEXEC = 0o2000000;
export const O_PATH = 0o10000000;
export const O_TMPFILE = 0o20000000;
/** `O_DIRECTORY` differs between architectures. */
export const O_DIRECTORY = Deno.build.arch === "aarch64" ? 0o40000 : 0o200000;

export const F_GETFL = 3;
export const F_SETFL = 4;

export const RESOLVE_NO_MAGICLINKS = 0x02;
export const RESOLVE_NO_SYMLINKS = 0x04;
export const RESOLVE_BENEATH = 0x08;
export const RESOLVE_IN_ROOT = 0x10;

export const RENAME_EXCHANGE = 2;
export const RENAME_WHITEOUT = 4;

export const MS_RDONLY = 1;
export const MS_NOSUID = 2;
export const MS_NODEV = 4;
export const MS_NOEXEC = 8;
export const MS_BIND = 4096;
export const MS_REC = 16384;
export const MS_SILENT = 32768;
export const MS_PRIVATE = 1 << 18;
/** The magic an old mount(2) caller may put in the top half of flags. */
export const MS_MGC_MASK = 0xffff0000;
export const MS_MGC_VAL = 0xc0ed0000;
export const MNT_DETACH = 2;

export const MOUNT_ATTR_RDONLY = 1;
export const MOUNT_ATTR_NOSUID = 2;
export const MOUNT_ATTR_NODEV = 4;
export const MOUNT_ATTR_NOEXEC = 8;

export const CLONE_NEWNS = 0x00020000;
export const CLONE_NEWUSER = 0x10000000;
export const CLONE_NEWPID = 0x20000000;

export const OPEN_TREE_CLONE = 1;
export const MOVE_MOUNT_F_EMPTY_PATH = 4;
export const FSOPEN_CLOEXEC = 1;
export const FSMOUNT_CLOEXEC = 1;
export const FSCONFIG_SET_STRING = 1;
export const FSCONFIG_CMD_CREATE = 6;
export const FSCONFIG_CMD_CREATE_EXCL = 8;
