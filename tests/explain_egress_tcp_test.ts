/**
 * `run --explain` with `[net] allow_hosts`: a direct TCP connect that the
 * broker refuses (not the egress proxy, nor a `[[net.rule]]` port) fails
 * with EACCES and is listed with its address:port, the errno, the
 * `[[net.rule]]` that allows it and the `allow_hosts` entry for a program
 * that can use the proxy; a documented `denial` event. The connects that
 * are allowed (to the proxy, to a `[[net.rule]]` port) are not listed.
 * Direct and through the daemon, as root and as nobody.
 */
import assert from "node:assert/strict";
import { testAtAbi } from "./fresh_needs.ts";
import { landlockd, python3, USERS } from "./helpers.ts";
import { assertDocumented } from "./audit_schema.ts";
import { auditPath, hostsPolicy } from "./egress_helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "./daemon_helpers.ts";

/** Connects to the proxy (HTTP_PROXY), then to each 127.0.0.1 port given. */
const SCRIPT = `import errno, os, socket, sys
proxy = os.environ["HTTP_PROXY"].rsplit(":", 1)[1].strip("/")
for name, port in [("proxy", proxy)] + [(p, p) for p in sys.argv[1:]]:
    try:
        socket.create_connection(("127.0.0.1", int(port)), timeout=5).close()
        print(name, "OK")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
`;

/** A TCP listener on 127.0.0.1 that accepts and closes. */
function listener(): { port: number; close(): Promise<void> } {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const done = (async () => {
    for await (const conn of server) conn.close();
  })();
  return {
    port: server.addr.port,
    async close() {
      server.close();
      await done.catch(() => {});
    },
  };
}

const esc = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function check(stderr: string, denied: number, rule: number, policy: string) {
  assert.match(stderr, /--explain: 1 distinct access denied/, stderr);
  assert.match(
    stderr,
    new RegExp(esc(
      `denied: connect to TCP port 127.0.0.1:${denied} (connect, 2 times)\n` +
        `  refused by the broker ([net] allow_hosts at ${policy}:2): EACCES: with allow_hosts, TCP connects go only to the egress proxy (HTTPS_PROXY) and the ports of [[net.rule]]\n` +
        `  to allow direct connects to this port (any host, not through the proxy), add to [net]:\n` +
        `    [[net.rule]]\n    port = ${denied}\n    allowed_access = ["connect_tcp"]\n` +
        `  or, if the program can use the proxy, add the entry to [net] allow_hosts:\n` +
        `    allow_hosts = ["127.0.0.1:${denied}"]\n`,
    )),
    stderr,
  );
  assert.doesNotMatch(stderr, new RegExp(`:${rule}\\b`));
}

/** The policy, the two listeners and the expected stdout. */
function setup() {
  const denied = listener();
  const rule = listener();
  const policy = hostsPolicy(
    [],
    `[[net.rule]]\nport = ${rule.port}\nallowed_access = ["connect_tcp"]\n`,
  );
  const argv = [
    python3(),
    "-c",
    SCRIPT,
    String(denied.port),
    String(denied.port),
    String(rule.port),
  ];
  const stdout =
    `proxy OK\n${denied.port} EACCES\n${denied.port} EACCES\n${rule.port} OK\n`;
  return {
    denied,
    rule,
    policy,
    argv,
    stdout,
    close: () => Promise.all([denied.close(), rule.close()]),
  };
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] under --explain, a TCP connect the broker refuses under allow_hosts is listed with address:port, EACCES and the rule to add; allowed connects are not`,
    async () => {
      const s = setup();
      try {
        const audit = auditPath(as);
        const r = await landlockd([
          "run",
          "--explain",
          "--policy-file",
          s.policy,
          "--audit-file",
          audit,
          "--",
          ...s.argv,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, s.stdout, r.stderr);
        check(r.stderr, s.denied.port, s.rule.port, s.policy);
        const denials = Deno.readTextFileSync(audit).split("\n")
          .filter((l) => l).map((l) => JSON.parse(l))
          .filter((e) => e.event === "denial");
        denials.forEach(assertDocumented);
        assert.deepEqual(
          denials.map((d) => ({ ...d, timestamp: undefined })),
          [{
            component: "runner",
            event: "denial",
            timestamp: undefined,
            operation: "connect",
            host: "127.0.0.1",
            port: s.denied.port,
            reason:
              "EACCES: with allow_hosts, TCP connects go only to the egress proxy (HTTPS_PROXY) and the ports of [[net.rule]]",
            syscall: "connect",
            count: 2,
            section: "net",
            origin: `${s.policy}:2`,
            missing: ["connect_tcp"],
            fix:
              `[[net.rule]]\nport = ${s.denied.port}\nallowed_access = ["connect_tcp"]`,
          }],
        );
        // Without --explain: the same errnos, no report.
        const plain = await landlockd(
          ["run", "--policy-file", s.policy, "--", ...s.argv],
          { as },
        );
        assert.equal(plain.code, 0, plain.stderr);
        assert.equal(plain.stdout, s.stdout);
        assert.doesNotMatch(plain.stderr, /--explain|denied:/);
      } finally {
        await s.close();
      }
    },
  );
}

testAtAbi(
  4,
  "connect_tcp",
  "through the daemon (run --socket --explain, as root and nobody), TCP connects refused under allow_hosts are listed",
  async () => {
    const s = setup();
    const daemon = await startDaemon({ args: SERVE_FOR_USERS });
    try {
      for (const as of USERS) {
        const r = await landlockd([
          "run",
          "--socket",
          daemon.socket,
          "--explain",
          "--policy-file",
          s.policy,
          "--",
          ...s.argv,
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, s.stdout, r.stderr);
        check(r.stderr, s.denied.port, s.rule.port, s.policy);
      }
      const denials = daemon.events().filter((e) =>
        e.event === "denial" && e.operation === "connect"
      );
      assert.equal(denials.length, USERS.length, JSON.stringify(denials));
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
      await s.close();
    }
  },
);
