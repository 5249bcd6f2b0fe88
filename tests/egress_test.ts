/**
 * `[net] allow_hosts` end to end on the real kernel: the command reaches
 * allowed hosts only through landlockd's proxy (curl, git, Python), a
 * direct connect is EACCES from Landlock, refusals are 403 with the rule
 * to add, and every decision is a documented audit event. As root and as
 * nobody. All names map to 127.0.0.1 through LANDLOCKD_TEST_HOSTS.
 */
import assert from "node:assert/strict";
import { testAtAbi, testNeedingAbi } from "./fresh_needs.ts";
import {
  assertProbe,
  landlockd,
  outsideTmpDir,
  policyFile,
  PROBE,
  python3,
  RUN_ROOT,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";
import {
  auditPath,
  BIG,
  bigSha256,
  hostsFile,
  hostsPolicy,
  localServer,
  netEvents,
} from "./egress_helpers.ts";

/** Tests whose policy has a [net] table: Landlock ABI 4. */
const netTest = testNeedingAbi(
  4,
  "the [net] table these policies set (it handles TCP)",
);

const HOSTS = hostsFile();
const ENV = { LANDLOCKD_TEST_HOSTS: HOSTS };

/** `sh -c SCRIPT` under `policy`, with an audit file. */
async function sh(
  policy: string,
  script: string,
  as: (typeof USERS)[number],
) {
  const audit = auditPath(as);
  const r = await landlockd(
    [
      "run",
      "--policy-file",
      policy,
      "--audit-file",
      audit,
      "--",
      "sh",
      "-c",
      script,
    ],
    { as, env: ENV },
  );
  return { ...r, events: netEvents(audit) };
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] an allowed host answers through the proxy (CONNECT and plain HTTP); a denied one gets 403 naming the rule`,
    async () => {
      const srv = localServer("allowed");
      try {
        const p = srv.port;
        const policy = hostsPolicy([`allowed.test:${p}`, `http://plain.test`]);
        const r = await sh(
          policy,
          [
            `curl -sS -p http://allowed.test:${p}/hello`,
            `curl -sS http://allowed.test:${p}/plain`,
            `curl -s -o /dev/null -w 'denied %{http_code}\\n' http://denied.test:${p}/x`,
            `curl -s -p -o /dev/null -w 'tunnel %{http_connect}\\n' http://denied.test:${p}/x`,
            "true",
          ].join("; "),
          as,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^hello from allowed\nhello from allowed\n/);
        assert.match(r.stdout, /denied 403\n/);
        assert.match(r.stdout, /tunnel 403\n/);
        assert.deepEqual(srv.seen.map((s) => s.split(" ")[1]), [
          "/hello",
          "/plain",
        ]);
        const allow = r.events.filter((e) => e.event === "net.allow");
        assert.deepEqual(
          allow.map((e) => [e.method, e.host, e.port, e.address]),
          [
            ["CONNECT", "allowed.test", p, "127.0.0.1"],
            ["GET", "allowed.test", p, "127.0.0.1"],
          ],
        );
        assert.ok(allow.every((e) => (e.bytes_down as number) > 0));
        const deny = r.events.filter((e) => e.event === "net.deny");
        assert.equal(deny.length, 2);
        for (const d of deny) {
          assert.equal(d.status, 403);
          assert.equal(d.host, "denied.test");
          assert.equal(d.suggest, `denied.test:${p}`);
        }
        // The 403's body says what to add.
        const body = await sh(
          policy,
          `curl -sS http://denied.test:${p}/x`,
          as,
        );
        assert.match(
          body.stdout,
          new RegExp(`add "denied.test:${p}" to \\[net\\] allow_hosts`),
        );
      } finally {
        await srv.close();
      }
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] a direct connect to the server's port, bypassing the proxy, is EACCES`,
    async () => {
      const srv = localServer("allowed");
      try {
        const policy = hostsPolicy([`allowed.test:${srv.port}`]);
        const r = await sandboxed(
          policy,
          [PROBE, "connect", String(srv.port)],
          {
            as,
            env: ENV,
          },
        );
        assertProbe(r, { [`connect ${srv.port}`]: "EACCES" });
      } finally {
        await srv.close();
      }
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] a wildcard reaches its subdomains, not the bare suffix, and a loopback answer only when the range is listed`,
    async () => {
      const srv = localServer("wild");
      try {
        const p = srv.port;
        const code = (h: string) =>
          `curl -s -p -o /dev/null -w '${h} %{http_connect}\\n' http://${h}:${p}/`;
        const script = [code("a.wild.test"), code("b.wild.test")].join("; ");
        // Without the range: a.wild.test -> 127.0.0.1 is DNS rebinding.
        const rebound = await sh(hostsPolicy([`*.wild.test:${p}`]), script, as);
        assert.match(rebound.stdout, /a\.wild\.test 403\nb\.wild\.test 403\n/);
        const deny = rebound.events.find((e) => e.event === "net.deny")!;
        assert.match(
          String(deny.reason),
          /resolves to 127\.0\.0\.1 \(loopback\)/,
        );
        assert.equal(deny.suggest, `127.0.0.1:${p}`);
        const listed = await sh(
          hostsPolicy([`*.wild.test:${p}`, `127.0.0.0/8:${p}`]),
          `${script}; ${code("wild.test")}`,
          as,
        );
        assert.match(
          listed.stdout,
          /a\.wild\.test 200\nb\.wild\.test 200\nwild\.test 403\n/,
        );
      } finally {
        await srv.close();
      }
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] an IP literal is refused unless an address or range lists it`,
    async () => {
      const srv = localServer("ip");
      try {
        const p = srv.port;
        const script =
          `curl -s -p -o /dev/null -w '%{http_connect}\\n' http://127.0.0.1:${p}/`;
        const refused = await sh(
          hostsPolicy([`allowed.test:${p}`]),
          script,
          as,
        );
        assert.equal(refused.stdout, "403\n");
        assert.equal(refused.events[0].suggest, `127.0.0.1:${p}`);
        const listed = await sh(hostsPolicy([`127.0.0.1:${p}`]), script, as);
        assert.equal(listed.stdout, "200\n");
      } finally {
        await srv.close();
      }
    },
  );
}

