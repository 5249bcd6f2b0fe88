/**
 * The daemon through the library API (mod.ts) and the raw protocol: many
 * runs on one connection, 64 at once with a broker each, no leaks after
 * thousands of runs, and malformed frames.
 */

import assert from "node:assert/strict";
import { encodeFrame, PREFIX } from "../daemon/protocol.ts";
import { assertDocumented } from "./audit_schema.ts";
import { childrenOf, fdCount, library, startDaemon } from "./daemon_helpers.ts";
import { ROOT, tempDir } from "./helpers.ts";
import { needs, requiring, testAtAbi } from "./fresh_needs.ts";

const { connect, DaemonError } = library;
type DaemonError = InstanceType<typeof DaemonError>;

const CI_DEFAULT = Deno.readTextFileSync(`${ROOT}policies/ci-default.toml`);
const text = (b: Uint8Array) => new TextDecoder().decode(b);
// The library's reader outlives single tests by design (one connection).
const opts = { sanitizeOps: false, sanitizeResources: false };

/** A policy whose broker grants reading one file Landlock does not allow. */
function brokeredPolicy(secret: string): string {
  return `version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/bin"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "/lib"
  allowed_access = ["execute", "read_file", "read_dir"]
  optional = true
  [[fs_layer.rule]]
  path = "/lib64"
  allowed_access = ["execute", "read_file", "read_dir"]
  optional = true
  [[fs_layer.rule]]
  path = "/etc"
  allowed_access = ["read_file", "read_dir"]

[broker]
allow_read = ["${secret}"]
`;
}

Deno.test({
  ...opts,
  ...requiring(
    "library API: one connection runs commands with stdin, captured output, exit codes and failures",
    needs.abi(3, "truncate (ci-default)"),
  ),
  fn: async () => {
    const d = await startDaemon();
    const client = await connect(d.socket);
    const r = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "tr a-z A-Z; echo oops >&2; exit 5"],
      stdin: "through the library\n",
    });
    assert.equal(r.code, 5);
    assert.equal(r.success, false);
    assert.equal(text(r.stdout), "THROUGH THE LIBRARY\n");
    assert.equal(text(r.stderr), "oops\n");
    assert.equal(r.landlockStatus, "fully_enforced");

    const killed = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "kill -KILL $$"],
    });
    assert.deepEqual([killed.code, killed.signal], [137, "SIGKILL"]);

    // Landlock applies: ci-default cannot write to /etc.
    const denied = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "echo x > /etc/landlockd-test"],
    });
    assert.equal(denied.code, 2);
    assert.match(text(denied.stderr), /Permission denied/);

    await assert.rejects(
      client.run({ policy: "version = 1\n[oops]\n", argv: ["true"] }),
      (e: DaemonError) =>
        e.exitCode === 125 && /oops: unknown key/.test(e.message),
    );
    await assert.rejects(
      client.run({ policy: CI_DEFAULT, argv: ["no-such-command-here"] }),
      (e: DaemonError) => e.exitCode === 127,
    );

    // Output over the limit is cut, and the command still ends normally.
    const big = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "head -c 5000000 /dev/zero"],
    });
    assert.equal(big.code, 0);
    assert.equal(big.stdout.length, 4 << 20);
    assert.equal(big.stdoutTruncated, true);

    const abort = new AbortController();
    const pending = client.run({
      policy: CI_DEFAULT,
      argv: ["sleep", "30"],
      signal: abort.signal,
      onStart: () => abort.abort(),
    });
    assert.equal((await pending).signal, "SIGTERM");
    client.close();
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});

