"""Slowloris and a connection flood against the run's egress proxy: opens
N connections that never finish a request head. Prints how many were
refused at once (503), then how many the proxy closed within WAIT seconds
(its head timeout), then the status of one ordinary request made after.

usage: egress_flood.py N WAIT URL"""
import os
import socket
import sys
import time
import urllib.request
from urllib.parse import urlsplit

n, wait, url = int(sys.argv[1]), float(sys.argv[2]), sys.argv[3]
proxy = urlsplit(os.environ["HTTP_PROXY"])
socks = []
for _ in range(n):
    s = socket.create_connection((proxy.hostname, proxy.port), timeout=wait)
    s.sendall(b"CONNECT allowed.test:1 HTTP/1.1\r\nX-Slow: ")  # never ends
    socks.append(s)
time.sleep(0.5)
refused, held = 0, []
for s in socks:
    s.setblocking(False)
    try:
        data = s.recv(4096)
        if data.startswith(b"HTTP/1.1 503"):
            refused += 1
        else:
            held.append(s)
    except BlockingIOError:
        held.append(s)
print("refused", refused, flush=True)
closed = 0
deadline = time.time() + wait
for s in held:
    s.settimeout(max(0.1, deadline - time.time()))
    try:
        if s.recv(4096) == b"":
            closed += 1
    except (socket.timeout, ConnectionResetError):
        pass
print("closed", closed, flush=True)
print("after", urllib.request.urlopen(url).status, flush=True)