testAtAbi(
  4,
  "connect_tcp",
  "git, Python's urllib, pip, npm and Deno's fetch use the proxy (git's https goes through CONNECT)",
  async () => {
    const srv = localServer("tools");
    try {
      const p = srv.port;
      const r = await sh(
        hostsPolicy([`allowed.test:${p}`, `http://allowed.test:${p}`]),
        [
          // Not TLS on the other side: the handshake fails, after the tunnel.
          `GIT_TERMINAL_PROMPT=0 git ls-remote https://allowed.test:${p}/repo.git >/dev/null 2>&1`,
          `${python3()} -c 'import urllib.request; print(urllib.request.urlopen("http://allowed.test:${p}/py").read().decode(), end="")'`,
          // The local server is no package index: the requests are the point.
          `T=$(mktemp -d)`,
          `PIP_CONFIG_FILE=/dev/null ${python3()} -m pip download --no-cache-dir --trusted-host allowed.test --index-url http://allowed.test:${p}/simple/ -d "$T/pip" nothing-here >/dev/null 2>&1`,
          `npm_config_cache="$T/npm" npm view --registry http://allowed.test:${p}/ left-pad >/dev/null 2>&1`,
          `DENO_NO_UPDATE_CHECK=1 ${Deno.execPath()} eval 'await fetch("http://allowed.test:${p}/deno")' >/dev/null 2>&1`,
          "true",
        ].join("; "),
        "root",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, "hello from tools\n");
      const allow = r.events.filter((e) => e.event === "net.allow");
      assert.deepEqual(allow[0].method, "CONNECT");
      assert.ok(allow.every((e) => e.host === "allowed.test"));
      const paths = srv.seen.map((s) => s.split(" ")[1]);
      assert.equal(paths[0], "/py");
      assert.ok(paths.includes("/simple/nothing-here/"), `pip: ${paths}`);
      assert.ok(paths.includes("/left-pad"), `npm: ${paths}`);
      assert.ok(paths.includes("/deno"), `deno: ${paths}`);
    } finally {
      await srv.close();
    }
  },
);

