/**
 * Landlock TCP port rules and scopes on the real kernel, as root and as
 * nobody. High ports only: below 1024 an unprivileged bind is EACCES anyway.
 */
import assert from "node:assert/strict";
import {
  assertProbe,
  freePort,
  policyFile,
  PROBE,
  probeResults,
  sandboxed,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

for (const as of USERS) {
  testAtAbi(
    4,
    "bind_tcp",
    `[${as}] bind: the allowed port binds, any other is EACCES`,
    async () => {
      const [allowed, other] = [freePort(), freePort()];
      const policy = policyFile(`version = 1
[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = ${allowed}
  allowed_access = ["bind_tcp"]
`);
      const r = await sandboxed(policy, [PROBE, ...[
        "bind",
        String(allowed),
        "bind",
        String(other),
      ]], { as });
      assertProbe(r, {
        [`bind ${allowed}`]: "OK",
        [`bind ${other}`]: "EACCES",
      });
    },
  );

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] connect: loopback connects only to the allowed port`,
    async () => {
      const [allowed, other] = [freePort(), freePort()];
      const listeners = [allowed, other].map((port) =>
        Deno.listen({ hostname: "127.0.0.1", port })
      );
      try {
        const policy = policyFile(`version = 1
[net]
handled_access_net = ["connect_tcp"]
  [[net.rule]]
  port = ${allowed}
  allowed_access = ["connect_tcp"]
`);
        const r = await sandboxed(policy, [PROBE, ...[
          "connect",
          String(allowed),
          "connect",
          String(other),
        ], ...["bind", String(freePort())]], { as });
        const res = probeResults(r.stdout);
        assert.equal(res[`connect ${allowed}`], "OK");
        assert.equal(res[`connect ${other}`], "EACCES");
        // bind_tcp is not handled, so binding stays free.
        assert.equal(
          Object.entries(res).find(([k]) => k.startsWith("bind"))?.[1],
          "OK",
        );
      } finally {
        listeners.forEach((l) => l.close());
      }
    },
  );

  testAtAbi(
    6,
    "scopes",
    `[${as}] scope signal: signalling a process outside the sandbox is EPERM`,
    async () => {
      // The outside process belongs to the same user, so only the scope differs.
      const outside = as === "root"
        ? new Deno.Command("sleep", { args: ["30"] }).spawn()
        : new Deno.Command("setpriv", {
          args: [
            "--reuid=nobody",
            "--regid=nogroup",
            "--clear-groups",
            "sleep",
            "30",
          ],
        }).spawn();
      try {
        for (const scoped of [false, true]) {
          const policy = policyFile(`version = 1
[scope]
signal = ${scoped}
abstract_unix_socket = true
`);
          const r = await sandboxed(policy, [PROBE, ...[
            "kill",
            String(outside.pid),
            "0",
          ]], { as });
          const expected = scoped ? "EPERM" : "OK";
          assertProbe(r, { [`kill ${outside.pid}`]: expected });
        }
      } finally {
        outside.kill("SIGKILL");
        await outside.status;
      }
    },
  );

  testAtAbi(
    6,
    "scopes",
    `[${as}] scope abstract_unix_socket: connecting to an outside abstract socket is EPERM`,
    async () => {
      const name = `landlockd-test-${crypto.randomUUID()}`;
      const server = new Deno.Command(PROBE, {
        args: ["listen-abstract", name],
        stdout: "piped",
      }).spawn();
      const reader = server.stdout.getReader();
      await reader.read(); // "listening"
      try {
        for (const scoped of [false, true]) {
          const policy = policyFile(`version = 1
[scope]
abstract_unix_socket = ${scoped}
signal = true
`);
          const r = await sandboxed(policy, [PROBE, ...["abstract", name]], {
            as,
          });
          assertProbe(r, { [`abstract ${name}`]: scoped ? "EPERM" : "OK" });
        }
      } finally {
        server.kill("SIGKILL");
        reader.releaseLock();
        await server.stdout.cancel();
        await server.status;
      }
    },
  );
}
