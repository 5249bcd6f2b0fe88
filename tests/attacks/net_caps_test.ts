/**
 * A `[net]` that restricts anything takes CAP_NET_ADMIN, CAP_SYS_MODULE,
 * CAP_SYS_ADMIN and CAP_BPF (and CAP_NET_RAW with `raw = false`) from the
 * command, bounding set included, before exec (ffi/spawn.c drop_caps):
 * root in the sandbox could otherwise rewrite where the broker's checked
 * traffic goes (udp_nat_redirect_test.ts, and the DNAT of the broker's
 * connect to the proxy below). A policy without `[net]` keeps every
 * capability: nothing changes for it.
 *
 * The DNAT test (egress_proxy_dnat.sh) adds (and removes, even on failure)
 * a table named landlockd_attack_* in the host's nftables that matches only
 * 127.0.0.1 and the proxy's port. With the drop disabled (2026-12-02) it
 * printed "nft add: OK", "connect: OK", and the listener on 127.88.0.9
 * received the command's "CONNECT ….invalid:443": the broker's connect to
 * the proxy went there instead, past the proxy's name check.
 */

import assert from "node:assert/strict";
import {
  DENO_RUN,
  landlockd,
  NOBODY_HOME,
  policyFile,
  probeResults,
  RUN_ROOT,
  sandboxed,
} from "../helpers.ts";
import { testNeedingAbi } from "../fresh_needs.ts";
import { hostsPolicy } from "../egress_helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";

/** Tests whose policy has a [net] table that handles TCP: Landlock ABI 4. */
const netTest = testNeedingAbi(
  4,
  "allow_hosts or [[net.rule]] (they handle TCP)",
);

const CAP_NET_ADMIN = 12;
const CAP_NET_RAW = 13;
const CAP_SYS_MODULE = 16;
const CAP_SYS_ADMIN = 21;
const CAP_BPF = 39;
const DROPPED = [CAP_NET_ADMIN, CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_BPF];

/** A policy without [net] (it must restrict something to run). */
const NO_NET = 'version = 1\n[seccomp]\ndeny = ["acct"]\n';

const SHOW_CAPS = ["/bin/grep", "^Cap", "/proc/self/status"];

/** The five capability sets of `grep ^Cap /proc/self/status`, as masks. */
function capSets(stdout: string): Record<string, bigint> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((l) => {
      const [k, v] = l.split(":\t");
      return [k, BigInt(`0x${v}`)];
    }),
  );
}

function has(mask: bigint, cap: number): boolean {
  return (mask >> BigInt(cap) & 1n) === 1n;
}

Deno.test(
  '[nobody] udp = "deny", without and with a user namespace ([mount]): the command runs, with no capability',
  async () => {
    const as = Deno.uid() === 0 ? "nobody" : "self";
    for (
      const toml of [
        'version = 1\n[net]\nudp = "deny"\n',
        'version = 1\n[net]\nudp = "deny"\n[mount]\ntmpfs = ["/mnt"]\n',
      ]
    ) {
      const r = await sandboxed(policyFile(toml), SHOW_CAPS, { as });
      assert.equal(r.code, 0, r.stderr);
      assert.equal(capSets(r.stdout).CapEff, 0n, r.stdout);
    }
  },
);

