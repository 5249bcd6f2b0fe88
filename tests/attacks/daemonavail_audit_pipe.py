#!/usr/bin/env python3
"""A client whose audit fd is a full pipe nobody reads (issue 10, item 5's
sibling: the daemon writes a run's audit events to the fd a client passes).

usage: daemonavail_audit_pipe.py SOCKET
Shrinks a pipe to one page, fills it, sends a run (`true`, ci-default)
with stdio fds and that pipe's write end as its audit fd, prints
"ready" and the daemon's first reply (or "no reply" after 5 s), then
holds the pipe until stdin closes.
"""

import fcntl
import json
import os
import socket
import struct
import sys

F_SETPIPE_SZ = 1031


def frame(header):
    data = json.dumps({"v": 1, **header}).encode()
    return struct.pack("<II", len(data), 0) + data


def main():
    path = sys.argv[1]
    policy = open(sys.argv[2]).read()
    r, w = os.pipe()
    fcntl.fcntl(w, F_SETPIPE_SZ, 4096)
    os.set_blocking(w, False)
    try:
        while True:
            os.write(w, b"x" * 4096)
    except BlockingIOError:
        pass
    os.set_blocking(w, True)
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    devnull = os.open("/dev/null", os.O_RDWR)
    run = frame({"type": "run", "id": 1,
                 "policy": {"name": "ci-default", "text": policy},
                 "argv": ["true"], "env": {"PATH": "/usr/bin:/bin"},
                 "cwd": "/", "stdio": "fds", "audit_fd": True})
    socket.send_fds(s, [run], [devnull, devnull, devnull, w])
    s.settimeout(5)
    try:
        reply = s.recv(65536)
        print("ready", reply[8:].decode(errors="replace").split("\n")[0],
              flush=True)
    except socket.timeout:
        print("ready no reply", flush=True)
    sys.stdin.read()
    os.close(r)


main()
