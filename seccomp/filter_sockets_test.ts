import assert from "node:assert/strict";
import {
  AUDIT_ARCH,
  evaluate,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_USER_NOTIF,
} from "./bpf.ts";
import {
  AF_ALG,
  AF_INET,
  AF_INET6,
  AF_NETLINK,
  AF_PACKET,
  AF_UNIX,
  AF_XDP,
  type Arch,
  buildFilter,
  EPROTONOSUPPORT,
  type FilterSpec,
  IPPROTO_MPTCP,
  IPPROTO_TCP,
  IPPROTO_UDP,
  MFD_NOEXEC_SEAL,
  NETLINK_USERSOCK,
  SOCK_DGRAM,
  SOCK_PACKET,
  SOCK_RAW,
  SOCK_STREAM,
} from "./filter.ts";
import { syscallNumber, syscallTable } from "./table.ts";

const AF_RDS = 21;
const AF_CAN = 29;
const AF_TIPC = 30;
const AF_BLUETOOTH = 31;
const AF_VSOCK = 40;
const SOCK_SEQPACKET = 5;
const IPPROTO_SCTP = 132;
const SOCK_NONBLOCK = 0o4000;
const SOCK_CLOEXEC = 0o2000000;
const IPPROTO_ICMP = 1;
const IPPROTO_ICMPV6 = 58;
const IPPROTO_UDPLITE = 136;
const MFD_CLOEXEC = 1;
const MFD_EXEC = 0x10;
const REFUSED = SECCOMP_RET_ERRNO | 13;
/** LL_LISTENER_SEND_FLAGS (tests/layout_test.ts checks it against C). */
const HANDOFF = 0x40004000;

function filter(arch: Arch, spec: Partial<FilterSpec>) {
  const prog = buildFilter({
    arch,
    table: syscallTable(arch),
    deny: [],
    errno: 13,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: true,
    notify: [],
    ...spec,
  });
  /** With `ints`, a garbage high word the kernel ignores for an int. */
  return (name: string, args: number[] = [], ints = true) =>
    evaluate(prog, {
      nr: syscallNumber(arch, name)!,
      arch: AUDIT_ARCH[arch],
      args: args.map((a) => BigInt(a) | (ints ? 0xdead_0000_0000n : 0n)),
    });
}

const socket = (domain: number, type: number, proto = 0) => [
  domain,
  type,
  proto,
];

