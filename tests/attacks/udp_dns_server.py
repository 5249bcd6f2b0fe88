"""A stand-in nameserver for the udp = "dns" tests (127.0.0.0/8 only).

    python3 udp_dns_server.py IP:PORT...

Binds each address, prints "ready", then counts the datagrams each one
receives and answers any DNS query with one A record, 127.1.2.3. When its
stdin closes it prints the counts as JSON ({"IP:PORT": N}) and exits.
"""

import json
import select
import socket
import struct
import sys

socks = {}
for spec in sys.argv[1:]:
    ip, port = spec.rsplit(":", 1)
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind((ip, int(port)))
    socks[s] = spec
counts = {spec: 0 for spec in socks.values()}
print("ready", flush=True)


def answer(query):
    """One A record for the query's name, or None if it is not a query."""
    if len(query) < 12:
        return None
    ident, flags, qd = struct.unpack("!HHH", query[:6])
    if flags & 0x8000 or qd != 1:
        return None
    end = 12
    while end < len(query) and query[end] != 0:
        end += query[end] + 1
    question = query[12:end + 5]
    qtype = struct.unpack("!H", query[end + 1:end + 3])[0] if end + 3 <= len(query) else 0
    header = struct.pack("!HHHHHH", ident, 0x8180, 1, 1 if qtype == 1 else 0, 0, 0)
    record = b"\xc0\x0c" + struct.pack("!HHIH", 1, 1, 60, 4) + bytes([127, 1, 2, 3])
    return header + question + (record if qtype == 1 else b"")


while True:
    ready, _, _ = select.select([*socks, sys.stdin], [], [])
    if sys.stdin in ready:
        if not sys.stdin.readline():
            break
        continue
    for s in ready:
        data, peer = s.recvfrom(65535)
        counts[socks[s]] += 1
        reply = answer(data)
        if reply:
            s.sendto(reply, peer)
print(json.dumps(counts), flush=True)
