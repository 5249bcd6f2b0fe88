/**
 * Attack on `[net] udp = "dns"` (and `allow_hosts`) by root
 * (udp_nat_redirect.sh).
 *
 * The sandbox kept root's capabilities (CapEff 000001fffeffffff inside a
 * udp = "dns" run on Linux 6.18), CAP_NET_ADMIN included, in the host's
 * network namespace. The broker checks that a datagram goes to the
 * nameserver on port 53 and sends it; a netfilter rule the command added
 * itself (nft, over a netlink socket the broker continues) then rewrote
 * the destination. Seen on 2026-12-02: under udp = "dns" + raw = false,
 * `udp_nat_redirect.sh 127.87.0.1 127.87.0.9 5399 m1` printed
 * "nft add: OK" and "sendto: OK", and a listener on 127.87.0.9:5399
 * received the datagram (and again with the drop disabled: "nft add: OK").
 *
 * Fixed: a `[net]` that restricts anything drops CAP_NET_ADMIN,
 * CAP_SYS_MODULE, CAP_SYS_ADMIN and CAP_BPF (CAP_NET_RAW too with
 * raw = false) from every set, bounding included, in the child before
 * exec (ffi/spawn.c drop_caps); net_caps_test.ts checks the sets. Run as
 * root this test adds (and removes) a table named landlockd_attack_* in the
 * host's nftables, matching only 127.87.0.1 port 53, if the add succeeds.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { probeResults, RUN_ROOT, sandboxed } from "../helpers.ts";
import { udpPolicy } from "./udp_helpers.ts";

const ATTACK = `${RUN_ROOT}tests/attacks/udp_nat_redirect.sh`;
const NAMESERVER = "127.87.0.1";
const HOP = "127.87.0.9";

Deno.test({
  name:
    '[root] udp = "dns": root cannot add a netfilter rule that redirects the nameserver datagrams elsewhere (EPERM); nothing reaches the other host',
  async fn() {
    const hop = dgram.createSocket("udp4");
    const got: string[] = [];
    hop.on("message", (m) => got.push(m.toString()));
    await new Promise<void>((ok) => hop.bind(0, HOP, ok));
    const marker = `m${crypto.randomUUID().slice(0, 8)}`;
    try {
      const r = await sandboxed(
        udpPolicy("dns", "raw = false", "", NAMESERVER),
        [ATTACK, NAMESERVER, HOP, String(hop.address().port), marker],
        { as: "root" },
      );
      await new Promise((ok) => setTimeout(ok, 300));
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), {
        "nft add": "EPERM",
        sendto: "OK",
      });
      assert.deepEqual(got, []);
    } finally {
      hop.close();
      await new Deno.Command("nft", {
        args: ["delete", "table", "ip", `landlockd_attack_${marker}`],
        stderr: "null",
      }).output().catch(() => {});
    }
  },
});
