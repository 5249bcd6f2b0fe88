/**
 * `landlockd learn --base net-fetch-hosts` with curl through the egress
 * proxy, as root and as nobody: the learned policy lists the host the
 * proxy refused as an `allow_hosts` entry (and no rule for the proxy's own
 * per-run port); under it the same curl succeeds, a host not learned is
 * still refused (403), and a direct connect to the server's port is still
 * EACCES. All names map to 127.0.0.1 through LANDLOCKD_TEST_HOSTS.
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import { testAtAbi } from "./fresh_needs.ts";
import { chownTree, landlockd, outsideTmpDir, USERS } from "./helpers.ts";
import { hostsFile, localServer } from "./egress_helpers.ts";

const ENV = { LANDLOCKD_TEST_HOSTS: hostsFile() };

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] learn --base net-fetch-hosts learns the host curl asked the proxy for as allow_hosts, and no rule for the proxy's port`,
    async () => {
      const srv = localServer("allowed");
      try {
        const p = srv.port;
        const dir = outsideTmpDir();
        if (as === "nobody") chownTree(dir);
        const policy = `${dir}/learned.toml`;
        const curl = (host: string) => [
          "curl",
          "-s",
          "-o",
          "/dev/null",
          "-w",
          `${host} %{http_code}\\n`,
          `http://${host}:${p}/hello`,
        ];
        const learned = await landlockd([
          "learn",
          "-o",
          policy,
          "--base",
          "net-fetch-hosts",
          "--",
          ...curl("allowed.test"),
        ], { as, env: ENV, cwd: dir });
        assert.equal(learned.code, 0, learned.stderr);
        // Under the base alone the proxy refused it.
        assert.equal(learned.stdout, "allowed.test 403\n");
        assert.match(learned.stderr, /1 allow_hosts entry/);
        const text = Deno.readTextFileSync(policy);
        const doc = parse(text) as {
          extends: string;
          net?: { allow_hosts?: string[] };
          net_rule?: unknown[];
        };
        assert.equal(doc.extends, "net-fetch-hosts");
        assert.deepEqual(doc.net?.allow_hosts, [`allowed.test:${p}`], text);
        assert.equal(doc.net_rule, undefined, text);
        assert.match(text, /# refused by the egress proxy 1 time: /);

        for (
          const [host, code] of [["allowed.test", 200], ["denied.test", 403]]
        ) {
          const r = await landlockd(
            ["run", "--policy-file", policy, "--", ...curl(String(host))],
            { as, env: ENV, cwd: dir },
          );
          assert.equal(r.code, 0, r.stderr);
          assert.equal(r.stdout, `${host} ${code}\n`);
        }
        // Bypassing the proxy is still Landlock's EACCES.
        const direct = await landlockd([
          "run",
          "--policy-file",
          policy,
          "--",
          "python3",
          "-c",
          `import socket, errno; e = socket.socket().connect_ex(("127.0.0.1", ${p})); print(errno.errorcode.get(e, e))`,
        ], { as, env: ENV, cwd: dir });
        assert.equal(direct.stdout, "EACCES\n", direct.stderr);
      } finally {
        await srv.close();
      }
    },
  );
}
