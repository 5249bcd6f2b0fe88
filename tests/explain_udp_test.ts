/**
 * `run --explain` with `[net] udp = "dns"`: a datagram the broker refuses
 * (not to a nameserver of the sandbox's resolv.conf on port 53) is listed
 * as a `udp send` denial with its destination and `udp = "allow"` as the
 * fix, and is a documented `denial` event; the datagram to the nameserver
 * is not listed. Direct and through the daemon, as root and as nobody.
 */
import assert from "node:assert/strict";
import { landlockd, python3, USERS } from "./helpers.ts";
import { assertDocumented } from "./audit_schema.ts";
import { auditPath } from "./egress_helpers.ts";
import { udpPolicy } from "./attacks/udp_helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "./daemon_helpers.ts";

/** Not the attack tests' addresses: the files may run in parallel. */
const NAMESERVER = "127.86.0.1";
const OTHER = "127.86.0.2";

const SCRIPT = `import errno, socket
s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
for to in [("${NAMESERVER}", 53), ("${OTHER}", 53), ("${OTHER}", 53), ("${NAMESERVER}", 5353)]:
    try:
        s.sendto(b"x", to)
        print(to[0], to[1], "OK")
    except OSError as e:
        print(to[0], to[1], errno.errorcode[e.errno])
`;

const EXPECTED =
  `${NAMESERVER} 53 OK\n${OTHER} 53 EPERM\n${OTHER} 53 EPERM\n${NAMESERVER} 5353 EPERM\n`;

function check(stderr: string, policy: string) {
  assert.match(stderr, /--explain: 2 distinct accesses denied/, stderr);
  assert.match(
    stderr,
    new RegExp(
      `denied: udp send ${
        OTHER.replaceAll(".", "\\.")
      }:53 \\(sendto, 2 times\\)\n` +
        `  refused by the broker \\(\\[net\\] udp at ${policy}:2\\): udp = "dns" sends datagrams only to the nameservers of /etc/resolv.conf, port 53\n` +
        `  to allow it \\(all UDP, any destination\\), set in \\[net\\]:\n` +
        `    udp = "allow"\n`,
    ),
    stderr,
  );
  assert.match(stderr, new RegExp(`denied: udp send ${NAMESERVER}:5353 `));
  assert.doesNotMatch(stderr, new RegExp(`udp send ${NAMESERVER}:53 `));
}

for (const as of USERS) {
  Deno.test(
    `[${as}] under --explain, datagrams udp = "dns" refused are listed with their destination and a denial event`,
    async () => {
      const policy = udpPolicy("dns", "", "", NAMESERVER);
      const audit = auditPath(as);
      const r = await landlockd([
        "run",
        "--explain",
        "--policy-file",
        policy,
        "--audit-file",
        audit,
        "--",
        python3(),
        "-c",
        SCRIPT,
      ], { as });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, EXPECTED);
      check(r.stderr, policy);
      const denials = Deno.readTextFileSync(audit).split("\n").filter((l) => l)
        .map((l) => JSON.parse(l)).filter((e) => e.event === "denial");
      denials.forEach(assertDocumented);
      assert.deepEqual(
        denials.map((
          d,
        ) => [d.operation, d.host, d.port, d.syscall, d.count, d.fix]),
        [
          ["udp", OTHER, 53, "sendto", 2, 'udp = "allow"'],
          ["udp", NAMESERVER, 5353, "sendto", 1, 'udp = "allow"'],
        ],
      );
    },
  );
}

Deno.test(
  "through the daemon (run --socket --explain, root and nobody), refused datagrams are listed",
  async () => {
    const daemon = await startDaemon({ args: SERVE_FOR_USERS });
    try {
      const policy = udpPolicy("dns", "", "", NAMESERVER);
      for (const as of USERS) {
        const r = await landlockd([
          "run",
          "--socket",
          daemon.socket,
          "--explain",
          "--policy-file",
          policy,
          "--",
          python3(),
          "-c",
          SCRIPT,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, EXPECTED);
        check(r.stderr, policy);
      }
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
    }
  },
);
