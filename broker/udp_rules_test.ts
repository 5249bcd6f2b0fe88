import assert from "node:assert/strict";
import {
  canonicalIp,
  decodeSockaddr,
  dnsAllows,
  hasRoutingControl,
  hasSocketLevelControl,
  nameservers,
  resolvConfPath,
  tcpDecision,
} from "./udp_rules.ts";
import type { Policy } from "../policy/schema.ts";

function sin(ip: number[], port: number, family = 2): Uint8Array {
  const b = new Uint8Array(16);
  new DataView(b.buffer).setUint16(0, family, true);
  new DataView(b.buffer).setUint16(2, port, false);
  b.set(ip, 4);
  return b;
}

function sin6(ip: number[], port: number): Uint8Array {
  const b = new Uint8Array(28);
  new DataView(b.buffer).setUint16(0, 10, true);
  new DataView(b.buffer).setUint16(2, port, false);
  b.set(ip, 8);
  return b;
}

Deno.test("nameservers are read from resolv.conf lines, canonical, comments and scopes ignored", () => {
  assert.deepEqual(
    nameservers(
      "# comment\nsearch example\nnameserver 127.0.0.53\nnameserver  fe80::1%eth0 \n;nameserver 1.1.1.1\nnameserver 0:0:0:0:0:ffff:10.0.0.1\nnameserver bogus\noptions edns0\n",
    ),
    ["127.0.0.53", "fe80:0:0:0:0:0:0:1", "10.0.0.1"],
  );
});

Deno.test("a resolv.conf without nameservers, or none, means 127.0.0.1 as glibc reads it", () => {
  assert.deepEqual(nameservers("search x\n"), ["127.0.0.1"]);
  assert.deepEqual(nameservers(undefined), ["127.0.0.1"]);
});

Deno.test("IP addresses have one canonical spelling", () => {
  assert.equal(canonicalIp("::1"), "0:0:0:0:0:0:0:1");
  assert.equal(canonicalIp("0::0:1"), "0:0:0:0:0:0:0:1");
  assert.equal(canonicalIp("::ffff:127.0.0.53"), "127.0.0.53");
  assert.equal(canonicalIp("2001:DB8::"), "2001:db8:0:0:0:0:0:0");
  for (
    const bad of ["1.2.3", "1.2.3.256", "1::2::3", "1:2:3:4:5:6:7:8:9", "x"]
  ) {
    assert.equal(canonicalIp(bad), undefined, bad);
  }
});

Deno.test("only a nameserver on port 53 is an allowed destination, IPv4, IPv6 and IPv4-mapped alike", () => {
  const plan = { nameservers: ["127.0.0.53", "0:0:0:0:0:0:0:1"] };
  const ok = (b: Uint8Array, call: "connect" | "send" = "send") =>
    dnsAllows(decodeSockaddr(b), plan, call);
  assert.ok(ok(sin([127, 0, 0, 53], 53)));
  assert.ok(!ok(sin([127, 0, 0, 53], 5353)));
  assert.ok(!ok(sin([127, 0, 0, 54], 53)));
  const v6 = (
    ...tail: number[]
  ) => [...Array(16 - tail.length).fill(0), ...tail];
  assert.ok(ok(sin6(v6(1), 53)));
  assert.ok(
    ok(sin6(v6(0xff, 0xff, 127, 0, 0, 53).map((b, i) => i < 10 ? 0 : b), 53)),
  );
  assert.ok(!ok(sin6(v6(2), 53)));
  assert.ok(!ok(sin([127, 0, 0, 53], 53).subarray(0, 15)), "short sockaddr_in");
});

Deno.test("AF_UNSPEC dissolves a connection but is never a send's destination", () => {
  const plan = { nameservers: ["127.0.0.53"] };
  const unspec = sin([8, 8, 8, 8], 53, 0);
  assert.ok(dnsAllows(decodeSockaddr(unspec), plan, "connect"));
  assert.ok(!dnsAllows(decodeSockaddr(unspec), plan, "send"));
  assert.ok(
    !dnsAllows(decodeSockaddr(sin([127, 0, 0, 53], 53, 1)), plan, "send"),
  );
});

