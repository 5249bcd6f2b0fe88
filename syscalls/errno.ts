/**
 * errno numbers (asm-generic, shared by x86_64 and aarch64) and the error
 * type every failed system call becomes.
 *
 * @module
 */

const TABLE = [
  [1, "EPERM", "Operation not permitted"],
  [2, "ENOENT", "No such file or directory"],
  [3, "ESRCH", "No such process"],
  [4, "EINTR", "Interrupted system call"],
  [5, "EIO", "Input/output error"],
  [6, "ENXIO", "No such device or address"],
  [7, "E2BIG", "Argument list too long"],
  [8, "ENOEXEC", "Exec format error"],
  [9, "EBADF", "Bad file descriptor"],
  [10, "ECHILD", "No child processes"],
  [11, "EAGAIN", "Resource temporarily unavailable"],
  [12, "ENOMEM", "Cannot allocate memory"],
  [13, "EACCES", "Permission denied"],
  [14, "EFAULT", "Bad address"],
  [16, "EBUSY", "Device or resource busy"],
  [17, "EEXIST", "File exists"],
  [18, "EXDEV", "Invalid cross-device link"],
  [19, "ENODEV", "No such device"],
  [20, "ENOTDIR", "Not a directory"],
  [21, "EISDIR", "Is a directory"],
  [22, "EINVAL", "Invalid argument"],
  [23, "ENFILE", "Too many open files in system"],
  [24, "EMFILE", "Too many open files"],
  [25, "ENOTTY", "Inappropriate ioctl for device"],
  [26, "ETXTBSY", "Text file busy"],
  [27, "EFBIG", "File too large"],
  [28, "ENOSPC", "No space left on device"],
  [29, "ESPIPE", "Illegal seek"],
  [30, "EROFS", "Read-only file system"],
  [31, "EMLINK", "Too many links"],
  [32, "EPIPE", "Broken pipe"],
  [34, "ERANGE", "Numerical result out of range"],
  [36, "ENAMETOOLONG", "File name too long"],
  [38, "ENOSYS", "Function not implemented"],
  [39, "ENOTEMPTY", "Directory not empty"],
  [40, "ELOOP", "Too many levels of symbolic links"],
  [42, "ENOMSG", "No message of desired type"],
  [61, "ENODATA", "No data available"],
  [75, "EOVERFLOW", "Value too large for defined data type"],
  [88, "ENOTSOCK", "Socket operation on non-socket"],
  [90, "EMSGSIZE", "Message too long"],
  [93, "EPROTONOSUPPORT", "Protocol not supported"],
  [95, "EOPNOTSUPP", "Operation not supported"],
  [97, "EAFNOSUPPORT", "Address family not supported by protocol"],
  [98, "EADDRINUSE", "Address already in use"],
  [99, "EADDRNOTAVAIL", "Cannot assign requested address"],
  [104, "ECONNRESET", "Connection reset by peer"],
  [110, "ETIMEDOUT", "Connection timed out"],
  [111, "ECONNREFUSED", "Connection refused"],
  [122, "EDQUOT", "Disk quota exceeded"],
  [115, "EINPROGRESS", "Operation now in progress"],
  [125, "ECANCELED", "Operation canceled"],
] as const;

/** The symbolic errno names landlockd knows, e.g. `"EACCES"`. */
export type ErrnoName = typeof TABLE[number][1];

const BY_NUMBER = new Map<number, { name: string; text: string }>(
  TABLE.map(([n, name, text]) => [n, { name, text }]),
);
const BY_NAME = new Map<string, number>(TABLE.map(([n, name]) => [name, n]));

/**
 * The one errno table: numbers by name, e.g. `errno.EACCES === 13`. Every
 * module that needs an errno takes it from here.
 */
export const errno: Readonly<Record<ErrnoName, number>> = Object.fromEntries(
  BY_NAME,
) as Record<ErrnoName, number>;

/** The symbolic name of an errno number, e.g. `EACCES`, or `errno N`. */
export function errnoName(n: number): string {
  return BY_NUMBER.get(n)?.name ?? `errno ${n}`;
}

/** The C library's text for an errno number. */
export function errnoText(n: number): string {
  return BY_NUMBER.get(n)?.text ?? `Unknown error ${n}`;
}

/** The errno number for a name such as `EACCES`, or undefined. */
export function errnoNumber(name: string): number | undefined {
  return BY_NAME.get(name);
}

/** `No such file or directory (ENOENT)` */
export function describeErrno(n: number): string {
  return `${errnoText(n)} (${errnoName(n)})`;
}

/**
 * A system call that failed: which one, on what, and the errno it returned.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { SyscallError } from "./errno.ts";
 * const e = new SyscallError("open", 2, "/nope");
 * assert.deepEqual(e.message, 'Cannot open "/nope": No such file or directory (ENOENT)');
 * assert.deepEqual(e.code, "ENOENT");
 * ```
 */
export class SyscallError extends Error {
  override name = "SyscallError";
  /** The symbolic errno, e.g. `ENOENT`. */
  readonly code: string;

  constructor(
    readonly syscall: string,
    readonly errno: number,
    readonly subject?: string,
  ) {
    const what = subject === undefined ? syscall : `${syscall} "${subject}"`;
    super(`Cannot ${what}: ${describeErrno(errno)}`);
    this.code = errnoName(errno);
  }
}