for (const arch of ["x86_64", "aarch64"] as Arch[]) {
  Deno.test(`[${arch}] udp = "deny" refuses IPv4 and IPv6 datagram sockets, ping sockets and UDP-Lite included, whatever the flags`, () => {
    const run = filter(arch, { sockets: { udp: "deny", raw: true } });
    for (const domain of [AF_INET, AF_INET6]) {
      for (
        const type of [
          SOCK_DGRAM,
          SOCK_DGRAM | SOCK_CLOEXEC,
          SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC,
        ]
      ) {
        for (
          const proto of [0, IPPROTO_UDP, IPPROTO_ICMP, IPPROTO_ICMPV6, 136]
        ) {
          assert.equal(run("socket", socket(domain, type, proto)), REFUSED);
        }
      }
      assert.equal(
        run("socket", socket(domain, SOCK_STREAM)),
        SECCOMP_RET_ALLOW,
      );
      assert.equal(run("socket", socket(domain, SOCK_RAW)), SECCOMP_RET_ALLOW);
    }
    assert.equal(
      run("socket", socket(AF_UNIX, SOCK_DGRAM)),
      SECCOMP_RET_ALLOW,
    );
  });

  Deno.test(`[${arch}] udp = "dns" allows UDP sockets but refuses ping and UDP-Lite sockets`, () => {
    const run = filter(arch, { sockets: { udp: "dns", raw: true } });
    for (const domain of [AF_INET, AF_INET6]) {
      assert.equal(
        run("socket", socket(domain, SOCK_DGRAM)),
        SECCOMP_RET_ALLOW,
      );
      assert.equal(
        run("socket", socket(domain, SOCK_DGRAM | SOCK_CLOEXEC, IPPROTO_UDP)),
        SECCOMP_RET_ALLOW,
      );
      for (const proto of [IPPROTO_ICMP, IPPROTO_ICMPV6, IPPROTO_UDPLITE]) {
        assert.equal(
          run("socket", socket(domain, SOCK_DGRAM, proto)),
          REFUSED,
        );
      }
    }
  });

  Deno.test(`[${arch}] raw = false refuses raw, SOCK_PACKET, AF_PACKET and AF_XDP sockets only`, () => {
    const run = filter(arch, { sockets: { udp: "allow", raw: false } });
    for (const domain of [AF_INET, AF_INET6]) {
      assert.equal(run("socket", socket(domain, SOCK_RAW, 1)), REFUSED);
      assert.equal(
        run("socket", socket(domain, SOCK_RAW | SOCK_NONBLOCK, 255)),
        REFUSED,
      );
      assert.equal(run("socket", socket(domain, SOCK_PACKET, 3)), REFUSED);
      assert.equal(
        run("socket", socket(domain, SOCK_DGRAM)),
        SECCOMP_RET_ALLOW,
      );
      assert.equal(
        run("socket", socket(domain, SOCK_STREAM)),
        SECCOMP_RET_ALLOW,
      );
    }
    for (const type of [SOCK_RAW, SOCK_DGRAM, SOCK_PACKET]) {
      assert.equal(run("socket", socket(AF_PACKET, type, 0x300)), REFUSED);
    }
    assert.equal(run("socket", socket(AF_XDP, SOCK_RAW)), REFUSED);
    assert.equal(
      run("socket", socket(AF_XDP, SOCK_RAW | SOCK_CLOEXEC)),
      REFUSED,
    );
    assert.equal(run("socket", socket(AF_UNIX, SOCK_RAW)), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] families: only unix, IPv4, IPv6, netlink and AF_ALG sockets (packet and XDP too with raw), whatever the flags`, () => {
    for (const raw of [true, false]) {
      const run = filter(arch, {
        sockets: { udp: "allow", raw, families: true },
      });
      for (const flags of [0, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC]) {
        for (const domain of [AF_UNIX, AF_NETLINK, AF_ALG]) {
          for (const type of [SOCK_STREAM, SOCK_DGRAM, SOCK_RAW, 5]) {
            assert.equal(
              run("socket", socket(domain, type | flags)),
              SECCOMP_RET_ALLOW,
              `domain ${domain} type ${type}`,
            );
          }
        }
        for (
          const domain of [
            AF_VSOCK,
            AF_TIPC,
            AF_RDS,
            AF_CAN,
            AF_BLUETOOTH,
            0,
            3, // AF_AX25
            15, // AF_KEY
            45, // AF_MCTP
            46, // one past AF_MAX today
            0xffff,
          ]
        ) {
          assert.equal(
            run("socket", socket(domain, SOCK_STREAM | flags)),
            REFUSED,
            `domain ${domain}`,
          );
          assert.equal(
            run("socket", socket(domain, SOCK_DGRAM | flags)),
            REFUSED,
            `domain ${domain}`,
          );
        }
        for (const domain of [AF_PACKET, AF_XDP]) {
          assert.equal(
            run("socket", socket(domain, SOCK_RAW | flags)),
            raw ? SECCOMP_RET_ALLOW : REFUSED,
          );
        }
      }
    }
  });

  Deno.test(`[${arch}] families: netlink but NETLINK_USERSOCK (anyone may send there to a process outside); without families nothing netlink is refused`, () => {
    const run = filter(arch, {
      sockets: { udp: "deny", raw: false, families: true },
    });
    for (const proto of [0, 4, 9, 15, 16]) {
      assert.equal(
        run("socket", socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, proto)),
        SECCOMP_RET_ALLOW,
        `netlink protocol ${proto}`,
      );
    }
    for (const type of [SOCK_RAW, SOCK_DGRAM]) {
      assert.equal(
        run("socket", socket(AF_NETLINK, type, NETLINK_USERSOCK)),
        REFUSED,
      );
    }
    const open = filter(arch, {
      sockets: { udp: "deny", raw: false, families: false },
    });
    assert.equal(
      open("socket", socket(AF_NETLINK, SOCK_RAW, NETLINK_USERSOCK)),
      SECCOMP_RET_ALLOW,
    );
  });

  Deno.test(`[${arch}] families: IPv4/IPv6 streams are TCP only (SCTP refused, MPTCP left to its rule), no SEQPACKET, RDM or DCCP types`, () => {
    for (const udp of ["allow", "deny", "dns"] as const) {
      const run = filter(arch, {
        sockets: { udp, raw: true, families: true },
      });
      for (const domain of [AF_INET, AF_INET6]) {
        for (const flags of [0, SOCK_CLOEXEC, SOCK_NONBLOCK | SOCK_CLOEXEC]) {
          for (const proto of [0, IPPROTO_TCP]) {
            assert.equal(
              run("socket", socket(domain, SOCK_STREAM | flags, proto)),
              SECCOMP_RET_ALLOW,
            );
          }
          assert.equal(
            run("socket", socket(domain, SOCK_STREAM | flags, IPPROTO_SCTP)),
            REFUSED,
          );
          assert.equal(
            run("socket", socket(domain, SOCK_STREAM | flags, IPPROTO_MPTCP)),
            SECCOMP_RET_ERRNO | EPROTONOSUPPORT,
          );
          for (const type of [SOCK_SEQPACKET, 4, 6, 7, 9, 15]) {
            for (const proto of [0, IPPROTO_SCTP, 33]) {
              assert.equal(
                run("socket", socket(domain, type | flags, proto)),
                REFUSED,
                `type ${type} proto ${proto}`,
              );
            }
          }
          assert.equal(
            run("socket", socket(domain, SOCK_RAW | flags, 1)),
            SECCOMP_RET_ALLOW,
          );
          assert.equal(
            run("socket", socket(domain, SOCK_DGRAM | flags)),
            udp === "deny" ? REFUSED : SECCOMP_RET_ALLOW,
          );
        }
      }
    }
    // TCP unrestricted (no refuseMptcp): MPTCP passes.
    const tcpOpen = filter(arch, {
      refuseMptcp: false,
      sockets: { udp: "deny", raw: true, families: true },
    });
    assert.equal(
      tcpOpen("socket", socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)),
      SECCOMP_RET_ALLOW,
    );
  });

  Deno.test(`[${arch}] without families, other socket families and SCTP pass as before`, () => {
    const run = filter(arch, { sockets: { udp: "deny", raw: false } });
    for (const domain of [AF_VSOCK, AF_TIPC, AF_RDS, AF_CAN, AF_BLUETOOTH]) {
      assert.equal(
        run("socket", socket(domain, SOCK_STREAM)),
        SECCOMP_RET_ALLOW,
      );
    }
    assert.equal(
      run("socket", socket(AF_INET, SOCK_STREAM, IPPROTO_SCTP)),
      SECCOMP_RET_ALLOW,
    );
    assert.equal(
      run("socket", socket(AF_INET, SOCK_SEQPACKET, IPPROTO_SCTP)),
      SECCOMP_RET_ALLOW,
    );
  });

  Deno.test(`[${arch}] refuseSourceRoute refuses setsockopt IP_OPTIONS, IPV6_RTHDR and IPV6_2292PKTOPTIONS only`, () => {
    const run = filter(arch, { refuseSourceRoute: true });
    const setsockopt = (level: number, opt: number) => [3, level, opt, 0, 8];
    assert.equal(run("setsockopt", setsockopt(0, 4)), REFUSED); // IP_OPTIONS
    assert.equal(run("setsockopt", setsockopt(41, 57)), REFUSED); // IPV6_RTHDR
    assert.equal(run("setsockopt", setsockopt(41, 6)), REFUSED); // 2292PKTOPTIONS
    for (
      const [level, opt] of [[0, 1], [0, 7], [41, 4], [41, 26], [1, 4], [6, 4]]
    ) {
      assert.equal(
        run("setsockopt", setsockopt(level, opt)),
        SECCOMP_RET_ALLOW,
        `level ${level} option ${opt}`,
      );
    }
    assert.equal(run("getsockopt", setsockopt(0, 4)), SECCOMP_RET_ALLOW);
    const without = filter(arch, {});
    assert.equal(without("setsockopt", setsockopt(0, 4)), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] the socket rules leave MPTCP's refusal and other calls as they were`, () => {
    const run = filter(arch, { sockets: { udp: "deny", raw: false } });
    assert.equal(
      run("socket", socket(AF_INET, SOCK_STREAM, IPPROTO_MPTCP)),
      SECCOMP_RET_ERRNO | EPROTONOSUPPORT,
    );
    assert.equal(run("getpid"), SECCOMP_RET_ALLOW);
    assert.equal(run("connect", [3, 0, 16]), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] memfd_exec = false refuses memfd_create without MFD_NOEXEC_SEAL`, () => {
    const run = filter(arch, { refuseMemfdExec: true });
    assert.equal(run("memfd_create", [0, 0]), REFUSED);
    assert.equal(run("memfd_create", [0, MFD_CLOEXEC]), REFUSED);
    assert.equal(run("memfd_create", [0, MFD_EXEC | MFD_CLOEXEC]), REFUSED);
    assert.equal(
      run("memfd_create", [0, MFD_NOEXEC_SEAL | MFD_CLOEXEC]),
      SECCOMP_RET_ALLOW,
    );
    assert.equal(run("getpid"), SECCOMP_RET_ALLOW);
    const open = filter(arch, {});
    assert.equal(open("memfd_create", [0, MFD_EXEC]), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] a brokered sendto reaches the broker only with a destination address`, () => {
    const run = filter(arch, {
      notify: ["connect", "sendto", "sendmsg"],
      listenerSendFlags: HANDOFF,
    });
    assert.equal(run("sendto", [3, 0, 1, 0, 0, 0], false), SECCOMP_RET_ALLOW);
    assert.equal(
      run("sendto", [3, 0, 1, 0, 0x1000, 16]),
      SECCOMP_RET_USER_NOTIF,
    );
    assert.equal(run("connect", [3, 0x1000, 16]), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("sendmsg", [3, 0x1000, 0]), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("sendmsg", [3, 0x1000, 0x4000]), SECCOMP_RET_USER_NOTIF);
  });

  Deno.test(`[${arch}] landlockd's own listener hand-off (sendmsg with its flags) is not sent to the broker, and a filter that notifies sendmsg needs those flags`, () => {
    const run = filter(arch, {
      notify: ["sendmsg"],
      listenerSendFlags: HANDOFF,
    });
    assert.equal(run("sendmsg", [3, 0x1000, HANDOFF]), SECCOMP_RET_ALLOW);
    assert.throws(() => filter(arch, { notify: ["sendmsg"] }), /sendmsg/);
  });
}

Deno.test("a sendto address with only its high word set still reaches the broker", () => {
  const arch = "x86_64";
  const prog = buildFilter({
    arch,
    table: syscallTable(arch),
    deny: [],
    errno: 1,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: false,
    notify: ["sendto"],
  });
  assert.equal(
    evaluate(prog, {
      nr: syscallNumber(arch, "sendto")!,
      arch: AUDIT_ARCH[arch],
      args: [3n, 0n, 1n, 0n, 0x7fff_0000_0000n, 16n],
    }),
    SECCOMP_RET_USER_NOTIF,
  );
});
