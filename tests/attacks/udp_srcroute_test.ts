/**
 * Attack on `[net] udp = "dns"` (udp_srcroute.py): the broker checks each
 * datagram's address, but an IPv4 loose source route (setsockopt
 * IP_OPTIONS, or an IP_RETOPTS control message on one sendmsg) makes the
 * kernel send the packet to the route's first hop, with the checked
 * nameserver written into the option. Before the fix, datagrams "to the
 * nameserver" left with HOP as their destination, payload and all (the
 * capture on lo below saw them): a host anywhere receives them. Now
 * landlockd's filter refuses setsockopt(IP_OPTIONS) (and IPv6's
 * IPV6_RTHDR and IPV6_2292PKTOPTIONS) with the policy's errno where the
 * broker decides destinations, and the broker refuses sends that carry
 * IP_RETOPTS or an IPv6 routing header.
 */

import assert from "node:assert/strict";
import {
  landlockd,
  probeResults,
  python3,
  RUN_ROOT,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { udpPolicy } from "./udp_helpers.ts";
import { testNeedingAbi } from "../fresh_needs.ts";
import { hostsPolicy } from "../egress_helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";

/** Tests whose policy has a [net] table that handles TCP: Landlock ABI 4. */
const netTest = testNeedingAbi(
  4,
  "allow_hosts or [[net.rule]] (they handle TCP)",
);

const ATTACK = `${RUN_ROOT}tests/attacks/udp_srcroute.py`;
const CAPTURE = `${RUN_ROOT}tests/attacks/lo_capture.py`;
/** Not the other udp_* tests' addresses: the files may run in parallel. */
const NAMESERVER = "127.86.0.1";
const HOP = "127.86.0.9";

/** Watches lo for frames with `marker` (root only: an AF_PACKET socket). */
async function capture(marker: string) {
  const proc = new Deno.Command(python3(), {
    args: [CAPTURE, marker],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit",
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`capture did not start: ${out}`);
    out += value;
  }
  return {
    /** Stops it; one "DST PAYLOAD" per frame seen. */
    async stop(): Promise<string[]> {
      await new Promise((r) => setTimeout(r, 300)); // frames still on lo
      await proc.stdin.close();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      await proc.status;
      return out.slice(out.indexOf("ready\n") + 6).split("\n").filter((l) => l)
        .sort();
    },
  };
}

for (const as of USERS) {
  Deno.test(
    `[${as}] udp = "dns": a source route (IP_OPTIONS, IP_RETOPTS) gets the policy errno; nothing leaves for another host, a plain send to the nameserver still goes`,
    async () => {
      const marker = `srcroute-${as}-${crypto.randomUUID().slice(0, 8)}`;
      const seen = Deno.uid() === 0 ? await capture(marker) : undefined;
      const r = await sandboxed(
        udpPolicy("dns", "", "[seccomp]\nerrno = 13\n", NAMESERVER),
        [python3(), ATTACK, NAMESERVER, HOP, marker],
        { as },
      );
      const frames = await seen?.stop();
      assert.equal(r.code, 0, r.stderr);
      // The policy's errno (13, EACCES), not the kernel's EPERM: landlockd
      // refused them (the filter, the broker for IP_RETOPTS).
      assert.deepEqual(probeResults(r.stdout), {
        "setsockopt IP_OPTIONS + sendto": "EACCES",
        "setsockopt IP_OPTIONS + connect + send": "EACCES",
        "sendmsg IP_RETOPTS": "EACCES",
        sendto: "OK",
      });
      if (frames) assert.deepEqual(frames, [`${NAMESERVER} ${marker}-plain`]);
    },
  );

  Deno.test(
    `[${as}] udp = "allow": the kernel alone decides; root's source route takes the datagrams to the hop (what the fix closes)`,
    async () => {
      const marker = `srcroute-${as}-${crypto.randomUUID().slice(0, 8)}`;
      const seen = Deno.uid() === 0 ? await capture(marker) : undefined;
      const r = await sandboxed(
        udpPolicy("allow", "", "", NAMESERVER),
        [python3(), ATTACK, NAMESERVER, HOP, marker],
        { as },
      );
      const frames = await seen?.stop();
      assert.equal(r.code, 0, r.stderr);
      // Without CAP_NET_RAW the kernel refuses source routes itself.
      const kernel = as === "nobody" ? "EPERM" : "OK";
      assert.deepEqual(probeResults(r.stdout), {
        "setsockopt IP_OPTIONS + sendto": kernel,
        "setsockopt IP_OPTIONS + connect + send": kernel,
        "sendmsg IP_RETOPTS": kernel,
        sendto: "OK",
      });
      if (frames && as === "nobody") {
        assert.deepEqual(frames, [`${NAMESERVER} ${marker}-plain`]);
      } else if (frames) {
        assert.deepEqual(frames, [
          `${NAMESERVER} ${marker}-plain`,
          `${HOP} ${marker}-cmsg`,
          `${HOP} ${marker}-connected`,
          `${HOP} ${marker}-sticky`,
        ]);
      }
    },
  );
}

/**
 * The same options on TCP under allow_hosts: the broker connects the
 * command's socket to the proxy on 127.0.0.1 itself, and a source route
 * sent that SYN to the hop instead (a bound source port chosen by the
 * command reached any host). IPv6 routing headers likewise.
 */
const OPTIONS = `
import errno, socket
def attempt(what, family, kind, level, opt, value):
    s = socket.socket(family, kind)
    try:
        s.setsockopt(level, opt, value)
        print(what + ": OK")
    except OSError as e:
        print(what + ": " + errno.errorcode[e.errno])
lsrr = bytes([131, 7, 4, 127, 86, 0, 9, 1])
attempt("tcp IP_OPTIONS", socket.AF_INET, socket.SOCK_STREAM, 0, 4, lsrr)
attempt("tcp6 IPV6_RTHDR", socket.AF_INET6, socket.SOCK_STREAM, 41, 57, bytes(8))
attempt("tcp6 IPV6_2292PKTOPTIONS", socket.AF_INET6, socket.SOCK_STREAM, 41, 6, b"")
attempt("tcp IP_TOS", socket.AF_INET, socket.SOCK_STREAM, 0, 1, 16)
`;

for (const as of USERS) {
  netTest(
    `[${as}] allow_hosts: setsockopt IP_OPTIONS, IPV6_RTHDR and IPV6_2292PKTOPTIONS get the policy errno; other IP options are set`,
    async () => {
      const r = await sandboxed(
        hostsPolicy(["allowed.test"], "[seccomp]\nerrno = 13\n"),
        [python3(), "-c", OPTIONS],
        { as },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), {
        "tcp IP_OPTIONS": "EACCES",
        "tcp6 IPV6_RTHDR": "EACCES",
        "tcp6 IPV6_2292PKTOPTIONS": "EACCES",
        "tcp IP_TOS": "OK",
      });
    },
  );
}

