/**
 * Attack: under [net] udp = "dns", send datagrams anywhere but a nameserver
 * on port 53 (udp_dns.c): by connect, sendto, sendmsg and sendmmsg, on
 * unconnected and connected sockets, with AF_UNSPEC and IPv4-mapped
 * addresses, and with a thread that rewrites the address while the broker
 * checks it. The stand-in servers count what reaches them; OTHER must get
 * nothing. (A broker that checked the address and then let the kernel
 * perform the call, SECCOMP_USER_NOTIF_FLAG_CONTINUE, lost the race: 131 of
 * 5,000 connects ended up connected to OTHER, which got 131 datagrams.) With udp = "allow" the same program reaches OTHER (what the
 * setting closes).
 */

import assert from "node:assert/strict";
import { landlockd, probeResults, sandboxed, USERS } from "../helpers.ts";
import { startDaemon } from "../daemon_helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";
import { NAMESERVER, OTHER, startServers, udpPolicy } from "./udp_helpers.ts";

const ATTACK = await compileAttack("udp_dns");
const ROOT_ONLY = Deno.uid() !== 0; // the servers bind port 53

for (const as of USERS) {
  Deno.test({
    name:
      `[${as}] udp = "dns": every route to another address or port is refused with EPERM, the nameserver on port 53 is reached`,
    ignore: ROOT_ONLY,
    async fn() {
      const servers = await startServers();
      const r = await sandboxed(
        udpPolicy("dns"),
        [ATTACK, "probe", NAMESERVER, OTHER],
        { as },
      );
      const counts = await servers.stop();
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), {
        "sendto nameserver": "OK",
        "sendto other": "EPERM",
        "sendto port 5353": "EPERM",
        "sendto AF_UNSPEC other": "EPERM",
        "sendmsg nameserver": "OK",
        "sendmsg other": "EPERM",
        // Not sent to the broker, but refused by the filter ffi/spawn.c
        // installs after the hand-off.
        "sendmsg other with the hand-off flags": "EPERM",
        "sendmmsg other+nameserver": "EPERM",
        "send unconnected": "EDESTADDRREQ",
        "connect other": "EPERM",
        "connect port 5353": "EPERM",
        "connect nameserver": "OK",
        "send connected": "OK",
        "write connected": "OK",
        "sendmsg connected": "OK",
        "sendmmsg connected": "OK",
        "sendto other while connected": "EPERM",
        "connect AF_UNSPEC": "OK",
        "ipv6 sendto mapped other": "EPERM",
        "ipv6 sendto mapped nameserver": "OK",
        "ipv6 sendto ipv4 other": "EPERM",
        "socket ping": "EPERM",
        "socket ping6": "EPERM",
        "socket tcp": "OK",
      });
      // sendmmsg stops at the first refused datagram, as the kernel does
      // at the first failing one.
      assert.match(r.stdout, /^sendmmsg nameserver\+other: 1$/m);
      assert.deepEqual(counts, {
        [`${NAMESERVER}:53`]: 9,
        [`${OTHER}:53`]: 0,
        [`${NAMESERVER}:5353`]: 0,
      });
    },
  });

  Deno.test({
    name:
      `[${as}] udp = "dns": a thread rewriting the address during the broker's check never gets a datagram or a connection to another address`,
    ignore: ROOT_ONLY,
    async fn() {
      const servers = await startServers();
      const r = await sandboxed(
        udpPolicy("dns"),
        [ATTACK, "race", NAMESERVER, OTHER, "3000"],
        { as },
      );
      const counts = await servers.stop();
      assert.equal(r.code, 0, r.stderr);
      const n = (k: string) =>
        Number(new RegExp(`^${k}: (\\d+)$`, "m").exec(r.stdout)?.[1]);
      assert.equal(n("escaped"), 0, r.stdout);
      assert.equal(counts[`${OTHER}:53`], 0, JSON.stringify(counts));
      // Both addresses were tried: some calls went through, some were refused.
      assert.ok(n("connected") > 0 && n("refused") > 0, r.stdout);
      // Loopback UDP may drop what a busy server cannot take in time.
      const got = counts[`${NAMESERVER}:53`];
      assert.ok(got > 0 && got <= n("connected") + n("sent"), `${got}`);
    },
  });

  Deno.test({
    name:
      `[${as}] udp = "dns": glibc (getent), Python and Node resolve names through the sandbox's nameserver`,
    ignore: ROOT_ONLY,
    async fn() {
      const servers = await startServers();
      const policy = udpPolicy("dns");
      const getent = await sandboxed(policy, ["getent", "hosts", "a.test"], {
        as,
      });
      const py = await sandboxed(policy, [
        "python3",
        "-c",
        "import socket; print(socket.gethostbyname('b.test'))",
      ], { as });
      const node = await sandboxed(policy, [
        "node",
        "-e",
        "require('dns').lookup('c.test', {family: 4}, (e, a) => console.log(e ? e.code : a))",
      ], { as });
      const counts = await servers.stop();
      assert.match(getent.stdout, /^127\.1\.2\.3\s+a\.test$/m, getent.stderr);
      assert.equal(py.stdout.trim(), "127.1.2.3", py.stderr);
      assert.equal(node.stdout.trim(), "127.1.2.3", node.stderr);
      assert.equal(counts[`${OTHER}:53`], 0);
    },
  });

  Deno.test({
    name:
      `[${as}] udp = "allow" (the default): the same program reaches the other address (what "dns" closes)`,
    ignore: ROOT_ONLY,
    async fn() {
      const servers = await startServers();
      const r = await sandboxed(
        udpPolicy("allow"),
        [ATTACK, "probe", NAMESERVER, OTHER],
        { as },
      );
      const counts = await servers.stop();
      assert.equal(r.code, 0, r.stderr);
      assert.equal(probeResults(r.stdout)["sendto other"], "OK");
      assert.ok(counts[`${OTHER}:53`] > 0, JSON.stringify(counts));
    },
  });

  Deno.test({
    name:
      `[${as}] udp = "dns" through the daemon (run --socket): the daemon's broker refuses the other address too`,
    ignore: ROOT_ONLY,
    async fn() {
      const servers = await startServers();
      const d = await startDaemon({ as });
      try {
        const r = await landlockd([
          "run",
          "--socket",
          d.socket,
          "--policy-file",
          udpPolicy("dns"),
          "--",
          ATTACK,
          "probe",
          NAMESERVER,
          OTHER,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        const got = probeResults(r.stdout);
        assert.equal(got["sendto nameserver"], "OK");
        assert.equal(got["sendto other"], "EPERM");
        assert.equal(got["connect other"], "EPERM");
        assert.equal(got["sendmsg other"], "EPERM");
      } finally {
        await landlockd(["stop", "--socket", d.socket], { as });
        await d.exited();
        const counts = await servers.stop();
        assert.equal(counts[`${OTHER}:53`], 0, JSON.stringify(counts));
      }
    },
  });
}
