/**
 * Attack: sockets that send outside Landlock's TCP rules (udp_raw_sockets.c):
 * UDP, UDP-Lite, ICMP ping, raw, SOCK_PACKET and AF_PACKET sockets, and
 * io_uring, which makes sockets seccomp does not see. `[net] udp = "deny"`
 * and `raw = false` refuse them in socket(2) with the policy's errno; the
 * io_uring baseline stays (a policy that lifts it cannot use them). The
 * default runs show what each setting closes: as root, raw and packet
 * sockets open.
 */

import assert from "node:assert/strict";
import {
  landlockd,
  policyFile,
  probeResults,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";
import {
  DENY_NO_RAW_OUTCOMES,
  startServers,
  udpPolicy,
} from "./udp_helpers.ts";

const ATTACK = await compileAttack("udp_raw_sockets");
/** Not udp_dns_test.ts's addresses: the two files may run in parallel. */
const NAMESERVER = "127.84.0.1";
const OTHER = "127.84.0.2";

/** What the kernel itself answers when the filter lets a call through. */
function unfiltered(as: string): Record<string, string> {
  // Raw and packet sockets need CAP_NET_RAW; a ping socket needs the group
  // in net.ipv4.ping_group_range ("1 0", nobody, on this machine).
  const raw = as === "nobody" ? "EPERM" : "OK";
  const [lo, hi] = Deno.readTextFileSync("/proc/sys/net/ipv4/ping_group_range")
    .trim().split(/\s+/).map(Number);
  const gid = as === "nobody" ? 65534 : 0;
  const ping = gid >= lo && gid <= hi ? "OK" : "EACCES";
  return {
    udp: "OK",
    udp6: "OK",
    udplite: "OK",
    ping,
    ping6: ping,
    raw,
    raw6: raw,
    "inet packet": raw,
    packet: raw,
    "packet dgram": raw,
    tcp: "OK",
    "unix dgram": "OK",
    io_uring_setup: "ENOSYS",
  };
}

for (const as of USERS) {
  Deno.test(
    `[${as}] udp = "deny" and raw = false refuse UDP, UDP-Lite, ping, raw, SOCK_PACKET and AF_PACKET sockets with EPERM; TCP and unix sockets open`,
    async () => {
      const r = await sandboxed(udpPolicy("deny", "raw = false"), [ATTACK], {
        as,
      });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), DENY_NO_RAW_OUTCOMES);
    },
  );

  Deno.test(
    `[${as}] the refusal uses [seccomp] errno; raw = false alone leaves UDP open`,
    async () => {
      const r = await sandboxed(
        udpPolicy("allow", "raw = false", "[seccomp]\nerrno = 13\n"),
        [ATTACK],
        { as },
      );
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), {
        ...unfiltered(as),
        raw: "EACCES",
        raw6: "EACCES",
        "inet packet": "EACCES",
        packet: "EACCES",
        "packet dgram": "EACCES",
      });
    },
  );

  Deno.test(
    `[${as}] by default (udp = "allow", raw = true) the kernel alone decides: what the settings close`,
    async () => {
      const r = await sandboxed(udpPolicy("allow"), [ATTACK], { as });
      assert.equal(r.code, 0, r.stderr);
      assert.deepEqual(probeResults(r.stdout), unfiltered(as));
    },
  );

  Deno.test(
    `[${as}] udp = "deny": glibc (getent), Python and Node fail to resolve cleanly, and nothing is sent`,
    async () => {
      const servers = Deno.uid() === 0
        ? await startServers(NAMESERVER, OTHER)
        : undefined;
      const policy = udpPolicy("deny", "", "", NAMESERVER);
      const getent = await sandboxed(policy, ["getent", "hosts", "a.test"], {
        as,
      });
      const py = await sandboxed(policy, [
        "python3",
        "-c",
        "import socket\ntry: socket.gethostbyname('b.test')\nexcept socket.gaierror as e: print('gaierror')",
      ], { as });
      const node = await sandboxed(policy, [
        "node",
        "-e",
        "require('dns').lookup('c.test', (e, a) => console.log(e ? e.code : a))",
      ], { as });
      const counts = await servers?.stop();
      assert.equal(getent.code, 2, getent.stderr); // "key not found"
      assert.equal(getent.stdout, "");
      assert.equal(py.stdout.trim(), "gaierror", py.stderr);
      assert.match(node.stdout.trim(), /^(EAI_AGAIN|ENOTFOUND)$/, node.stderr);
      if (counts) {
        assert.deepEqual(
          Object.values(counts),
          [0, 0, 0],
          JSON.stringify(counts),
        );
      }
    },
  );
}

Deno.test(
  'udp = "deny" with [seccomp] allow = ["io_uring"] is refused before the command starts (exit 125, naming both keys)',
  async () => {
    const policy = policyFile(`version = 1
[net]
udp = "deny"
[seccomp]
allow = ["io_uring"]
`);
    const r = await landlockd(["run", "--policy-file", policy, "--", "true"]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      /seccomp\.allow.*udp = "deny" cannot be enforced with io_uring allowed/s,
    );
  },
);
