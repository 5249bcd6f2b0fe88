#!/usr/bin/env python3
"""Plants code in landlockd's run bundle (CHECKOUT/dist/run/) as a user who
can write that folder but not the sources, and restamps the bundle's records
(dist/run/direct.stamps, socket.stamps) so the bundle still looks fresh: the
next `landlockd run` from CHECKOUT, by anyone, root included, would run the
planted line first.

Usage: bundle_plant.py CHECKOUT MARKER
The planted code writes MARKER (with the uid that ran it) and prints
"planted ran".
"""
import json
import os
import struct
import sys

checkout, marker = sys.argv[1], sys.argv[2]
run = os.path.join(checkout, "dist", "run")

# A record's entry (ffi/stamps.c): size, ino, mtime, ctime as doubles,
# flags, the path's length with its NUL, the path, zeros to 8 bytes.
HEAD = struct.Struct("<ddddII")
OWN = 1


def entries(data):
    at = 0
    while at < len(data):
        size, ino, mtime, ctime, flags, n = HEAD.unpack_from(data, at)
        path = data[at + HEAD.size:at + HEAD.size + n - 1].decode()
        yield at, flags, path
        at += HEAD.size + ((n + 7) & ~7)


planted = (
    'Deno.writeTextFileSync(%s, `uid ${Deno.uid()}\\n`); '
    'console.error("planted ran");\n' % json.dumps(marker)
)
for kind in ("direct", "socket"):
    record = os.path.join(run, f"{kind}.stamps")
    with open(record, "rb") as f:
        data = bytearray(f.read())
    # The entry is the record's first file.
    entry = os.path.join(checkout, next(entries(data))[2])
    with open(entry) as f:
        text = f.read()
    if not text.startswith(planted):
        # A new file renamed over the old one, as an editor would.
        tmp = entry + ".new"
        with open(tmp, "w") as f:
            f.write(planted + text)
        os.rename(tmp, entry)
    for at, flags, path in entries(data):
        if flags != OWN:
            continue
        st = os.stat(os.path.join(checkout, path))
        # What Deno reports: mtime in milliseconds, ctime in whole seconds.
        _, _, _, _, flags, n = HEAD.unpack_from(data, at)
        HEAD.pack_into(data, at, st.st_size, st.st_ino,
                       st.st_mtime_ns // 1_000_000, int(st.st_ctime) * 1000,
                       flags, n)
    tmp = record + ".new"
    with open(tmp, "wb") as f:
        f.write(data)
    os.rename(tmp, record)
print("planted")
