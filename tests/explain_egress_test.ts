/**
 * `run --explain` with `[net] allow_hosts`: every refusal of the egress
 * proxy (a host not listed, an IP literal, a name resolving to a private
 * address) is its own block of the report, with the host:port, the reason
 * and the `allow_hosts` entry to add, and a documented `denial` audit
 * event. Direct and through the daemon, as root and as nobody. All names
 * map to 127.0.0.1 through LANDLOCKD_TEST_HOSTS.
 */
import assert from "node:assert/strict";
import { testAtAbi } from "./fresh_needs.ts";
import { landlockd, USERS } from "./helpers.ts";
import { assertDocumented } from "./audit_schema.ts";
import {
  auditPath,
  hostsFile,
  hostsPolicy,
  localServer,
} from "./egress_helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "./daemon_helpers.ts";

const HOSTS = hostsFile();
const ENV = { LANDLOCKD_TEST_HOSTS: HOSTS };

/** curl to an allowed host, a denied host, an IP literal, a private name. */
function script(p: number): string {
  return [
    `curl -sS -p -o /dev/null http://allowed.test:${p}/hello`,
    `curl -s -p -o /dev/null -w 'denied %{http_connect}\\n' http://denied.test:${p}/x`,
    `curl -s -p -o /dev/null -w 'denied %{http_connect}\\n' http://denied.test:${p}/y`,
    `curl -s -o /dev/null -w 'literal %{http_code}\\n' http://127.0.0.1:${p}/x`,
    `curl -s -p -o /dev/null -w 'wild %{http_connect}\\n' http://a.wild.test:${p}/x`,
    "true",
  ].join("; ");
}

/** The report's blocks and the audit file's denial events, checked. */
function check(stderr: string, p: number, policy: string) {
  assert.match(stderr, /--explain: 3 distinct accesses denied/, stderr);
  assert.match(
    stderr,
    new RegExp(
      `denied: connect via proxy denied\\.test:${p} \\(CONNECT, 2 times\\)\n` +
        `  refused by the egress proxy \\(\\[net\\] allow_hosts at ${policy}:2\\): [^\n]+\n` +
        `  to allow it, add the entry to \\[net\\] allow_hosts:\n` +
        `    allow_hosts = \\["denied\\.test:${p}"\\]\n`,
    ),
    stderr,
  );
  assert.match(
    stderr,
    new RegExp(
      `denied: connect via proxy 127\\.0\\.0\\.1:${p} \\(GET, once\\)\n[^\n]+\n[^\n]+\n    allow_hosts = \\["127\\.0\\.0\\.1:${p}"\\]\n`,
    ),
    stderr,
  );
  // a.wild.test matches "*.wild.test" but resolves to loopback.
  assert.match(
    stderr,
    new RegExp(
      `denied: connect via proxy a\\.wild\\.test:${p} \\(CONNECT, once\\)\n[^\n]*resolves to 127\\.0\\.0\\.1[^\n]*\n[^\n]+\n    allow_hosts = \\["127\\.0\\.0\\.1:${p}"\\]\n`,
    ),
    stderr,
  );
  assert.doesNotMatch(stderr, /allowed\.test/);
}

function denialEvents(events: Record<string, unknown>[]) {
  const denials = events.filter((e) => e.event === "denial");
  denials.forEach(assertDocumented);
  return denials;
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] under --explain, each proxy refusal is a block with host:port, reason and the allow_hosts entry, and a denial event`,
    async () => {
      const srv = localServer("allowed");
      try {
        const p = srv.port;
        const policy = hostsPolicy([`allowed.test:${p}`, `*.wild.test:${p}`]);
        const audit = auditPath(as);
        const r = await landlockd([
          "run",
          "--explain",
          "--policy-file",
          policy,
          "--audit-file",
          audit,
          "--",
          "sh",
          "-c",
          script(p),
        ], { as, env: ENV });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
          r.stdout,
          "denied 403\ndenied 403\nliteral 403\nwild 403\n",
        );
        check(r.stderr, p, policy);
        const events = Deno.readTextFileSync(audit).split("\n").filter((l) => l)
          .map((l) => JSON.parse(l));
        const denials = denialEvents(events);
        const denied = denials.find((d) => d.host === "denied.test");
        assert.deepEqual(
          {
            ...denied,
            timestamp: undefined,
            reason: undefined,
            origin: undefined,
          },
          {
            component: "runner",
            event: "denial",
            timestamp: undefined,
            operation: "proxy",
            host: "denied.test",
            port: p,
            reason: undefined,
            syscall: "connect",
            method: "CONNECT",
            count: 2,
            section: "net",
            origin: undefined,
            missing: [],
            fix: `allow_hosts = ["denied.test:${p}"]`,
          },
        );
        assert.equal(denials.length, 3);
        // After run.exit, like the observer's denials.
        const exit = events.findIndex((e) => e.event === "run.exit");
        assert.ok(events.findIndex((e) => e.event === "denial") > exit);
        // Without --explain: no report, the net.deny events only.
        const plain = await landlockd([
          "run",
          "--policy-file",
          policy,
          "--",
          "sh",
          "-c",
          script(p),
        ], { as, env: ENV });
        assert.equal(plain.code, 0, plain.stderr);
        assert.doesNotMatch(plain.stderr, /--explain|connect via proxy/);
      } finally {
        await srv.close();
      }
    },
  );
}

testAtAbi(
  4,
  "connect_tcp",
  "through the daemon (run --socket --explain, as root and nobody), proxy refusals are reported and are denial events",
  async () => {
    const srv = localServer("allowed");
    const daemon = await startDaemon({ args: SERVE_FOR_USERS, env: ENV });
    try {
      const p = srv.port;
      const policy = hostsPolicy([`allowed.test:${p}`, `*.wild.test:${p}`]);
      for (const as of USERS) {
        const r = await landlockd([
          "run",
          "--socket",
          daemon.socket,
          "--explain",
          "--policy-file",
          policy,
          "--",
          "sh",
          "-c",
          script(p),
        ], { as });
        assert.equal(r.code, 0, r.stderr);
        assert.equal(
          r.stdout,
          "denied 403\ndenied 403\nliteral 403\nwild 403\n",
        );
        check(r.stderr, p, policy);
      }
      const denials = denialEvents(daemon.events());
      assert.equal(
        denials.filter((d) => d.operation === "proxy").length,
        6,
        JSON.stringify(denials),
      );
    } finally {
      daemon.proc.kill("SIGTERM");
      await daemon.exited();
      await srv.close();
    }
  },
);
