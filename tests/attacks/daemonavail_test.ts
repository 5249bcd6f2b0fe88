/**
 * Availability attacks on the daemon (issue 10, items 5 to 7), each run
 * by a hostile client (daemonavail_flood.py) inside a ci-default sandbox:
 * while each is in progress, a fresh client still gets `status` and a
 * short run within 1 s, and the attacker's connections end by the limits
 * and deadlines in docs/protocol.md.
 */

import assert from "node:assert/strict";
import { needs, requiring } from "../fresh_needs.ts";
import { fdCount, startDaemon, type TestDaemon } from "../daemon_helpers.ts";
import {
  type As,
  landlockd,
  landlockdCommand,
  ROOT,
  RUN_ROOT,
} from "../helpers.ts";
import { library } from "../daemon_helpers.ts";

const { connect } = library;

const FLOOD = `${RUN_ROOT}tests/attacks/daemonavail_flood.py`;
const CI_DEFAULT = Deno.readTextFileSync(`${ROOT}policies/ci-default.toml`);
// The library's reader outlives single tests by design (one connection).
const opts = { sanitizeOps: false, sanitizeResources: false };
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** The attacker, started in a ci-default sandbox as `as`. */
interface Attack {
  /** Its "ready N" count, or the line it printed. */
  ready: string;
  /** Ends the attack (closes its stdin) and waits for it. */
  end(): Promise<string>;
}

async function attack(
  d: TestDaemon,
  as: As,
  mode: string,
  count?: number,
): Promise<Attack> {
  const child = landlockdCommand([
    "run",
    "--policy",
    "ci-default",
    "--",
    "python3",
    FLOOD,
    d.socket,
    mode,
    ...(count === undefined ? [] : [String(count)]),
  ], { as, stdin: "" }).spawn();
  const lines = child.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("\n")) {
    const { value, done } = await lines.read();
    if (done) break;
    out += value;
  }
  const stdin = child.stdin;
  return {
    ready: out.split("\n")[0].trim(),
    async end() {
      await stdin.close();
      for (;;) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      const status = await child.status;
      const err = await new Response(child.stderr).text();
      assert.equal(status.code, 0, err);
      return out;
    },
  };
}

/**
 * A fresh client: `status`, then a short run, each answered within 1 s
 * (the liveness bound; a frozen daemon never answers).
 */
async function freshClient(d: TestDaemon): Promise<Record<string, unknown>> {
  const within = <T>(p: Promise<T>, what: string): Promise<T> => {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${what}: no answer within 1 s`)),
        1000,
      );
    });
    return Promise.race([p, late]).finally(() => clearTimeout(timer));
  };
  const client = await within(connect(d.socket), "connect");
  try {
    const status = await within(client.status(), "status");
    const r = await within(
      client.run({ policy: CI_DEFAULT, argv: ["true"] }),
      "a short run",
    );
    assert.equal(r.code, 0);
    return status;
  } finally {
    client.close();
  }
}

/** Root daemons serve nobody too (`--allow-uid`); nobody's serve itself. */
const DAEMONS: { daemon: As; args: string[] }[] = Deno.uid() === 0
  ? [
    { daemon: "root", args: ["--allow-uid", "65534"] },
    { daemon: "nobody", args: [] },
  ]
  : [{ daemon: "self", args: [] }];
const ATTACKER: As = Deno.uid() === 0 ? "nobody" : "self";

async function stop(d: TestDaemon) {
  d.proc.kill("SIGTERM");
  assert.equal((await d.exited()).code, 0);
}

for (const { daemon, args } of DAEMONS) {
  Deno.test({
    ...requiring(
      `[${daemon} daemon] attack: 100 connections that send requests and never read the replies do not stop a fresh client`,
      needs.abi(3, "truncate (ci-default)"),
    ),
    ...opts,
    fn: async () => {
      const d = await startDaemon({ as: daemon, args });
      const a = await attack(d, ATTACKER, "slow-readers", 100);
      assert.equal(a.ready, "ready 100");
      const status = await freshClient(d);
      // The slow readers are still connected (only paused), not refused.
      const clients = (status.totals as { clients: number }).clients;
      assert.ok(clients >= 100, `clients: ${clients}`);
      await freshClient(d);
      await a.end();
      await stop(d);
    },
  });

  Deno.test({
    ...requiring(
      `[${daemon} daemon] attack: 1030 half-sent frames neither lock others out nor the owner's stop; the frame deadline closes them`,
      needs.abi(3, "truncate (ci-default)"),
    ),
    ...opts,
    fn: async () => {
      const d = await startDaemon({
        as: daemon,
        args: [...args, "--frame-timeout", "2"],
      });
      const a = await attack(d, ATTACKER, "half-frames", 1030);
      const kept = Number(a.ready.split(" ")[1]);
      // The attacker's uid gets 256 connections, plus 8 control slots when
      // it is the daemon's own uid: never the whole daemon.
      assert.ok(kept <= 256 + 8, a.ready);
      // Root is another uid than the attacker's here: fully served.
      await freshClient(d);
      // The owner's status and stop get through (a control slot when the
      // attacker shares its uid).
      const s = await landlockd(["status", "--socket", d.socket], {
        as: daemon,
      });
      assert.equal(s.code, 0, s.stderr);
      // The frame deadline (2 s here) closes every half-sent frame.
      let clients = Infinity;
      for (let i = 0; i < 40 && clients > 1; i++) {
        await sleep(250);
        const c = await connect(d.socket);
        clients = ((await c.status()).totals as { clients: number }).clients;
        c.close();
      }
      assert.equal(clients, 1);
      const timeouts = d.events().filter((e) =>
        e.event === "daemon.request" &&
        /not completed within 2 s/.test(String(e.error))
      );
      assert.ok(timeouts.length >= 256, `${timeouts.length} timeouts`);
      await a.end();
      const stopped = await landlockd(["stop", "--socket", d.socket], {
        as: daemon,
      });
      assert.equal(stopped.code, 0, stopped.stderr);
      assert.equal((await d.exited()).code, 0);
    },
  });

  Deno.test({
    ...requiring(
      `[${daemon} daemon] attack: 8 fds sent with each of 2490 status frames are closed at once, not piled up`,
      needs.abi(3, "truncate (ci-default)"),
    ),
    ...opts,
    fn: async () => {
      const d = await startDaemon({ as: daemon, args });
      const before = fdCount(d.pid);
      const a = await attack(d, ATTACKER, "fd-pileup", 2490);
      assert.equal(a.ready, "ready 2490");
      // Before the fix the daemon held 19,920 more fds here.
      const during = fdCount(d.pid);
      assert.ok(during < before + 32, `${before} fds before, ${during} now`);
      await freshClient(d);
      await a.end();
      // An fd sent with a status frame is closed before the reply is read.
      const closed = await attack(d, ATTACKER, "fd-closed");
      assert.equal(closed.ready, "closed");
      await closed.end();
      // fds for a frame are capped: 16 for one half-sent run is refused.
      const split = await attack(d, ATTACKER, "fd-split");
      const reply = JSON.parse(split.ready);
      assert.equal(reply.error, "limit");
      assert.match(reply.message, /more than 8 file descriptors/);
      await split.end();
      await stop(d);
    },
  });
}

