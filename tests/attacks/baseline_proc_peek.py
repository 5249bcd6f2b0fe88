"""Attack: read another process's /proc/PID/environ and maps, as a
sandboxed process whose policy grants read on /proc.

    baseline_proc_peek.py parent        landlockd: the parent process
    baseline_proc_peek.py daemon        every `landlockd serve` found by
                                        scanning /proc/*/cmdline

Prints probe-style lines, "environ parent: OK" or "maps daemon PID: EACCES",
and "secret parent: OK" when the environment it read holds LANDLOCKD_SECRET.
"""
import errno
import os
import sys


def daemon_pids():
    me = os.getpid()
    for name in os.listdir("/proc"):
        if not name.isdigit() or int(name) == me:
            continue
        try:
            with open(f"/proc/{name}/cmdline", "rb") as f:
                argv = f.read().split(b"\0")
        except OSError:
            continue
        if b"serve" in argv and any(a.endswith(b"main.ts") for a in argv):
            yield int(name)


def peek(label, pid):
    for what in ("environ", "maps"):
        try:
            with open(f"/proc/{pid}/{what}", "rb") as f:
                data = f.read()
            print(f"{what} {label}: OK")
            if what == "environ" and b"LANDLOCKD_SECRET=" in data:
                print(f"secret {label}: OK")
        except OSError as e:
            print(f"{what} {label}: {errno.errorcode[e.errno]}")


if sys.argv[1:] == ["parent"]:
    peek("parent", os.getppid())
elif sys.argv[1:] == ["daemon"]:
    pids = list(daemon_pids())
    print(f"daemons: {len(pids)}")
    for pid in pids:
        peek(f"daemon {pid}", pid)
else:
    sys.exit("usage: baseline_proc_peek.py parent | daemon")
