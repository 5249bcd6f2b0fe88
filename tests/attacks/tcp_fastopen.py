"""TCP Fast Open past Landlock's connect_tcp: sendto/sendmsg with
MSG_FASTOPEN on an unconnected TCP socket connects without the LSM connect
hook. Prints one "NAME RESULT" line per attempt (an errno name, or OK and
what the server answered)."""
import errno
import socket
import sys

port = int(sys.argv[1])
REQ = b"GET /fastopen HTTP/1.0\r\n\r\n"


def attempt(name, fn):
    try:
        print(name, "OK", fn().split(b"\r\n")[0].decode().replace(" ", "_"))
    except OSError as e:
        # Python names 95 ENOTSUP; Linux's headers call it EOPNOTSUPP too.
        code = "EOPNOTSUPP" if e.errno == errno.EOPNOTSUPP else None
        print(name, code or errno.errorcode.get(e.errno, e.errno))
    sys.stdout.flush()


def connect():
    s = socket.socket()
    s.connect(("127.0.0.1", port))
    s.sendall(REQ)
    return s.recv(100)


def sendto():
    s = socket.socket()
    s.sendto(REQ, socket.MSG_FASTOPEN, ("127.0.0.1", port))
    return s.recv(100)


def sendmsg():
    s = socket.socket()
    s.sendmsg([REQ], [], socket.MSG_FASTOPEN, ("127.0.0.1", port))
    return s.recv(100)


def sendto6():
    s = socket.socket(socket.AF_INET6)
    s.sendto(REQ, socket.MSG_FASTOPEN, ("::ffff:127.0.0.1", port))
    return s.recv(100)


attempt("connect", connect)
attempt("sendto", sendto)
attempt("sendmsg", sendmsg)
attempt("sendto6", sendto6)