for (const { daemon, args } of DAEMONS) {
  Deno.test({
    ...requiring(
      `[${daemon} daemon] attack: a run whose audit fd is a full pipe nobody reads starts, and the daemon keeps serving`,
      needs.abi(3, "truncate (ci-default)"),
    ),
    ...opts,
    fn: async () => {
      const d = await startDaemon({ as: daemon, args });
      const child = landlockdCommand([
        "run",
        "--policy",
        "ci-default",
        "--",
        "python3",
        `${RUN_ROOT}tests/attacks/daemonavail_audit_pipe.py`,
        d.socket,
        `${RUN_ROOT}policies/ci-default.toml`,
      ], { as: ATTACKER, stdin: "" }).spawn();
      const lines = child.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      while (!out.includes("\n")) {
        const { value, done } = await lines.read();
        if (done) break;
        out += value;
      }
      // Before the fix: "ready no reply", and the daemon froze writing
      // run.start to the pipe.
      assert.match(out, /^ready \{.*"type":"started"/);
      await freshClient(d);
      await child.stdin.close();
      await lines.cancel();
      await child.stderr.cancel();
      assert.equal((await child.status).code, 0);
      await stop(d);
    },
  });
}

Deno.test({
  name:
    "daemon: an idle connection is closed after the idle deadline, with a timeout error",
  ...opts,
  fn: async () => {
    const d = await startDaemon({ args: ["--idle-timeout", "1"] });
    const conn = await Deno.connect({ transport: "unix", path: d.socket });
    const buf = new Uint8Array(4096);
    let got = 0;
    const started = performance.now();
    for (;;) {
      const n = await conn.read(buf.subarray(got));
      if (n === null) break;
      got += n;
    }
    conn.close();
    const waited = performance.now() - started;
    assert.ok(waited >= 900, `closed after ${waited} ms`);
    const header = JSON.parse(
      new TextDecoder().decode(
        buf.subarray(8, 8 + new DataView(buf.buffer).getUint32(0, true)),
      ),
    );
    assert.equal(header.error, "timeout");
    assert.match(header.message, /idle for 1 s/);
    // The library connects again after an idle close.
    const client = await connect(d.socket);
    await client.status();
    await sleep(1600);
    assert.equal((await client.status()).pid, d.pid);
    client.close();
    await stop(d);
  },
});

Deno.test("serve: connection limits must be whole numbers, per uid at most the total", async () => {
  for (
    const [flags, message] of [
      [["--max-connections", "0"], /--max-connections takes a whole number/],
      [
        ["--max-connections", "10", "--max-connections-per-uid", "11"],
        /--max-connections-per-uid takes a whole number from 1 to 10/,
      ],
      [["--frame-timeout", "1.5"], /--frame-timeout takes a whole number/],
    ] as const
  ) {
    const r = await landlockd(["serve", "--socket", "/tmp/x.sock", ...flags]);
    assert.equal(r.code, 125, r.stderr);
    assert.match(r.stderr, message);
  }
});