Deno.test({
  ...opts,
  ...requiring(
    "library API: runs on one connection get the environment and policy each one sent, one after another and in flight together",
    needs.abi(3, "truncate (ci-default)"),
  ),
  fn: async () => {
    const d = await startDaemon();
    const client = await connect(d.socket);
    const dir = tempDir();
    // Creating files is handled and nowhere allowed.
    const strict = `version = 1
[[fs_layer]]
handled_access_fs = ["make_reg"]
`;
    const argv = ["sh", "-c", `echo "$X"; : > ${dir}/f_$$ && echo made`];
    const env = (x: string) => ({ PATH: "/usr/bin:/bin", X: x });
    const once = async (policy: string, x: string) => {
      const r = await client.run({ policy, argv, env: env(x) });
      return `${r.code} ${text(r.stdout)}`;
    };
    // The first runs are sent in full; later ones reuse what is unchanged.
    assert.equal(await once(CI_DEFAULT, "1"), "0 1\nmade\n");
    assert.equal(await once(CI_DEFAULT, "1"), "0 1\nmade\n");
    assert.equal(await once(CI_DEFAULT, "2"), "0 2\nmade\n");
    assert.equal(await once(strict, "2"), "2 2\n");
    assert.equal(await once(strict, "3"), "2 3\n");
    assert.equal(await once(CI_DEFAULT, "3"), "0 3\nmade\n");
    const mixed = await Promise.all(
      Array.from(
        { length: 24 },
        (_, i) => once(i % 3 ? CI_DEFAULT : strict, `${i % 4}`),
      ),
    );
    mixed.forEach((r, i) =>
      assert.equal(r, i % 3 ? `0 ${i % 4}\nmade\n` : `2 ${i % 4}\n`, `${i}`)
    );
    // The process's own environment, and a start that is waited for.
    let pid = 0;
    const own = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "echo $$"],
      onStart: (p) => pid = p,
    });
    assert.equal(text(own.stdout), `${pid}\n`);
    assert.equal(own.pid, pid);
    const quiet = await client.run({
      policy: CI_DEFAULT,
      argv: ["sh", "-c", "echo $$"],
    });
    assert.equal(text(quiet.stdout), `${quiet.pid}\n`);
    assert.equal(quiet.landlockStatus, "fully_enforced");
    client.close();
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});

