/**
 * Runs the daemon starts while others are active come from landlockd's
 * spawner threads (ffi/process.c ll_spawn_queued), not from its JS thread.
 * They must keep the process contract: only fds 0-2, a life independent of
 * any runtime thread (PR_SET_PDEATHSIG follows the thread that forked, and
 * Deno retires idle pool threads after about 10 s), and death with the
 * daemon.
 */

import assert from "node:assert/strict";
import { startDaemon } from "./daemon_helpers.ts";
import { alive, gone, PROBE, ROOT, USERS } from "./helpers.ts";
import { needs, requiring } from "./fresh_needs.ts";
import { library } from "./daemon_helpers.ts";

const { connect } = library;

const CI_DEFAULT = Deno.readTextFileSync(`${ROOT}policies/ci-default.toml`);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
const opts = { sanitizeOps: false, sanitizeResources: false };

async function until(ok: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 500 && !ok(); i++) {
    await new Promise((r) => setTimeout(r, 20));
  }
  if (!ok()) throw new Error(`never happened: ${what}`);
}

for (const as of USERS) {
  Deno.test({
    ...opts,
    ...requiring(
      `[${as}] a run started beside another (spawner thread) holds fds 0-2 only, outlives idle runtime threads, and dies with the daemon`,
      needs.abi(3, "truncate (ci-default)"),
    ),
    fn: async () => {
      const d = await startDaemon({ as });
      const client = await connect(d.socket);
      try {
        // Alone: spawned on the daemon's JS thread.
        let lonePid = 0;
        const lone = client.run({
          policy: CI_DEFAULT,
          argv: [PROBE, "sleep", "60"],
          onStart: (pid) => lonePid = pid,
        }).catch(() => undefined);
        await until(() => lonePid > 0, "the first run started");

        // With it active, these come from the spawner threads.
        const fds = await client.run({
          policy: CI_DEFAULT,
          argv: [PROBE, "fds"],
        });
        assert.equal(text(fds.stdout), "fds: 0 1 2\n", text(fds.stderr));
        assert.equal(fds.code, 0);

        // Longer than Deno keeps an idle blocking-pool thread: a child
        // forked by such a thread would get its SIGKILL when it retired.
        const long = await client.run({
          policy: CI_DEFAULT,
          argv: ["sh", "-c", "sleep 14; echo alive"],
        });
        assert.equal(long.signal, undefined, `killed by ${long.signal}`);
        assert.equal(long.code, 0, text(long.stderr));
        assert.equal(text(long.stdout), "alive\n");

        // Killing the daemon kills both kinds of child.
        let queuedPid = 0;
        const queued = client.run({
          policy: CI_DEFAULT,
          argv: [PROBE, "sleep", "60"],
          onStart: (pid) => queuedPid = pid,
        }).catch(() => undefined);
        await until(() => queuedPid > 0, "the queued run started");
        assert.ok(alive(lonePid) && alive(queuedPid));
        d.proc.kill("SIGKILL");
        await d.exited();
        assert.ok(await gone(lonePid), "the JS thread's child outlived it");
        assert.ok(await gone(queuedPid), "the spawner's child outlived it");
        await Promise.all([lone, queued]);
      } finally {
        client.close();
        try {
          d.proc.kill("SIGKILL");
        } catch {
          // already gone
        }
      }
    },
  });
}
