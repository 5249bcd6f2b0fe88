"""A NETLINK_USERSOCK socket outside the sandbox: prints its portid, then
what it receives ("got usersock") or "got nothing" after TIMEOUT seconds.

    netlink_usersock_listen.py TIMEOUT
"""

import socket
import sys

NETLINK_USERSOCK = 2
s = socket.socket(socket.AF_NETLINK, socket.SOCK_RAW, NETLINK_USERSOCK)
s.bind((0, 0))
print(s.getsockname()[0], flush=True)
s.settimeout(float(sys.argv[1]))
try:
    d = s.recv(100)
    print("got", d[16:24].decode(), flush=True)
except socket.timeout:
    print("got nothing", flush=True)
