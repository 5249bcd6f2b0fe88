"""Requests crafted to reach denied.test through landlockd's egress proxy
while naming allowed.test somewhere. Prints one line per attempt: its name
and the status line's code (or "closed" when the proxy ended the
connection without answering), plus what came back inside tunnels.

usage: egress_smuggle.py ALLOWED_PORT DENIED_PORT"""
import os
import socket
import sys
from urllib.parse import urlsplit

ap, dp = sys.argv[1], sys.argv[2]
proxy = urlsplit(os.environ["HTTP_PROXY"])
A, D = f"allowed.test:{ap}", f"denied.test:{dp}"


def exchange(raw, half_close=False, then=None):
    s = socket.create_connection((proxy.hostname, proxy.port), timeout=15)
    s.sendall(raw)
    if half_close:
        s.shutdown(socket.SHUT_WR)
    data = b""
    try:
        while True:
            chunk = s.recv(65536)
            if not chunk:
                break
            data += chunk
            if then and b"\r\n\r\n" in data:
                s.sendall(then)
                then = None
                s.shutdown(socket.SHUT_WR)
    except socket.timeout:
        pass
    s.close()
    return data


def code(data):
    return data.split(b" ", 2)[1].decode() if data.startswith(b"HTTP/") else "closed"


attempts = {
    "connect-host-mismatch": f"CONNECT {A} HTTP/1.1\r\nHost: {D}\r\n\r\n",
    "get-host-mismatch": f"GET http://{A}/ HTTP/1.1\r\nHost: {D}\r\n\r\n",
    "two-hosts": f"GET http://{A}/ HTTP/1.1\r\nHost: {A}\r\nHost: {D}\r\n\r\n",
    "userinfo-connect": f"CONNECT {A}@{D} HTTP/1.1\r\n\r\n",
    "userinfo-url": f"GET http://{A}@{D}/ HTTP/1.1\r\n\r\n",
    "fragment-url": f"GET http://{D}#@{A}/ HTTP/1.1\r\n\r\n",
    "folded-host": f"GET http://{A}/ HTTP/1.1\r\nX: y\r\n Host: {D}\r\n\r\n",
    "origin-form": f"GET / HTTP/1.1\r\nHost: {D}\r\n\r\n",
    "https-url": f"GET https://{D}/ HTTP/1.1\r\n\r\n",
    "bare-lf": f"CONNECT {D} HTTP/1.1\nHost: {D}\n\n",
    "space-in-target": f"CONNECT {A} {D} HTTP/1.1\r\n\r\n",
    "trailing-dot-denied": f"CONNECT denied.test.:{dp} HTTP/1.1\r\n\r\n",
    "upper-denied": f"CONNECT DENIED.TEST:{dp} HTTP/1.1\r\n\r\n",
    "port-zero-padded": f"CONNECT allowed.test:0{ap} HTTP/1.1\r\n\r\n",
    "nul-in-header": f"GET http://{A}/ HTTP/1.1\r\nX: a\0b\r\n\r\n",
}
for name, raw in attempts.items():
    print(name, code(exchange(raw.encode(), half_close=True)), flush=True)

# A second request pipelined behind an allowed one: it may only reach the
# allowed server, which answers (or ignores) it.
pipelined = (f"GET http://{A}/first HTTP/1.1\r\nHost: {A}\r\n\r\n"
             f"GET http://{D}/second HTTP/1.1\r\nHost: {D}\r\n\r\n")
print("pipelined", code(exchange(pipelined.encode(), half_close=True)), flush=True)

# Inside an allowed tunnel, ask for the denied host: the bytes go to the
# allowed server, never to the proxy's decision again.
inner = f"GET http://{D}/inner HTTP/1.1\r\nHost: {D}\r\nConnection: close\r\n\r\n"
data = exchange(f"CONNECT {A} HTTP/1.1\r\n\r\n".encode(), then=inner.encode())
print("in-tunnel", b"hello from allowed" in data and "allowed-answered" or "?", flush=True)
