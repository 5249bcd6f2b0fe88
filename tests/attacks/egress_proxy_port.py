"""Landlock allows the egress proxy's port on every address: connect
straight to a listener on another address at that port number, skipping
the proxy (a remote host of the attacker's that listens on every port,
here 127.0.0.2 and ::1 stand in for it). Writes the proxy's port to
DIR/port, waits for DIR/ready, prints one "NAME RESULT" line per attempt."""
import errno
import os
import socket
import sys
import time

d = sys.argv[1]
port = int(os.environ["HTTPS_PROXY"].rsplit(":", 1)[1])
with open(f"{d}/port.tmp", "w") as f:
    f.write(str(port))
os.rename(f"{d}/port.tmp", f"{d}/port")
for _ in range(200):
    if os.path.exists(f"{d}/ready"):
        break
    time.sleep(0.05)


def attempt(name, family, addr):
    s = socket.socket(family, socket.SOCK_STREAM)
    s.settimeout(5)
    try:
        s.connect(addr)
        s.sendall(b"GET / HTTP/1.0\r\n\r\n")
        got = s.recv(100).decode().strip() or "connected"
        print(name, got.split(" ")[0])
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno))
    finally:
        s.close()
    sys.stdout.flush()


attempt("other-v4", socket.AF_INET, ("127.0.0.2", port))
attempt("other-v6", socket.AF_INET6, ("::1", port))
attempt("mapped-other", socket.AF_INET6, ("::ffff:127.0.0.2", port))
attempt("proxy-v4", socket.AF_INET, ("127.0.0.1", port))
attempt("proxy-mapped", socket.AF_INET6, ("::ffff:127.0.0.1", port))
s = socket.socket()
s.setblocking(False)
print("proxy-nonblocking", errno.errorcode.get(s.connect_ex(("127.0.0.1", port)), "OK"))
