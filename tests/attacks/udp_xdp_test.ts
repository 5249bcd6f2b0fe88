/**
 * Attack: an AF_XDP socket sends whole Ethernet frames, here an IPv6/UDP
 * datagram to [::1]:PORT on the loopback interface (udp_xdp_send.c). Root
 * holds CAP_NET_RAW, which is all the kernel asks; no XDP program is
 * needed to transmit. Before the fix, `raw = false` refused AF_PACKET and
 * raw IP sockets but not AF_XDP, so under `udp = "deny"` and `raw = false`
 * (the allow_hosts defaults) root still sent a datagram to any host: the
 * listener below received it. Now `raw = false` refuses AF_XDP sockets
 * with the policy's errno.
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { probeResults, sandboxed, USERS } from "../helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";
import { udpPolicy } from "./udp_helpers.ts";

const ATTACK = await compileAttack("udp_xdp_send");

/** A UDP listener on [::1]; the datagrams it received so far. */
async function listener() {
  const l = dgram.createSocket("udp6");
  const got: string[] = [];
  l.on("message", (data) => got.push(data.toString()));
  await new Promise<void>((ok) => l.bind(0, "::1", ok));
  return { port: l.address().port, got, close: () => l.close() };
}

/** Waits a little for datagrams still on their way through lo. */
const settle = () => new Promise((r) => setTimeout(r, 200));

for (const as of USERS) {
  Deno.test(
    `[${as}] raw = false refuses AF_XDP sockets (EPERM): no frame reaches [::1]`,
    async () => {
      const l = await listener();
      try {
        const r = await sandboxed(
          udpPolicy("deny", "raw = false"),
          [ATTACK, String(l.port), "xdp-escape"],
          { as },
        );
        await settle();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), { "xdp socket": "EPERM" });
        assert.deepEqual(l.got, []);
      } finally {
        l.close();
      }
    },
  );

  Deno.test(
    `[${as}] raw = true: the kernel alone decides AF_XDP (root sends, nobody gets EPERM)`,
    async () => {
      const l = await listener();
      try {
        const r = await sandboxed(
          udpPolicy("deny", "raw = true"),
          [ATTACK, String(l.port), "xdp-allowed"],
          { as },
        );
        await settle();
        assert.equal(r.code, 0, r.stderr);
        if (as === "nobody") {
          assert.deepEqual(probeResults(r.stdout), { "xdp socket": "EPERM" });
          assert.deepEqual(l.got, []);
        } else {
          assert.deepEqual(probeResults(r.stdout), {
            "xdp socket": "OK",
            "xdp send": "OK",
          });
          assert.deepEqual(l.got, ["xdp-allowed"]);
        }
      } finally {
        l.close();
      }
    },
  );
}