testAtAbi(
  4,
  "connect_tcp",
  "a 100 MB download streams through the proxy intact, through a tunnel and as plain HTTP",
  async () => {
    const srv = localServer("big");
    try {
      const p = srv.port;
      const want = await bigSha256();
      const r = await sh(
        hostsPolicy([`allowed.test:${p}`]),
        `curl -sS -p http://allowed.test:${p}/big | sha256sum; curl -sS http://allowed.test:${p}/big | sha256sum`,
        "root",
      );
      assert.equal(r.code, 0, r.stderr);
      assert.equal(r.stdout, `${want}  -\n${want}  -\n`);
      const allow = r.events.filter((e) => e.event === "net.allow");
      assert.equal(allow.length, 2);
      for (const e of allow) assert.ok((e.bytes_down as number) > BIG);
    } finally {
      await srv.close();
    }
  },
);

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] 100 tunnels open at once, each answered`,
    async () => {
      const srv = localServer("many");
      try {
        const p = srv.port;
        const r = await sh(
          hostsPolicy([`allowed.test:${p}`]),
          `${python3()} ${RUN_ROOT}tests/egress_tunnels.py allowed.test ${p} 100`,
          as,
        );
        assert.equal(r.code, 0, r.stderr);
        assert.equal(r.stdout, "open 100\nok 100\n");
        assert.equal(
          r.events.filter((e) => e.event === "net.allow").length,
          100,
        );
      } finally {
        await srv.close();
      }
    },
  );
}

testAtAbi(
  4,
  "connect_tcp",
  "the command's environment points every proxy variable at the proxy, with NO_PROXY empty",
  async () => {
    const r = await sh(
      hostsPolicy([]),
      "env | grep -i _proxy= | sort",
      "root",
    );
    assert.equal(r.code, 0, r.stderr);
    const lines = r.stdout.trim().split("\n");
    const port = /127\.0\.0\.1:(\d+)/.exec(r.stdout)?.[1];
    assert.ok(port);
    const url = `http://127.0.0.1:${port}`;
    assert.deepEqual(lines, [
      `ALL_PROXY=${url}`,
      `HTTPS_PROXY=${url}`,
      `HTTP_PROXY=${url}`,
      "NO_PROXY=",
      `all_proxy=${url}`,
      `http_proxy=${url}`,
      `https_proxy=${url}`,
      "no_proxy=",
    ]);
  },
);

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] net-fetch-hosts refuses every host until a policy extending it lists one`,
    async () => {
      const srv = localServer("starter");
      try {
        const p = srv.port;
        const url = `http://allowed.test:${p}/hello`;
        const script = `curl -s -p -o /dev/null -w '%{http_connect}\\n' ${url}`;
        const base = await landlockd(
          ["run", "--policy", "net-fetch-hosts", "--", "sh", "-c", script],
          { as, env: ENV },
        );
        assert.equal(base.stdout, "403\n", base.stderr);
        const extended = policyFile(
          `version = 1
extends = "net-fetch-hosts"
[net]
allow_hosts = ["allowed.test:${p}"]
`,
          outsideTmpDir(),
        );
        const r = await sandboxed(extended, ["curl", "-sS", "-p", url], {
          as,
          env: ENV,
        });
        assert.equal(r.stdout, "hello from starter\n", r.stderr);
      } finally {
        await srv.close();
      }
    },
  );
}

Deno.test("allow_hosts below Landlock ABI 4 refuses the run with 125, even under best_effort", async () => {
  for (const compat of ["strict", "best_effort"]) {
    const policy = policyFile(`version = 1
compat = "${compat}"
[net]
allow_hosts = ["example.org"]
`);
    const r = await sandboxed(policy, ["true"], {
      env: { LANDLOCKD_ABI_MAX: "3" },
    });
    assert.equal(r.code, 125, r.stderr);
    assert.match(
      r.stderr,
      /net\.allow_hosts: confining TCP connects to landlockd's egress proxy needs Landlock ABI 4 \(Linux 6\.7\), but this kernel provides ABI 3/,
    );
  }
});

Deno.test("a malformed allow_hosts entry is one error with file, line and key", async () => {
  const policy = policyFile(`version = 1
[net]
allow_hosts = [
  "ok.example.org",
  "*.org:99999",
]
`);
  const r = await landlockd(["lint", "--policy-file", policy]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    new RegExp(
      // A multi-line list is located at its key's line (policy/locate.ts).
      `${policy}:3: net\\.allow_hosts\\[1\\]: port 99999 is out of range \\(1 to 65535\\); expected "host\\[:port\\]"`,
    ),
  );
  assert.match(r.stderr, /invalid: 1 error/);
});

Deno.test("lint warns that a [[net.rule]] connect port beside allow_hosts bypasses the proxy", async () => {
  const policy = policyFile(`version = 1
extends = "net-fetch"
[net]
allow_hosts = ["registry.npmjs.org"]
`);
  const r = await landlockd(["lint", "--policy-file", policy]);
  assert.equal(r.code, 0, r.stderr);
  assert.match(
    r.stderr,
    /warning: net\.rule\[1\]: connect_tcp to port 443 bypasses the allow_hosts proxy/,
  );
});

netTest(
  "a malformed LANDLOCKD_TEST_HOSTS file refuses the run with its line; a valid one is announced",
  async () => {
    const bad = `${tempDir("hosts-")}/hosts`;
    Deno.writeTextFileSync(bad, "127.0.0.1 ok.test\nnot-an-address x.test\n");
    const policy = hostsPolicy(["ok.test"]);
    const r = await sandboxed(policy, ["true"], {
      env: { LANDLOCKD_TEST_HOSTS: bad },
    });
    assert.equal(r.code, 125);
    assert.match(
      r.stderr,
      new RegExp(
        `LANDLOCKD_TEST_HOSTS: ${bad}:2: expected "ADDRESS NAME \\[NAME...\\]"`,
      ),
    );
    const ok = await sandboxed(policy, ["true"], { env: ENV });
    assert.equal(ok.code, 0, ok.stderr);
    assert.match(
      ok.stderr,
      /LANDLOCKD_TEST_HOSTS is set: the egress proxy resolves names from ".*" only \(a testing aid\)/,
    );
  },
);
