/**
 * Red team: Landlock's TCP rules are per port, so the rule that lets the
 * command reach the egress proxy's port let it reach that port number on
 * every address. A host of the attacker's that listens on every port (or
 * a local service on another address that happens to have it) was
 * reachable past the proxy: before the fix the listeners on 127.0.0.2 and
 * ::1 below answered. Now the broker performs TCP connects to the proxy
 * on 127.0.0.1 itself and refuses the others with EACCES.
 */
import assert from "node:assert/strict";
import { testAtAbi } from "../fresh_needs.ts";
import {
  landlockdCommand,
  python3,
  RUN_ROOT,
  tempDir,
  USERS,
} from "../helpers.ts";
import { hostsPolicy } from "../egress_helpers.ts";

const ATTACK = `${RUN_ROOT}tests/attacks/egress_proxy_port.py`;

/** Listens on `hostname:port`; each connection is answered and counted. */
function listener(hostname: string, port: number, seen: string[]) {
  const l = Deno.listen({ hostname, port });
  (async () => {
    for await (const c of l) {
      seen.push(hostname);
      await c.write(new TextEncoder().encode(`reached-${hostname}\n`))
        .catch(() => {});
      c.close();
    }
  })().catch(() => {});
  return l;
}

for (const as of USERS) {
  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] the proxy's port on another address is EACCES; the proxy on 127.0.0.1 still connects`,
    async () => {
      const dir = tempDir("proxyport-");
      if (as === "nobody") Deno.chownSync(dir, 65534, 65534);
      const child = landlockdCommand([
        "run",
        "--policy-file",
        hostsPolicy(["allowed.test"]),
        "--",
        python3(),
        ATTACK,
        dir,
      ], { as }).spawn();
      const seen: string[] = [];
      const listeners: Deno.Listener[] = [];
      try {
        let port = 0;
        for (let i = 0; i < 400 && !port; i++) {
          try {
            port = Number(Deno.readTextFileSync(`${dir}/port`));
          } catch {
            await new Promise((r) => setTimeout(r, 50));
          }
        }
        assert.ok(port > 0, "the attack never wrote the proxy's port");
        listeners.push(listener("127.0.0.2", port, seen));
        listeners.push(listener("::1", port, seen));
        Deno.writeTextFileSync(`${dir}/ready`, "");
        const out = await child.output();
        const stdout = new TextDecoder().decode(out.stdout);
        assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
        const results = Object.fromEntries(
          stdout.trim().split("\n").map((l) => l.split(" ")),
        );
        assert.deepEqual(results, {
          "other-v4": "EACCES",
          "other-v6": "EACCES",
          "mapped-other": "EACCES",
          // The proxy answers an origin-form request with a 400: it was reached.
          "proxy-v4": "HTTP/1.1",
          "proxy-mapped": "HTTP/1.1",
          "proxy-nonblocking": "EINPROGRESS",
        });
        assert.deepEqual(seen, []);
      } finally {
        listeners.forEach((l) => l.close());
      }
    },
  );
}
