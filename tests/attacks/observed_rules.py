"""What an observed run (run --explain, learn) must still refuse: UDP and
raw sockets, and an executable memfd. Prints "NAME RESULT" lines."""
import errno
import os
import socket
import sys


def attempt(name, fn):
    try:
        fn()
        print(name, "OK")
    except OSError as e:
        print(name, errno.errorcode.get(e.errno, e.errno))
    sys.stdout.flush()


attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM))
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, 1))
attempt("memfd", lambda: os.memfd_create("x", os.MFD_CLOEXEC))
