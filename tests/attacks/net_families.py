"""Attack on [net] (allow_hosts, udp, raw): socket families and protocols
that no Landlock TCP rule or broker check covers. socket() only, never a
connect: a vsock socket on a VM would reach the hypervisor host once
connected. Prints one probe line per socket: OK or the errno name."""
import errno
import socket

PROBES = [
    ("vsock", 40, socket.SOCK_STREAM, 0),
    ("tipc", 30, socket.SOCK_RDM, 0),
    ("rds", 21, socket.SOCK_SEQPACKET, 0),
    ("can", 29, socket.SOCK_RAW, 1),
    ("bluetooth", 31, socket.SOCK_STREAM, 3),
    ("sctp stream", socket.AF_INET, socket.SOCK_STREAM, 132),
    ("sctp seqpacket", socket.AF_INET6, socket.SOCK_SEQPACKET, 132),
    ("tcp", socket.AF_INET, socket.SOCK_STREAM | socket.SOCK_CLOEXEC, 0),
    ("tcp6", socket.AF_INET6, socket.SOCK_STREAM, socket.IPPROTO_TCP),
    ("unix", socket.AF_UNIX, socket.SOCK_STREAM, 0),
    ("netlink route", socket.AF_NETLINK, socket.SOCK_RAW, 0),
    ("alg", 38, socket.SOCK_SEQPACKET, 0),
]

for name, family, kind, proto in PROBES:
    try:
        socket.socket(family, kind, proto).close()
        print(f"{name}: OK")
    except OSError as e:
        print(f"{name}: {errno.errorcode.get(e.errno, e.errno)}")