Deno.test("the sandbox's resolv.conf: a bind onto it or /etc, else the runtime root's, else the host's", () => {
  const p = (extra: Partial<Policy>) => ({ version: 1, ...extra }) as Policy;
  assert.deepEqual(resolvConfPath(p({})), { path: "/etc/resolv.conf" });
  assert.deepEqual(
    resolvConfPath(p({ runtime: { root: "/r/" } } as Partial<Policy>)),
    { root: "/r/", path: "/etc/resolv.conf" },
  );
  assert.deepEqual(
    resolvConfPath(p({
      mount: {
        bind: [{
          source: "/s/rc",
          target: "/etc/resolv.conf",
          read_only: true,
        }],
      },
    })),
    { path: "/s/rc" },
  );
  assert.deepEqual(
    resolvConfPath(p({
      mount: { bind: [{ source: "/s/etc", target: "/etc", read_only: true }] },
    })),
    { path: "/s/etc/resolv.conf" },
  );
  assert.deepEqual(
    resolvConfPath(p({ mount: { tmpfs: ["/etc"] } })),
    undefined,
  );
});

Deno.test("tcpDecision: the proxy's port only on 127.0.0.1; rule ports continue; the rest EACCES", () => {
  const plan = { proxy_port: 40000, rule_ports: [22] };
  const inet = (ip: string, port: number) => ({
    family: "inet" as const,
    ip,
    port,
  });
  assert.equal(tcpDecision(inet("127.0.0.1", 40000), plan), "perform");
  assert.equal(tcpDecision(inet("127.0.0.2", 40000), plan), "refuse");
  assert.equal(tcpDecision(inet("0:0:0:0:0:0:0:1", 40000), plan), "refuse");
  assert.equal(tcpDecision(inet("203.0.113.9", 40000), plan), "refuse");
  assert.equal(tcpDecision(inet("203.0.113.9", 22), plan), "continue");
  assert.equal(tcpDecision(inet("127.0.0.1", 443), plan), "refuse");
  assert.equal(tcpDecision({ family: "unspec" }, plan), "perform");
  assert.equal(
    tcpDecision({ family: "other", sa_family: 1 }, plan),
    "bad family",
  );
  // A proxy that is not listening yet admits nothing on port 0.
  assert.equal(
    tcpDecision(inet("127.0.0.1", 0), { proxy_port: 0, rule_ports: [] }),
    "refuse",
  );
});

/** One control message (cmsghdr, 8-byte aligned) as bytes. */
function cmsg(level: number, type: number, data: number[]): number[] {
  const len = 16 + data.length;
  const b = new Uint8Array((len + 7) & ~7);
  const v = new DataView(b.buffer);
  v.setBigUint64(0, BigInt(len), true);
  v.setInt32(8, level, true);
  v.setInt32(12, type, true);
  b.set(data, 16);
  return [...b];
}

Deno.test("hasSocketLevelControl: finds SOL_SOCKET in any control message", () => {
  const ttl = cmsg(0, 2, [7, 0, 0, 0]);
  const mark = cmsg(1, 36, [1, 0, 0, 0]);
  assert.equal(hasSocketLevelControl(Uint8Array.from(ttl)), false);
  assert.equal(hasSocketLevelControl(Uint8Array.from(mark)), true);
  assert.equal(hasSocketLevelControl(Uint8Array.from([...ttl, ...mark])), true);
  assert.equal(hasSocketLevelControl(new Uint8Array(0)), false);
  // Malformed: a length past the end; the kernel says EINVAL itself.
  const bad = Uint8Array.from(mark);
  new DataView(bad.buffer).setBigUint64(0, 4096n, true);
  assert.equal(hasSocketLevelControl(bad), false);
});

Deno.test("hasRoutingControl: finds IP_RETOPTS and IPv6 routing headers", () => {
  const ttl = cmsg(0, 2, [7, 0, 0, 0]);
  const pktinfo6 = cmsg(41, 50, new Array(20).fill(0));
  for (
    const routing of [
      cmsg(0, 7, [131, 7, 4, 1, 2, 3, 4, 1]),
      cmsg(41, 57, new Array(24).fill(0)),
      cmsg(41, 5, new Array(24).fill(0)),
    ]
  ) {
    assert.equal(hasRoutingControl(Uint8Array.from(routing)), true);
    assert.equal(
      hasRoutingControl(Uint8Array.from([...ttl, ...routing])),
      true,
    );
  }
  assert.equal(
    hasRoutingControl(Uint8Array.from([...ttl, ...pktinfo6])),
    false,
  );
  assert.equal(hasRoutingControl(new Uint8Array(0)), false);
});
