#!/usr/bin/env python3
"""A hand-made client of the daemon's protocol, driven line by line.

Each line on stdin is a run request's header (JSON; `v` and `type` are
added): it is sent on this process's one connection, and the answer is
printed as one JSON line: the `exit` reply with its stdout, or the
`error`. `reuse` in a header names fields this connection never sent, or
that another connection sent: the attack is to use or replace another
client's remembered policy and environment.
"""
import json
import socket
import struct
import sys


def read_exact(s, n):
    buf = b""
    while len(buf) < n:
        chunk = s.recv(n - len(buf))
        if not chunk:
            raise EOFError("the daemon closed the connection")
        buf += chunk
    return buf


def read_frame(s):
    hlen, blen = struct.unpack("<II", read_exact(s, 8))
    return json.loads(read_exact(s, hlen)), read_exact(s, blen)


def main():
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sys.argv[1])
    for line in sys.stdin:
        header = {"v": 1, "type": "run", **json.loads(line)}
        data = json.dumps(header).encode()
        try:
            s.sendall(struct.pack("<II", len(data), 0) + data)
            while True:
                h, body = read_frame(s)
                if h.get("type") in ("exit", "error"):
                    break
        except (EOFError, OSError) as e:
            h, body = {"type": "closed", "message": str(e)}, b""
        if h.get("type") == "exit":
            h["stdout"] = body[: h["stdout_len"]].decode()
        print(json.dumps(h), flush=True)


main()