if (Deno.uid() === 0) {
  Deno.test(
    '[root] udp = "deny": CapBnd, CapEff, CapPrm lack CAP_NET_ADMIN, CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_BPF; CAP_NET_RAW stays (raw = true)',
    async () => {
      const r = await sandboxed(
        policyFile('version = 1\n[net]\nudp = "deny"\nraw = true\n'),
        SHOW_CAPS,
      );
      assert.equal(r.code, 0, r.stderr);
      const sets = capSets(r.stdout);
      for (const set of ["CapBnd", "CapEff", "CapPrm", "CapInh", "CapAmb"]) {
        for (const cap of DROPPED) {
          assert.ok(!has(sets[set], cap), `${set} has ${cap}: ${r.stdout}`);
        }
      }
      assert.ok(has(sets.CapBnd, CAP_NET_RAW) && has(sets.CapEff, CAP_NET_RAW));
      // Only those: root keeps the rest (CAP_CHOWN, CAP_DAC_OVERRIDE, ...).
      assert.ok(has(sets.CapEff, 0) && has(sets.CapEff, 1));
    },
  );

  Deno.test(
    "[root] raw = false also takes CAP_NET_RAW",
    async () => {
      const r = await sandboxed(
        policyFile("version = 1\n[net]\nraw = false\n"),
        SHOW_CAPS,
      );
      assert.equal(r.code, 0, r.stderr);
      const sets = capSets(r.stdout);
      for (const cap of [...DROPPED, CAP_NET_RAW]) {
        assert.ok(!has(sets.CapBnd, cap) && !has(sets.CapEff, cap), r.stdout);
      }
    },
  );

  Deno.test(
    "[root] a policy without [net] keeps every capability (CapBnd and CapEff unchanged)",
    async () => {
      const outside = capSets(
        new TextDecoder().decode(
          (await new Deno.Command(SHOW_CAPS[0], { args: SHOW_CAPS.slice(1) })
            .output()).stdout,
        ),
      );
      const r = await sandboxed(
        policyFile(NO_NET),
        SHOW_CAPS,
      );
      assert.equal(r.code, 0, r.stderr);
      const sets = capSets(r.stdout);
      assert.equal(sets.CapBnd, outside.CapBnd);
      assert.equal(sets.CapEff, outside.CapEff);
      for (const cap of [...DROPPED, CAP_NET_RAW]) {
        assert.ok(has(sets.CapBnd, cap) && has(sets.CapEff, cap), r.stdout);
      }
    },
  );

  netTest(
    "[root] --dry-run lists capabilities_dropped for a restricting [net], none without",
    async () => {
      const plan = async (toml: string) => {
        const r = await landlockd([
          "run",
          "--policy-file",
          policyFile(toml),
          "--dry-run",
          "--",
          "/bin/true",
        ]);
        assert.equal(r.code, 0, r.stderr);
        return JSON.parse(r.stdout).capabilities_dropped;
      };
      assert.deepEqual(await plan('version = 1\n[net]\nudp = "deny"\n'), [
        "CAP_NET_ADMIN",
        "CAP_NET_RAW",
        "CAP_SYS_MODULE",
        "CAP_SYS_ADMIN",
        "CAP_BPF",
      ]);
      assert.deepEqual(
        await plan('version = 1\n[net]\nallow_hosts = ["example.com"]\n'),
        [
          "CAP_NET_ADMIN",
          "CAP_NET_RAW",
          "CAP_SYS_MODULE",
          "CAP_SYS_ADMIN",
          "CAP_BPF",
        ],
      );
      assert.equal(await plan(NO_NET), undefined);
    },
  );

  Deno.test(
    "[root] --explain names the capabilities the command ran without; not for a policy without [net], nor as nobody",
    async () => {
      const explain = (toml: string, as: "root" | "nobody" = "root") =>
        landlockd([
          "run",
          "--explain",
          "--policy-file",
          policyFile(toml),
          "--",
          "/bin/true",
        ], { as });
      const line =
        /landlockd: --explain: the command ran without CAP_NET_ADMIN, CAP_NET_RAW, CAP_SYS_MODULE, CAP_SYS_ADMIN, CAP_BPF \(capabilities dropped/;
      const withNet = await explain('version = 1\n[net]\nudp = "deny"\n');
      assert.equal(withNet.code, 0, withNet.stderr);
      assert.match(withNet.stderr, line);
      const without = await explain(NO_NET);
      assert.equal(without.code, 0, without.stderr);
      assert.doesNotMatch(without.stderr, /capabilities dropped/);
      const nobody = await explain(
        'version = 1\n[net]\nudp = "deny"\n',
        "nobody",
      );
      assert.equal(nobody.code, 0, nobody.stderr);
      assert.doesNotMatch(nobody.stderr, /capabilities dropped/);
    },
  );

  Deno.test(
    '[nobody via a root daemon] udp = "deny": the command has no capability and runs as before',
    async () => {
      const d = await startDaemon({ args: SERVE_FOR_USERS });
      try {
        const policy = policyFile('version = 1\n[net]\nudp = "deny"\n');
        const r = await landlockd(
          ["run", "--socket", d.socket, "--policy-file", policy, "--"].concat(
            SHOW_CAPS,
          ),
          { as: "nobody" },
        );
        assert.equal(r.code, 0, r.stderr);
        const sets = capSets(r.stdout);
        assert.equal(sets.CapEff, 0n);
        assert.equal(sets.CapPrm, 0n);
        for (const cap of [...DROPPED]) {
          assert.ok(!has(sets.CapBnd, cap), r.stdout);
        }
        // Root through the same daemon: the same drop.
        const asRoot = await landlockd(
          ["run", "--socket", d.socket, "--policy-file", policy, "--"].concat(
            SHOW_CAPS,
          ),
        );
        assert.equal(asRoot.code, 0, asRoot.stderr);
        const rootSets = capSets(asRoot.stdout);
        for (const cap of DROPPED) {
          assert.ok(
            !has(rootSets.CapBnd, cap) && !has(rootSets.CapEff, cap),
            asRoot.stdout,
          );
        }
      } finally {
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  );

  Deno.test(
    "[nobody with an ambient CAP_NET_ADMIN] a restricting [net] fails closed (exit 125, the caps step); without [net] it runs",
    async () => {
      const run = async (toml: string) => {
        Deno.mkdirSync(NOBODY_HOME, { recursive: true });
        Deno.chownSync(NOBODY_HOME, 65534, 65534);
        const out = await new Deno.Command("setpriv", {
          args: [
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "--inh-caps=+net_admin",
            "--ambient-caps=+net_admin",
            "--",
            ...DENO_RUN,
            `${RUN_ROOT}main.ts`,
            "run",
            "--policy-file",
            policyFile(toml),
            "--",
            ...SHOW_CAPS,
          ],
          env: {
            PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
            NO_COLOR: "1",
            HOME: NOBODY_HOME,
            DENO_DIR: `${NOBODY_HOME}/deno`,
          },
          clearEnv: true,
          cwd: "/",
        }).output();
        const dec = new TextDecoder();
        return {
          code: out.code,
          stdout: dec.decode(out.stdout),
          stderr: dec.decode(out.stderr),
        };
      };
      const refused = await run('version = 1\n[net]\nudp = "deny"\n');
      assert.equal(refused.code, 125, refused.stderr);
      assert.match(
        refused.stderr,
        /cannot drop the capabilities a restricting \[net\] takes from the command: .*EPERM.*CAP_SETPCAP/,
      );
      assert.equal(refused.stdout, "");
      const plain = await run(NO_NET);
      assert.equal(plain.code, 0, plain.stderr);
      assert.ok(has(capSets(plain.stdout).CapAmb, CAP_NET_ADMIN));
    },
  );

  netTest(
    "[root] allow_hosts: root cannot DNAT the broker's connect to the proxy to another host (nft add EPERM); the other host gets nothing",
    async () => {
      const marker = `d${crypto.randomUUID().slice(0, 8)}`;
      const other = Deno.listen({ hostname: "127.88.0.9", port: 0 });
      const got: string[] = [];
      const accepting = (async () => {
        for await (const conn of other) {
          const buf = new Uint8Array(256);
          const n = await conn.read(buf).catch(() => null);
          got.push(new TextDecoder().decode(buf.subarray(0, n ?? 0)));
          conn.close();
        }
      })();
      try {
        const r = await sandboxed(hostsPolicy(["example.invalid"]), [
          `${RUN_ROOT}tests/attacks/egress_proxy_dnat.sh`,
          "127.88.0.9",
          String(other.addr.port),
          marker,
        ]);
        await new Promise((ok) => setTimeout(ok, 300));
        assert.equal(r.code, 0, r.stderr);
        assert.deepEqual(probeResults(r.stdout), {
          "nft add": "EPERM",
          connect: "OK",
        });
        assert.deepEqual(got, []);
      } finally {
        other.close();
        await accepting.catch(() => {});
        await new Deno.Command("nft", {
          args: ["delete", "table", "ip", `landlockd_attack_${marker}`],
          stderr: "null",
        }).output().catch(() => {});
      }
    },
  );
}
