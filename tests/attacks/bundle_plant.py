#!/usr/bin/env python3
"""Plants code in landlockd's run bundle (CHECKOUT/dist/run/) as a user who
can write that folder but not the sources, and restamps the manifest so the
bundle still looks fresh: the next `landlockd run` from CHECKOUT, by anyone,
root included, would run the planted line first.

Usage: bundle_plant.py CHECKOUT MARKER
The planted code writes MARKER (with the uid that ran it) and prints
"planted ran".
"""
import json
import os
import sys

checkout, marker = sys.argv[1], sys.argv[2]
run = os.path.join(checkout, "dist", "run")
with open(os.path.join(run, "manifest.json")) as f:
    manifest = json.load(f)

planted = (
    'Deno.writeTextFileSync(%s, `uid ${Deno.uid()}\\n`); '
    'console.error("planted ran");\n' % json.dumps(marker)
)
for kind in ("direct", "socket"):
    entry = os.path.join(run, manifest["entries"][kind])
    with open(entry) as f:
        text = f.read()
    if not text.startswith(planted):
        # A new file renamed over the old one, as an editor would.
        tmp = entry + ".new"
        with open(tmp, "w") as f:
            f.write(planted + text)
        os.rename(tmp, entry)


def stamp(path):
    st = os.stat(path)
    # What Deno reports: mtime in milliseconds, ctime in whole seconds.
    return {
        "size": st.st_size,
        "ino": st.st_ino,
        "mtime": st.st_mtime_ns // 1_000_000,
        "ctime": int(st.st_ctime) * 1000,
    }


for kind, chunks in manifest["chunks"].items():
    for c in chunks:
        c.update(stamp(os.path.join(checkout, c["path"])))
tmp = os.path.join(run, "manifest.json.new")
with open(tmp, "w") as f:
    json.dump(manifest, f)
os.rename(tmp, os.path.join(run, "manifest.json"))
print("planted")