Deno.test({
  name:
    "daemon: 64 simultaneous runs, each with its own broker, while status answers",
  ...opts,
  fn: async () => {
    const d = await startDaemon();
    const dir = tempDir();
    const secret = `${dir}/secret`;
    Deno.writeTextFileSync(secret, "granted by the broker\n");
    const policy = brokeredPolicy(secret);
    const client = await connect(d.socket);
    const go = `${dir}/go`;
    let started = 0;
    const runs = Array.from({ length: 64 }, () =>
      client.run({
        policy,
        // Each run reads through its broker, then waits for the others.
        argv: [
          "sh",
          "-c",
          `cat ${secret}; while [ ! -e ${go} ]; do sleep 0.05; done`,
        ],
        onStart: () => started++,
      }));
    const watcher = await connect(d.socket);
    let status: Record<string, unknown> = {};
    for (let i = 0; i < 600; i++) {
      status = await watcher.status();
      const busy = (status.brokers as { busy: number }).busy;
      if ((status.active as unknown[]).length === 64 && busy === 64) break;
      await new Promise((r) => setTimeout(r, 50));
    }
    assert.equal((status.active as unknown[]).length, 64);
    assert.equal((status.brokers as { busy: number }).busy, 64);
    assert.equal(started, 64);
    Deno.writeTextFileSync(go, "");
    const results = await Promise.all(runs);
    for (const r of results) {
      assert.equal(r.code, 0, text(r.stderr));
      assert.equal(text(r.stdout), "granted by the broker\n");
    }
    const after = await watcher.status();
    assert.deepEqual(after.active, []);
    client.close();
    watcher.close();
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});

Deno.test({
  ...opts,
  ...requiring(
    "daemon: no fd, zombie or thread leaks after thousands of runs",
    needs.abi(3, "truncate (ci-default)"),
  ),
  fn: async () => {
    const d = await startDaemon();
    const dir = tempDir();
    const secret = `${dir}/secret`;
    Deno.writeTextFileSync(secret, "x\n");
    const brokered = brokeredPolicy(secret);
    const client = await connect(d.socket);
    const batch = async (n: number, policy: string, argv: string[]) => {
      const queue = Array.from({ length: n }, (_, i) => i);
      await Promise.all(Array.from({ length: 16 }, async () => {
        while (queue.shift() !== undefined) {
          const r = await client.run({ policy, argv });
          assert.equal(r.code, 0, text(r.stderr));
        }
      }));
    };
    // Warm up: broker threads, the policy cache, the runtime's own fds.
    await batch(64, CI_DEFAULT, ["true"]);
    await batch(32, brokered, ["cat", secret]);
    const fds = fdCount(d.pid);
    const threads = [...Deno.readDirSync(`/proc/${d.pid}/task`)].length;
    await batch(2000, CI_DEFAULT, ["true"]);
    await batch(200, brokered, ["cat", secret]);
    await batch(200, CI_DEFAULT, [
      "sh",
      "-c",
      "echo out; echo err >&2; exit 0",
    ]);
    assert.deepEqual(childrenOf(d.pid), [], "zombies or stray children");
    assert.equal(fdCount(d.pid), fds, "fds leaked");
    const threadsAfter = [...Deno.readDirSync(`/proc/${d.pid}/task`)].length;
    assert.ok(
      threadsAfter <= threads + 8,
      `threads ${threads} -> ${threadsAfter}`,
    );
    const status = await client.status();
    assert.equal(
      (status.totals as { runs_finished: number }).runs_finished,
      2496,
    );
    client.close();
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});

/** Sends raw bytes and returns the daemon's replies until it closes. */
async function raw(
  socket: string,
  bytes: Uint8Array,
): Promise<Record<string, unknown>[]> {
  const conn = await Deno.connect({ transport: "unix", path: socket });
  for (let at = 0; at < bytes.length;) {
    at += await conn.write(bytes.subarray(at));
  }
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    let n: number | null;
    try {
      n = await conn.read(buf);
    } catch (e) {
      // The daemon closed with our request unread: the kernel says reset,
      // after the replies it had sent.
      if (e instanceof Deno.errors.ConnectionReset) break;
      throw e;
    }
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  conn.close();
  const all = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let at = 0;
  for (const c of chunks) {
    all.set(c, at);
    at += c.length;
  }
  const frames = [];
  for (let i = 0; i + PREFIX <= all.length;) {
    const v = new DataView(all.buffer, i);
    const h = v.getUint32(0, true);
    const b = v.getUint32(4, true);
    frames.push(JSON.parse(text(all.subarray(i + PREFIX, i + PREFIX + h))));
    i += PREFIX + h + b;
  }
  return frames;
}

testAtAbi(
  3,
  "truncate",
  "daemon: malformed or oversized frames get an error reply and a closed connection; the daemon keeps serving",
  async () => {
    const d = await startDaemon();
    const prefix = (h: number, b: number) => {
      const p = new Uint8Array(PREFIX);
      new DataView(p.buffer).setUint32(0, h, true);
      new DataView(p.buffer).setUint32(4, b, true);
      return p;
    };
    const junk = new TextEncoder().encode("{not json");
    const cases: [string, Uint8Array, RegExp, string][] = [
      [
        "bad JSON",
        new Uint8Array([...prefix(junk.length, 0), ...junk]),
        /not UTF-8 JSON/,
        "protocol",
      ],
      ["huge header", prefix(64 << 20, 0), /over the limit/, "limit"],
      ["huge body", prefix(2, 1 << 30), /over the limit/, "limit"],
      [
        "wrong version",
        encodeFrame({ v: 99, type: "status", id: 1 }),
        /version 99 is not supported/,
        "protocol",
      ],
      [
        "unknown type",
        encodeFrame({ type: "launch", id: 1 }),
        /type: expected/,
        "protocol",
      ],
      [
        "argv not strings",
        encodeFrame({
          type: "run",
          id: 1,
          policy: { name: "p", text: "" },
          argv: [1],
          env: {},
          cwd: "/",
          stdio: "capture",
        }),
        /argv\[0\]: expected a string/,
        "protocol",
      ],
      [
        "policy too long",
        encodeFrame({
          type: "run",
          id: 1,
          policy: { name: "p", text: "#".repeat(300 << 10) },
          argv: ["true"],
          env: {},
          cwd: "/",
          stdio: "capture",
        }),
        /policy.text: longer than the limit/,
        "limit",
      ],
      [
        "fds missing",
        encodeFrame({
          type: "run",
          id: 1,
          policy: { name: "p", text: CI_DEFAULT },
          argv: ["true"],
          env: {},
          cwd: "/",
          stdio: "fds",
        }),
        /needs 3 file descriptors/,
        "protocol",
      ],
    ];
    for (const [what, bytes, message, error] of cases) {
      const replies = await raw(d.socket, bytes);
      assert.equal(replies.length, 1, `${what}: ${JSON.stringify(replies)}`);
      assert.equal(replies[0].type, "error", what);
      assert.equal(replies[0].error, error, what);
      assert.match(String(replies[0].message), message, what);
    }
    const client = await connect(d.socket);
    const r = await client.run({
      policy: CI_DEFAULT,
      argv: ["echo", "still serving"],
    });
    assert.equal(text(r.stdout), "still serving\n");
    client.close();
    d.events().forEach(assertDocumented);
    const refused = d.events().filter((e) =>
      e.event === "daemon.request" && e.accepted === false
    );
    assert.equal(refused.length, cases.length);
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
);

Deno.test({
  ...opts,
  ...requiring(
    "library API from Node: the same client, bundled to JavaScript, runs a command over node:net",
    nodeBinary() ? undefined : "needs node on PATH",
    needs.abi(3, "truncate (ci-default)"),
  ),
  fn: async () => {
    const d = await startDaemon();
    const dir = tempDir();
    const bundle = await new Deno.Command(Deno.execPath(), {
      args: [
        "bundle",
        "--quiet",
        "--output",
        `${dir}/client.mjs`,
        `${ROOT}mod.ts`,
      ],
      stderr: "piped",
    }).output();
    assert.ok(bundle.success, new TextDecoder().decode(bundle.stderr));
    Deno.writeTextFileSync(
      `${dir}/main.mjs`,
      `import { connect } from "./client.mjs";
import { readFileSync } from "node:fs";
const client = await connect(process.argv[2]);
const policy = readFileSync(process.argv[3], "utf8");
const r = await client.run({ policy, argv: ["sh", "-c", "cat; echo from node"], stdin: "piped, " });
console.log(JSON.stringify({ code: r.code, out: new TextDecoder().decode(r.stdout) }));
client.close();
`,
    );
    const out = await new Deno.Command(nodeBinary()!, {
      args: [`${dir}/main.mjs`, d.socket, `${ROOT}policies/ci-default.toml`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
    assert.deepEqual(JSON.parse(text(out.stdout)), {
      code: 0,
      out: "piped, from node\n",
    });
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});

/** Node, when installed (Debian's npm brings it). */
function nodeBinary(): string | undefined {
  for (const p of ["/usr/bin/node", "/usr/local/bin/node"]) {
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // try the next
    }
  }
  return undefined;
}

Deno.test({
  name:
    "daemon: over the connection limit the owner still gets status (not runs); closed connections are released",
  ...opts,
  fn: async () => {
    const d = await startDaemon({ args: ["--max-connections", "64"] });
    const open: Deno.UnixConn[] = [];
    while (open.length < 64) {
      try {
        open.push(await Deno.connect({ transport: "unix", path: d.socket }));
      } catch (e) {
        // A full accept queue: let the daemon catch up.
        if (!(e instanceof Deno.errors.WouldBlock)) throw e;
        await new Promise((r) => setTimeout(r, 10));
      }
    }
    // Over the limit, the daemon's own uid gets a control connection:
    // status answers, a run is refused; a bad frame then ends it.
    const replies = await raw(
      d.socket,
      new Uint8Array([
        ...encodeFrame({ type: "status", id: 1 }),
        ...encodeFrame({
          type: "run",
          id: 2,
          policy: { name: "p", text: CI_DEFAULT },
          argv: ["true"],
          env: {},
          cwd: "/",
          stdio: "capture",
        }),
        ...encodeFrame({ type: "bogus", id: 3 }),
      ]),
    );
    assert.equal(replies.length, 3);
    assert.equal(replies[0].type, "status");
    assert.equal(replies[1].error, "limit");
    assert.match(String(replies[1].message), /only ask for status and stop/);
    assert.equal(replies[2].error, "protocol");
    open.forEach((c) => c.close());
    // Closed ones are released: a new client is served again.
    let client;
    for (let i = 0; i < 100 && !client; i++) {
      try {
        client = await connect(d.socket);
        await client.status();
      } catch {
        client?.close();
        client = undefined;
        await new Promise((r) => setTimeout(r, 50));
      }
    }
    assert.ok(client, "no connection after the others closed");
    client.close();
    d.proc.kill("SIGTERM");
    assert.equal((await d.exited()).code, 0);
  },
});