/**
 * Through a root daemon, the broker that performs a nobody client's sends
 * is root's: the kernel checks a source route in a control message
 * against the broker's CAP_NET_RAW, not the client's. Before the fix,
 * nobody's IP_RETOPTS send left for the hop this way, though nobody may
 * not set a source route itself.
 */
if (Deno.uid() === 0) {
  Deno.test(
    '[nobody via a root daemon] udp = "dns": IP_RETOPTS gets the policy errno, not root\'s source route',
    async () => {
      const d = await startDaemon({ args: SERVE_FOR_USERS });
      const marker = `srcroute-daemon-${crypto.randomUUID().slice(0, 8)}`;
      const seen = await capture(marker);
      try {
        const r = await landlockd([
          "run",
          "--socket",
          d.socket,
          "--policy-file",
          udpPolicy("dns", "", "[seccomp]\nerrno = 13\n", NAMESERVER),
          "--",
          python3(),
          ATTACK,
          NAMESERVER,
          HOP,
          marker,
        ], { as: "nobody" });
        const frames = await seen.stop();
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          "setsockopt IP_OPTIONS + sendto": "EACCES",
          "setsockopt IP_OPTIONS + connect + send": "EACCES",
          "sendmsg IP_RETOPTS": "EACCES",
          sendto: "OK",
        });
        assert.deepEqual(frames, [`${NAMESERVER} ${marker}-plain`]);
      } finally {
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  );
}
