/**
 * Reading a path from another process's memory: one implementation, C's
 * ll_read_remote_path, used by the broker's fast path and (through
 * syscalls/seccomp_notify.ts) by the TypeScript broker. Read here from this
 * process itself, which process_vm_readv allows.
 */
import assert from "node:assert/strict";
import { errno } from "../syscalls/errno.ts";
import { readRemotePath } from "../syscalls/seccomp_notify.ts";

const PAGE = 4096;

/** Three pages, and the address of the first byte of the second. */
function pages(): [Uint8Array<ArrayBuffer>, number, bigint] {
  const buf = new Uint8Array(4 * PAGE);
  const addr = BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(buf)));
  const start = PAGE - Number(addr % BigInt(PAGE));
  return [buf, start, addr + BigInt(start)];
}

Deno.test("a path is read up to its NUL", () => {
  const [buf, start, page] = pages();
  buf.set(new TextEncoder().encode("/etc/passwd\0junk"), start);
  assert.equal(readRemotePath(Deno.pid, page), "/etc/passwd");
});

Deno.test("a path that crosses a page boundary is read whole", () => {
  const [buf, start, page] = pages();
  const path = "/home/user/a-rather-long-directory/file";
  buf.set(new TextEncoder().encode(`${path}\0`), start + PAGE - 5);
  assert.equal(readRemotePath(Deno.pid, page + BigInt(PAGE - 5)), path);
});

Deno.test("a path of 4095 bytes is read; 4096 without a NUL is ENAMETOOLONG", () => {
  const [buf, start, page] = pages();
  buf.fill(0x61, start, start + 2 * PAGE);
  buf[start] = 0x2f;
  buf[start + 4095] = 0;
  assert.equal(readRemotePath(Deno.pid, page), "/" + "a".repeat(4094));
  buf[start + 4095] = 0x61;
  assert.equal(readRemotePath(Deno.pid, page), -errno.ENAMETOOLONG);
});

Deno.test("an unmapped address is EFAULT", () => {
  assert.equal(readRemotePath(Deno.pid, 0n), -errno.EFAULT);
  assert.equal(readRemotePath(Deno.pid, 8n), -errno.EFAULT);
});

Deno.test("another process's memory needs ptrace rights: ESRCH for no process", () => {
  // pid_max is at most 2^22: this pid cannot exist.
  assert.equal(readRemotePath(1 << 23, 4096n), -errno.ESRCH);
});
