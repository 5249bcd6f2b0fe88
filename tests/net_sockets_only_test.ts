/**
 * A `[net]` table that sets only `udp` or `raw` restricts those sockets and
 * leaves TCP alone: Landlock handles no TCP right, so a TCP connect to a
 * local listener succeeds while the UDP socket is refused with the policy's
 * errno (EPERM by default). Such a policy needs no Landlock TCP support, so
 * these tests run at every ABI (also under LANDLOCKD_ABI_MAX=3). The planner
 * side is in policy/plan_test.ts; extends in policy/extends_test.ts.
 */
import assert from "node:assert/strict";
import { landlockd, policyFile, python3, tempDir, USERS } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

/** Connects to 127.0.0.1:PORT, then opens a UDP and a raw socket. */
const SCRIPT = `import errno, socket, sys
def attempt(name, f):
    try:
        f()
        print(name, "OK")
    except OSError as e:
        print(name, errno.errorcode[e.errno])
def tcp():
    s = socket.create_connection(("127.0.0.1", int(sys.argv[1])), timeout=5)
    s.sendall(b"hello")
    s.close()
attempt("tcp", tcp)
attempt("udp", lambda: socket.socket(socket.AF_INET, socket.SOCK_DGRAM).close())
attempt("raw", lambda: socket.socket(socket.AF_INET, socket.SOCK_RAW, socket.IPPROTO_ICMP).close())
`;

/** A listener on 127.0.0.1 that counts the bytes of each connection. */
function listen(): { port: number; received: () => Promise<string[]> } {
  const server = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const got: string[] = [];
  const done = (async () => {
    for await (const conn of server) {
      const bytes = await new Response(conn.readable).bytes();
      got.push(new TextDecoder().decode(bytes));
    }
  })();
  return {
    port: server.addr.port,
    async received() {
      server.close();
      await done.catch(() => {});
      return got;
    },
  };
}

/** The script's results under a policy of `net` only (or `policy`). */
async function run(
  net: string,
  as: (typeof USERS)[number],
  policy = policyFile(`version = 1\n[net]\n${net}\n`),
) {
  const server = listen();
  const r = await landlockd([
    "run",
    "--policy-file",
    policy,
    "--",
    python3(),
    "-c",
    SCRIPT,
    String(server.port),
  ], { as });
  const got = await server.received();
  assert.equal(r.code, 0, r.stderr);
  const results = Object.fromEntries(
    r.stdout.trim().split("\n").map((l) => l.split(" ")),
  );
  return { results, got, r };
}

for (const as of USERS) {
  Deno.test(`[${as}] [net] udp = "deny" alone: a TCP connect to a local listener succeeds, the UDP and raw sockets fail with EPERM`, async () => {
    const { results, got, r } = await run('udp = "deny"', as);
    assert.equal(results.tcp, "OK", r.stdout + r.stderr);
    assert.deepEqual(got, ["hello"]);
    assert.equal(results.udp, "EPERM", r.stdout);
    // raw defaults to false where udp is restricted (a raw socket sends UDP).
    assert.equal(results.raw, "EPERM", r.stdout);
  });

  Deno.test(`[${as}] [net] raw = false alone: TCP connects and UDP sockets work, the raw socket fails with EPERM`, async () => {
    const { results, got, r } = await run("raw = false", as);
    assert.deepEqual(results, { tcp: "OK", udp: "OK", raw: "EPERM" }, r.stderr);
    assert.deepEqual(got, ["hello"]);
  });

  testAtAbi(
    4,
    "the connect_tcp an empty [net] handles",
    `[${as}] an empty [net] still refuses TCP connects with EACCES`,
    async () => {
      const { results, got } = await run("", as);
      assert.equal(results.tcp, "EACCES");
      assert.deepEqual(got, []);
    },
  );

  testAtAbi(
    4,
    "the connect_tcp an empty [net] handles",
    `[${as}] an empty [net] in a file that extends a [net] of udp only refuses TCP connects with EACCES (and UDP with EPERM)`,
    async () => {
      // Before the fix the merged [net] set only udp: TCP went anywhere.
      const dir = tempDir("extends-net-");
      policyFile('version = 1\n[net]\nudp = "deny"\n', dir);
      Deno.renameSync(`${dir}/policy.toml`, `${dir}/base.toml`);
      const child = policyFile(
        'version = 1\nextends = "./base.toml"\n# no network\n[net]\n',
        dir,
      );
      const { results, got } = await run("", as, child);
      assert.equal(results.tcp, "EACCES");
      assert.equal(results.udp, "EPERM");
      assert.deepEqual(got, []);
    },
  );
}
