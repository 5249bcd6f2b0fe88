/**
 * Red team: `udp = "dns"` makes the broker perform the command's sends,
 * control messages included, so the kernel checks a privileged control
 * message against the broker's capabilities. A root daemon's broker acts
 * for a `nobody` client with only its filesystem ids changed: before the
 * fix that client's datagram carried an SO_MARK (CAP_NET_ADMIN) the kernel
 * refuses it directly. The broker now refuses socket-level (SOL_SOCKET)
 * control messages with the policy's errno; IP-level ones still pass.
 */
import assert from "node:assert/strict";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";
import { landlockd, python3, RUN_ROOT } from "../helpers.ts";
import { startServers, udpPolicy } from "./udp_helpers.ts";

const ATTACK = `${RUN_ROOT}tests/attacks/udp_cmsg_mark.py`;
const NS = "127.83.0.21";
const OTHER = "127.83.0.22";

function results(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((l) => l.split(" ") as [string, string]),
  );
}

Deno.test({
  name:
    "[nobody via a root daemon] udp = \"dns\": SO_MARK in a control message is EPERM (the broker's capabilities are not the command's)",
  ignore: Deno.uid() !== 0,
  async fn() {
    const servers = await startServers(NS, OTHER);
    const d = await startDaemon({ args: SERVE_FOR_USERS });
    try {
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        udpPolicy("dns", "", "", NS),
        "--",
        python3(),
        ATTACK,
        NS,
      ], { as: "nobody" });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(results(r.stdout), {
        mark: "EPERM",
        ttl: "OK",
        plain: "OK",
      });
    } finally {
      await landlockd(["stop", "--socket", d.socket]);
      await d.exited();
      await servers.stop();
    }
  },
});

for (const as of ["root", "nobody"] as const) {
  Deno.test({
    name: `[${as}] udp = "dns": SO_MARK in a control message is EPERM`,
    ignore: Deno.uid() !== 0,
    async fn() {
      const servers = await startServers(NS, OTHER);
      try {
        const r = await landlockd([
          "run",
          "--policy-file",
          udpPolicy("dns", "", "", NS),
          "--",
          python3(),
          ATTACK,
          NS,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(results(r.stdout), {
          mark: "EPERM",
          ttl: "OK",
          plain: "OK",
        });
      } finally {
        await servers.stop();
      }
    },
  });
}
