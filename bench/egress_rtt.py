"""Times N small round trips to an echo server: connect, then (through the
proxy) CONNECT and its 200, then 64 bytes out and back, then close.
Prints "time rtt: median_us=… p95_us=…".

usage: egress_rtt.py direct|proxy HOST PORT N"""
import os
import socket
import statistics
import sys
import time
from urllib.parse import urlsplit

mode, host, port, n = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
proxy = urlsplit(os.environ.get("HTTPS_PROXY", "http://127.0.0.1:1"))
payload = b"x" * 64
times = []
for _ in range(n):
    t0 = time.perf_counter()
    if mode == "proxy":
        s = socket.create_connection((proxy.hostname, proxy.port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
        s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
        head = b""
        while b"\r\n\r\n" not in head:
            head += s.recv(4096)
        assert head.startswith(b"HTTP/1.1 200"), head
    else:
        s = socket.create_connection(("127.0.0.1", port))
        s.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
    s.sendall(payload)
    got = b""
    while len(got) < len(payload):
        got += s.recv(4096)
    s.close()
    times.append((time.perf_counter() - t0) * 1e6)
times.sort()
print(f"time rtt: median_us={statistics.median(times):.1f} p95_us={times[int(len(times) * 0.95) - 1]:.1f}")
