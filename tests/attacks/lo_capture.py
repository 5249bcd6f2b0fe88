"""Watches the loopback interface (an AF_PACKET socket: root) for IPv4
frames carrying MARKER and prints one "DST PAYLOAD" line for each (the
frame's IP destination, the payload from MARKER on), until stdin closes.
Prints "ready" once it listens."""
import select
import socket
import sys

marker = sys.argv[1].encode()
cap = socket.socket(socket.AF_PACKET, socket.SOCK_RAW, socket.htons(3))
cap.bind(("lo", 0))
print("ready", flush=True)
seen = set()
while True:
    ready, _, _ = select.select([cap, sys.stdin], [], [])
    if sys.stdin in ready and not sys.stdin.buffer.read1(1):
        break
    if cap not in ready:
        continue
    frame, addr = cap.recvfrom(65536)
    # Each frame on lo shows twice (sent, received): keep the received one.
    if addr[2] == socket.PACKET_OUTGOING or frame[12:14] != b"\x08\x00":
        continue
    at = frame.find(marker)
    if at < 0:
        continue
    ip = frame[14:]
    # ICMP errors quote the datagram they answer: only UDP frames count.
    if ip[9] != 17:
        continue
    line = f"{socket.inet_ntoa(ip[16:20])} {frame[at:].decode(errors='replace')}"
    if line not in seen:
        seen.add(line)
        print(line, flush=True)
