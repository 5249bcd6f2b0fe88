/**
 * The starter policies lint, and those whose sections are enforced today
 * run real commands.
 */
import assert from "node:assert/strict";
import {
  freePort,
  landlockd,
  PROBE,
  probeResults,
  python3,
  tempDir,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

function rootfs(): string {
  const dir = tempDir();
  for (const d of ["usr/bin", "tmp", "etc"]) {
    Deno.mkdirSync(`${dir}/${d}`, { recursive: true });
  }
  return dir;
}

const NAMES = [
  "ci-default",
  "net-fetch",
  "net-fetch-hosts",
  "hermetic-build",
  "prepared-root",
  "prepared-root-net",
];

for (const name of NAMES) {
  Deno.test(`starter policy ${name} lints`, async () => {
    const r = await landlockd(["lint", "--policy", name], {
      env: { LANDLOCKD_ROOTFS: rootfs() },
    });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stderr, /valid/);
  });
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] ci-default runs sh, python3, node and git (memfd_exec = false), and keeps writes in /tmp`,
    async () => {
      const scratch = tempDir();
      if (as === "nobody") Deno.chownSync(scratch, 65534, 65534);
      for (
        const argv of [
          ["sh", "-c", `echo hello > ${scratch}/f && cat ${scratch}/f`],
          [python3(), "-c", "import json, pathlib; print(json.dumps([1]))"],
          ["git", "--version"],
          ["node", "-e", "console.log(require('os').platform())"],
        ]
      ) {
        const r = await landlockd([
          "run",
          "--policy",
          "ci-default",
          "--",
          ...argv,
        ], { as });
        assert.equal(r.code, 0, `${argv}: ${r.stderr}`);
        assert.notEqual(r.stdout, "");
      }
      const home = as === "root"
        ? "/root"
        : "/var/lib/landlockd-test-nonexistent";
      const r = await landlockd([
        "run",
        "--policy",
        "ci-default",
        "--",
        PROBE,
        "create",
        `/etc/landlockd-test`,
        "ls",
        home,
      ], { as });
      const res = probeResults(r.stdout);
      assert.equal(res["create /etc/landlockd-test"], "EACCES");
      if (as === "root") assert.equal(res["ls /root"], "OK");
    },
  );

  testAtAbi(
    4,
    "bind_tcp, connect_tcp, truncate",
    `[${as}] net-fetch connects only to ports 80 and 443 and cannot listen`,
    async () => {
      // Binding 443 needs root; the listener is the test's, not the sandbox's.
      let https: Deno.Listener | undefined;
      try {
        https = Deno.listen({ hostname: "127.0.0.1", port: 443 });
      } catch {
        // port 443 unavailable here: the connect half still checks the denial
      }
      const other = freePort();
      const otherListener = Deno.listen({ hostname: "127.0.0.1", port: other });
      try {
        // net-fetch runs programs from /usr only, so Debian's Python probes.
        const code = `
import errno, socket
def attempt(op, port):
    s = socket.socket()
    try:
        (s.connect if op == "connect" else s.bind)(("127.0.0.1", port))
        return "OK"
    except OSError as e:
        return errno.errorcode[e.errno]
    finally:
        s.close()
print(attempt("connect", 443), attempt("connect", ${other}), attempt("bind", ${freePort()}))
`;
        const r = await landlockd([
          "run",
          "--policy",
          "net-fetch",
          "--",
          python3(),
          "-c",
          code,
        ], { as });
        const [c443, cOther, bind] = r.stdout.trim().split(" ");
        if (https) assert.equal(c443, "OK", r.stderr);
        assert.equal(cOther, "EACCES", r.stderr);
        assert.equal(bind, "EACCES", r.stderr);
        const py = await landlockd([
          "run",
          "--policy",
          "net-fetch",
          "--",
          python3(),
          "-c",
          "import ssl, json; print('resolv read' if open('/etc/resolv.conf').read() else '')",
        ], { as });
        assert.equal(py.stdout, "resolv read\n", py.stderr);
        const sh = await landlockd([
          "run",
          "--policy",
          "net-fetch",
          "--",
          "sh",
          "-c",
          "cat /etc/resolv.conf > /dev/null && echo brokered; cat /etc/passwd 2>/dev/null || echo denied; git --version",
        ], { as });
        assert.match(sh.stdout, /^brokered\ndenied\ngit version /, sh.stderr);
      } finally {
        https?.close();
        otherListener.close();
      }
    },
  );
}
