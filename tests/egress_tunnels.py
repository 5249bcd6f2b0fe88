"""Opens N CONNECT tunnels through $HTTPS_PROXY at once, then sends a GET
through each; prints "open N" and "ok N" (how many answered 200).

usage: egress_tunnels.py HOST PORT N"""
import os
import socket
import sys
from urllib.parse import urlsplit

host, port, n = sys.argv[1], int(sys.argv[2]), int(sys.argv[3])
proxy = urlsplit(os.environ["HTTPS_PROXY"])


def read_head(s):
    data = b""
    while b"\r\n\r\n" not in data:
        chunk = s.recv(4096)
        if not chunk:
            break
        data += chunk
    return data


socks = []
for _ in range(n):
    s = socket.create_connection((proxy.hostname, proxy.port), timeout=30)
    s.sendall(f"CONNECT {host}:{port} HTTP/1.1\r\nHost: {host}:{port}\r\n\r\n".encode())
    socks.append(s)
opened = sum(1 for s in socks if read_head(s).startswith(b"HTTP/1.1 200"))
print("open", opened, flush=True)
for s in socks:
    s.sendall(f"GET /hello HTTP/1.1\r\nHost: {host}:{port}\r\nConnection: close\r\n\r\n".encode())
ok = 0
for s in socks:
    data = b""
    while True:
        chunk = s.recv(65536)
        if not chunk:
            break
        data += chunk
    if data.startswith(b"HTTP/1.1 200") and b"hello from" in data:
        ok += 1
    s.close()
print("ok", ok, flush=True)
