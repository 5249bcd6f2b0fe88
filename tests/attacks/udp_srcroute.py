"""udp = "dns" lets a datagram go only to a nameserver, port 53: the broker
checks the address of each send. An IPv4 loose source route (IP_OPTIONS,
or an IP_RETOPTS control message on one send) makes the kernel send the
packet to the route's first hop instead, with the checked address written
into the option: the datagram, payload and all, leaves for any host.

  udp_srcroute.py NAMESERVER HOP MARKER

Prints probe-style lines: "what: OK" or "what: ERRNO"."""
import errno
import socket
import sys

nameserver, hop, marker = sys.argv[1], sys.argv[2], sys.argv[3]
# LSRR (type 131), length 7, pointer 4, one hop; a NOP pads it to 8 bytes.
LSRR = bytes([131, 7, 4]) + socket.inet_aton(hop) + b"\x01"
IP_RETOPTS = 7


def attempt(what, fn):
    try:
        fn()
        print(f"{what}: OK")
    except OSError as e:
        print(f"{what}: {errno.errorcode.get(e.errno, e.errno)}")
    sys.stdout.flush()


def sticky():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, LSRR)
    s.sendto(f"{marker}-sticky".encode(), (nameserver, 53))


def sticky_connected():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.setsockopt(socket.IPPROTO_IP, socket.IP_OPTIONS, LSRR)
    s.connect((nameserver, 53))
    s.send(f"{marker}-connected".encode())


def control():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendmsg(
        [f"{marker}-cmsg".encode()],
        [(socket.IPPROTO_IP, IP_RETOPTS, LSRR)],
        0,
        (nameserver, 53),
    )


def plain():
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.sendto(f"{marker}-plain".encode(), (nameserver, 53))


attempt("setsockopt IP_OPTIONS + sendto", sticky)
attempt("setsockopt IP_OPTIONS + connect + send", sticky_connected)
attempt("sendmsg IP_RETOPTS", control)
attempt("sendto", plain)
