"""udp = "dns": the broker performs the command's sends itself, so a
control message the kernel checks against the sender's capabilities is
checked against the broker's. SO_MARK (a firewall/routing mark) needs
CAP_NET_ADMIN or CAP_NET_RAW: a `nobody` command served by a root daemon
got it. Prints "NAME RESULT" lines."""
import errno
import socket
import struct
import sys

ns = sys.argv[1]
SO_MARK = 36
IP_TTL = 2


def attempt(name, cmsgs):
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    try:
        s.sendmsg([b"\x12\x34" + b"\0" * 10], cmsgs, 0, (ns, 53))
        print(name, "OK")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno))
    sys.stdout.flush()


attempt("mark", [(socket.SOL_SOCKET, SO_MARK, struct.pack("I", 0x5151))])
attempt("ttl", [(socket.IPPROTO_IP, IP_TTL, struct.pack("i", 7))])
attempt("plain", [])
