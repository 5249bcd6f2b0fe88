"""Run under `landlockd learn`: write a file in DIR (a directory that
existed before the run, so DIR gets a rule), fill the observer's record
(8192 distinct accesses) with files created in BULK, then, unrecorded,
move DIR away and put a symlink to SECRET in its place. A learned rule
naming DIR would follow the symlink at the next run: to SECRET, which this
command never touched."""
import os
import sys

target, secret, bulk = sys.argv[1:4]
with open(f"{target}/f", "w") as f:
    f.write("x")
for i in range(9000):
    open(f"{bulk}/{i}", "w").close()
os.rename(target, target + ".old")
os.symlink(secret, target)
