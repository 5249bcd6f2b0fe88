"""Start-up A/B: `landlockd run --policy ci-default -- /bin/true`, directly
and through a daemon (`run --socket`), for two checkouts, interleaved run by
run (the order rotates every round) beside Deno's empty-script floor, so a
noisy machine hits every arm alike. Wall time per run, and the child's user +
system CPU time (wait4), which load disturbs less.

Usage: python3 bench/startup_ab.py RUNS OUT.json A_ROOT B_ROOT [EXTRA_ARM...]

EXTRA_ARM is NAME=COMMAND (a shell-free command line, split on spaces;
"{socket}" is replaced by the daemon's socket). One daemon, started from
A_ROOT, serves every --socket arm: only the clients differ.
"""
import json, os, shlex, statistics, subprocess, sys, tempfile, time

runs, out, a_root, b_root = int(sys.argv[1]), sys.argv[2], sys.argv[3], sys.argv[4]
extra = [a.split("=", 1) for a in sys.argv[5:]]
deno = "deno"
empty = os.path.join(tempfile.mkdtemp(prefix="landlockd-ab-"), "empty.ts")
open(empty, "w").close()
sockdir = tempfile.mkdtemp(prefix="landlockd-ab-sock-")
os.chmod(sockdir, 0o700)
socket = f"{sockdir}/landlockd.sock"
daemon = subprocess.Popen([deno, "run", "-A", f"{a_root}/main.ts", "serve", "--socket", socket],
                          stdout=subprocess.DEVNULL)
for _ in range(400):
    if os.path.exists(socket):
        break
    time.sleep(0.025)

def direct(root):
    return [deno, "run", "-A", f"{root}/main.ts", "run", "--policy", "ci-default", "--", "/bin/true"]

def remote(root):
    return [deno, "run", "-A", f"{root}/main.ts", "run", "--socket", socket, "--policy", "ci-default", "--", "/bin/true"]

arms = {
    "floor: deno run empty.ts": [deno, "run", "-A", empty],
    "A direct": direct(a_root),
    "B direct": direct(b_root),
    "A --socket": remote(a_root),
    "B --socket": remote(b_root),
}
for name, cmd in extra:
    arms[name] = [w.replace("{socket}", socket) for w in shlex.split(cmd)]

def once(cmd):
    t = time.perf_counter()
    p = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    err = p.stderr.read()
    _, status, ru = os.wait4(p.pid, 0)
    wall = (time.perf_counter() - t) * 1000
    if status != 0:
        sys.exit(f"{cmd}: status {status}: {err[-400:]!r}")
    return wall, (ru.ru_utime + ru.ru_stime) * 1000

names = list(arms)
wall = {n: [] for n in names}
cpu = {n: [] for n in names}
load_start = os.getloadavg()
try:
    for n in names:  # warm Deno's caches
        once(arms[n])
    for i in range(runs):
        k = i % len(names)
        for n in names[k:] + names[:k]:
            w, c = once(arms[n])
            wall[n].append(w)
            cpu[n].append(c)
finally:
    daemon.terminate()
    daemon.wait()

med = lambda xs: statistics.median(xs)
floor = med(wall[names[0]])
summary = {}
for n in names:
    summary[n] = {"wall_ms_median": round(med(wall[n]), 2), "cpu_ms_median": round(med(cpu[n]), 2),
                  "wall_minus_floor_ms": round(med(wall[n]) - floor, 2), "x_floor": round(med(wall[n]) / floor, 3)}
for mode in ("direct", "--socket"):
    a, b = f"A {mode}", f"B {mode}"
    summary[f"B/A {mode}"] = {"wall": round(med(wall[b]) / med(wall[a]), 3), "cpu": round(med(cpu[b]) / med(cpu[a]), 3),
                             "wall_saved_ms": round(med(wall[a]) - med(wall[b]), 2),
                             "cpu_saved_ms": round(med(cpu[a]) - med(cpu[b]), 2)}
rev = lambda root: subprocess.run(["git", "-C", root, "rev-parse", "--short", "HEAD"], capture_output=True, text=True).stdout.strip()
dirty = lambda root: bool(subprocess.run(["git", "-C", root, "status", "--porcelain", "--untracked-files=no"], capture_output=True, text=True).stdout.strip())
json.dump({"what": "landlockd run --policy ci-default -- /bin/true, direct and --socket, two checkouts interleaved run by run beside deno's empty-script floor",
           "runs": runs, "a": {"root": a_root, "commit": rev(a_root), "dirty": dirty(a_root)},
           "b": {"root": b_root, "commit": rev(b_root), "dirty": dirty(b_root)},
           "deno": subprocess.run([deno, "--version"], capture_output=True, text=True).stdout.split("\n")[0],
           "loadavg_start": load_start, "loadavg_end": os.getloadavg(), "summary": summary, "wall_ms": wall, "cpu_ms": cpu},
          open(out, "w"), indent=1)
for n, s in summary.items():
    print(f"{n:28} {s}")
