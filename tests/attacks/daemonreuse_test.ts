/**
 * A run may name in `reuse` the policy, environment and trust list that an
 * earlier run on its connection sent (docs/protocol.md), so a client need
 * not resend them. That memory must be the connection's alone. Two
 * clients, both nobody, each on its own connection to one daemon
 * (`daemonreuse_peer.py`, a hand-made client): B asks to reuse what it
 * never sent while A's policy and environment are in the daemon, and B
 * sends a policy that allows writing where A's denies, with its own
 * value of a variable, before A reuses its own. B is refused and
 * disconnected; A's run still gets A's policy (EACCES) and A's variable.
 */
import assert from "node:assert/strict";
import { needs, requiring } from "../fresh_needs.ts";
import { startDaemon, type TestDaemon } from "../daemon_helpers.ts";
import { python3, RUN_ROOT, tempDir, USERS } from "../helpers.ts";

const PEER = `${RUN_ROOT}tests/attacks/daemonreuse_peer.py`;

/** One client process as nobody, with one connection. */
class Peer {
  readonly #proc: Deno.ChildProcess;
  readonly #out: ReadableStreamDefaultReader<string>;
  #buffered = "";
  readonly #stdin: WritableStreamDefaultWriter<Uint8Array>;

  constructor(d: TestDaemon) {
    this.#proc = new Deno.Command("setpriv", {
      args: [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "--",
        python3(),
        PEER,
        d.socket,
      ],
      stdin: "piped",
      stdout: "piped",
      stderr: "inherit",
      clearEnv: true,
      env: { PATH: "/usr/bin:/bin" },
    }).spawn();
    this.#out = this.#proc.stdout.pipeThrough(new TextDecoderStream())
      .getReader();
    this.#stdin = this.#proc.stdin.getWriter();
  }

  /** Sends one run header; the `exit` (with `stdout`) or `error` reply. */
  async run(header: Record<string, unknown>): Promise<Record<string, unknown>> {
    await this.#stdin.write(
      new TextEncoder().encode(JSON.stringify(header) + "\n"),
    );
    while (!this.#buffered.includes("\n")) {
      const { value, done } = await this.#out.read();
      assert.ok(!done, "the peer client ended without an answer");
      this.#buffered += value;
    }
    const at = this.#buffered.indexOf("\n");
    const line = this.#buffered.slice(0, at);
    this.#buffered = this.#buffered.slice(at + 1);
    return JSON.parse(line);
  }

  async close(): Promise<void> {
    await this.#stdin.close();
    await this.#out.cancel().catch(() => {});
    await this.#proc.status;
  }
}

/** Writes only where its rules say (write_file, make_reg handled). */
const policy = (writable: string[]) =>
  `version = 1
[[fs_layer]]
handled_access_fs = ["write_file", "make_reg"]
${
    writable.map((p) =>
      `[[fs_layer.rule]]
path = "${p}"
allowed_access = ["write_file", "make_reg"]
`
    ).join("")
  }`;

/** Prints $SECRET_OF, then the outcome of creating DIR/file. */
const probe = (dir: string) => [
  "python3",
  "-c",
  `import os, errno
print("var:", os.environ.get("SECRET_OF"))
try:
    open("${dir}/" + os.environ["SECRET_OF"], "w").close()
    print("create: ok")
except OSError as e:
    print("create:", errno.errorcode[e.errno])
`,
];

for (const as of USERS) {
  Deno.test({
    ...requiring(
      `attack: a second connection (nobody, daemon as ${as}) can neither use nor replace another connection's remembered policy and environment`,
      needs.root(),
    ),
    sanitizeOps: false,
    sanitizeResources: false,
    async fn() {
      const d = await startDaemon({
        as,
        args: as === "root" ? ["--allow-uid", "65534"] : [],
      });
      const dir = tempDir("reuse-");
      Deno.chownSync(dir, 65534, 65534);
      const common = {
        argv: probe(dir),
        cwd: "/",
        stdio: "capture",
      };
      const a = new Peer(d);
      const b = new Peer(d);
      try {
        // A: a policy that denies writing dir, and its own variable.
        const first = await a.run({
          ...common,
          id: 1,
          policy: { name: "a.toml", text: policy([]) },
          env: { PATH: "/usr/bin:/bin", SECRET_OF: "a" },
          trust: [],
        });
        assert.equal(first.type, "exit", JSON.stringify(first));
        assert.equal(first.stdout, "var: a\ncreate: EACCES\n");

        // B never sent a policy: reusing one is refused, and B is cut off.
        const stolen = await b.run({
          ...common,
          id: 1,
          reuse: ["policy", "env", "trust"],
        });
        assert.deepEqual(
          [stolen.type, stolen.error, stolen.message],
          [
            "error",
            "protocol",
            "reuse: no earlier run on this connection sent policy",
          ],
        );
        assert.equal(
          (await b.run({ ...common, id: 2, reuse: ["env"] })).type,
          "closed",
        );
        await b.close();

        // A new B sends a policy that allows dir and its own variable,
        // then reuses them: its own, so it may write.
        const c = new Peer(d);
        try {
          const own = await c.run({
            ...common,
            id: 1,
            policy: { name: "b.toml", text: policy([dir]) },
            env: { PATH: "/usr/bin:/bin", SECRET_OF: "b" },
          });
          assert.equal(own.stdout, "var: b\ncreate: ok\n");
          const again = await c.run({
            ...common,
            id: 2,
            reuse: ["policy", "env"],
          });
          assert.equal(again.stdout, "var: b\ncreate: ok\n");
          // Only env from c's memory, without policy: refused and cut off.
          const half = await c.run({
            ...common,
            id: 3,
            policy: { name: "b.toml", text: policy([dir]) },
            env: { PATH: "/usr/bin:/bin", SECRET_OF: "b" },
            reuse: ["env"],
          });
          assert.deepEqual(
            [half.type, half.error, half.message],
            ["error", "protocol", "env: sent and named in reuse"],
          );
        } finally {
          await c.close();
        }

        // A reuses its own: still denied, still "a".
        const mine = await a.run({
          ...common,
          id: 2,
          reuse: ["policy", "env", "trust"],
        });
        assert.equal(mine.type, "exit", JSON.stringify(mine));
        assert.equal(mine.stdout, "var: a\ncreate: EACCES\n");
        assert.deepEqual(
          [...Deno.readDirSync(dir)].map((e) => e.name),
          ["b"],
        );
      } finally {
        await a.close();
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  });
}
