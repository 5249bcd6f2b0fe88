/**
 * Issue 15: attacks on the egress proxy of `[net] allow_hosts`, from
 * inside real sandboxes. allowed.test and denied.test are two local
 * servers (LANDLOCKD_TEST_HOSTS maps both names to 127.0.0.1); the policy
 * lists allowed.test only. Each attack tries to reach denied.test, to
 * exhaust the proxy, or to choose the proxy's resolver; denied.test must
 * receive nothing.
 */
import assert from "node:assert/strict";
import { testAtAbi } from "../fresh_needs.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";
import {
  assertProbe,
  landlockd,
  PROBE,
  python3,
  RUN_ROOT,
  sandboxed,
  tempDir,
  USERS,
} from "../helpers.ts";
import {
  auditPath,
  hostsFile,
  hostsPolicy,
  localServer,
  netEvents,
} from "../egress_helpers.ts";

const HOSTS = hostsFile();
const ENV = { LANDLOCKD_TEST_HOSTS: HOSTS };
const SMUGGLE = `${RUN_ROOT}tests/attacks/egress_smuggle.py`;
const FLOOD = `${RUN_ROOT}tests/attacks/egress_flood.py`;

function results(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((l) => l.split(" ") as [string, string]),
  );
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] a direct connect to the denied server, bypassing the proxy, is EACCES`,
    async () => {
      const denied = localServer("denied");
      try {
        const r = await sandboxed(
          hostsPolicy(["allowed.test:1"]),
          [PROBE, "connect", String(denied.port)],
          { as, env: ENV },
        );
        assertProbe(r, { [`connect ${denied.port}`]: "EACCES" });
        assert.deepEqual(denied.seen, []);
      } finally {
        await denied.close();
      }
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] Host/authority mismatches and smuggling tricks never reach the denied host`,
    async () => {
      const allowed = localServer("allowed");
      const denied = localServer("denied");
      try {
        const audit = auditPath(as);
        const r = await landlockd([
          "run",
          "--policy-file",
          hostsPolicy([`allowed.test:${allowed.port}`]),
          "--audit-file",
          audit,
          "--",
          python3(),
          SMUGGLE,
          String(allowed.port),
          String(denied.port),
        ], { as, env: ENV });
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(results(r.stdout), {
          "connect-host-mismatch": "400",
          "get-host-mismatch": "400",
          "two-hosts": "400",
          "userinfo-connect": "400",
          "userinfo-url": "400",
          "fragment-url": "400",
          "folded-host": "400",
          "origin-form": "400",
          "https-url": "400",
          "bare-lf": "400",
          "space-in-target": "400",
          "trailing-dot-denied": "403",
          "upper-denied": "403",
          "port-zero-padded": "400",
          "nul-in-header": "400",
          pipelined: "200",
          "in-tunnel": "allowed-answered",
        });
        assert.deepEqual(denied.seen, [], "denied.test got a request");
        // Everything that reached a server reached the allowed one.
        assert.ok(allowed.seen.every((s) => s.startsWith("GET ")));
        const events = netEvents(audit);
        assert.equal(
          events.filter((e) => e.event === "net.deny").length,
          15,
        );
        assert.ok(
          events.every((e) =>
            e.event === "net.deny" || e.host === "allowed.test"
          ),
        );
      } finally {
        await allowed.close();
        await denied.close();
      }
    },
  );
}

testAtAbi(
  4,
  "connect_tcp",
  "a connection flood is held to the per-run limit, slow heads are closed, and the proxy serves again after",
  async () => {
    const allowed = localServer("allowed");
    try {
      const audit = auditPath();
      const r = await landlockd([
        "run",
        "--policy-file",
        hostsPolicy([`http://allowed.test:${allowed.port}`]),
        "--audit-file",
        audit,
        "--",
        python3(),
        FLOOD,
        "300",
        "15",
        `http://allowed.test:${allowed.port}/after`,
      ], { env: ENV });
      assert.equal(r.code, 0, r.stderr);
      // 256 connections at once (DEFAULT_LIMITS.maxConnections).
      assert.deepEqual(results(r.stdout), {
        refused: "44",
        closed: "256",
        after: "200",
      });
      const deny = netEvents(audit).filter((e) => e.event === "net.deny");
      assert.equal(deny.filter((e) => e.status === 503).length, 44);
      assert.equal(deny.filter((e) => e.status === 408).length, 256);
    } finally {
      await allowed.close();
    }
  },
);

testAtAbi(
  4,
  "connect_tcp",
  "LANDLOCKD_TEST_HOSTS set by the command or a daemon client does not change the proxy's resolver",
  async () => {
    const allowed = localServer("allowed");
    try {
      const p = allowed.port;
      const evil = `${tempDir("evil-")}/hosts`;
      Deno.writeTextFileSync(evil, "127.0.0.1 evil.test\n");
      Deno.chmodSync(evil, 0o644);
      const policy = hostsPolicy([`allowed.test:${p}`, `evil.test:${p}`]);
      const script = [
        'echo "seen ${LANDLOCKD_TEST_HOSTS:-unset}"',
        `export LANDLOCKD_TEST_HOSTS=${evil}`,
        `curl -s -p -o /dev/null -w 'evil %{http_connect}\\n' http://evil.test:${p}/`,
        `curl -s -p -o /dev/null -w 'allowed %{http_connect}\\n' http://allowed.test:${p}/`,
        "true",
      ].join("; ");
      const want = "seen unset\nevil 502\nallowed 200\n";
      // A direct run: the command's own environment.
      const direct = await sandboxed(policy, ["sh", "-c", script], {
        env: ENV,
      });
      assert.equal(direct.stdout, want, direct.stderr);
      // Through the daemon: the client's environment is the command's,
      // never the daemon's.
      const daemon = await startDaemon({ env: ENV, args: SERVE_FOR_USERS });
      try {
        for (const as of USERS) {
          const r = await landlockd([
            "run",
            "--socket",
            daemon.socket,
            "--policy-file",
            policy,
            "--",
            "sh",
            "-c",
            script,
          ], { as, env: { LANDLOCKD_TEST_HOSTS: evil } });
          assert.equal(r.stdout, want, `${as}: ${r.stderr}`);
        }
        const events = daemon.events().filter((e) =>
          String(e.event).startsWith("net.")
        );
        assert.ok(events.some((e) => e.event === "net.allow"));
      } finally {
        daemon.proc.kill("SIGTERM");
        await daemon.exited();
      }
    } finally {
      await allowed.close();
    }
  },
);
