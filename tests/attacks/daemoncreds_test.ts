/**
 * Issue 10, item 4: a root daemon serving another user must resolve every
 * path it opens, mounts, pivots into or brokers on the client's behalf
 * with the client's credentials. Each attack puts a secret under a 0700
 * root-only directory and asks a root `landlockd serve --allow-uid 65534`,
 * as nobody, to reach it: through a `[mount] bind` source, a
 * `[runtime] root`, a brokered `mount_bind` source (declared, and swapped
 * for a symlink by the sandbox itself), and broker `allow_read` /
 * `allow_write`. The same policies over a directory nobody can read work.
 *
 * Item 9: `status` shows a peer its own runs only; root sees them all.
 */
import assert from "node:assert/strict";
import { needs, requiring } from "../fresh_needs.ts";
import { startDaemon, type TestDaemon } from "../daemon_helpers.ts";
import {
  chownTree,
  landlockd,
  landlockdCommand,
  policyFile,
  probeResults,
  python3,
  type Result,
  RUN_ROOT,
  tempDir,
} from "../helpers.ts";
import { validatePolicy } from "../../policy/validate.ts";
import { planSandbox, SetupError, startPlanned } from "../../sandbox/run.ts";
import { waitChildSync } from "../../syscalls/process.ts";

const ATTACK = `${RUN_ROOT}tests/attacks/daemoncreds_reach.py`;
const SECRET = "root only";

/**
 * DIR (mode `mode`, root's) holding dir/secret and a rootfs with the
 * secret at /secret and /usr, /attacks as bind targets.
 */
function vault(mode: number): string {
  const d = tempDir("vault-");
  Deno.mkdirSync(`${d}/dir`);
  Deno.writeTextFileSync(`${d}/dir/secret`, `${SECRET}\n`);
  Deno.chmodSync(`${d}/dir/secret`, 0o644);
  const fs = `${d}/rootfs`;
  for (const sub of ["usr", "attacks", "mnt"]) {
    Deno.mkdirSync(`${fs}/${sub}`, { recursive: true });
  }
  for (const l of ["bin", "lib", "lib64", "sbin"]) {
    Deno.symlinkSync(`usr/${l}`, `${fs}/${l}`);
  }
  Deno.writeTextFileSync(`${fs}/secret`, `${SECRET}\n`);
  Deno.chmodSync(`${fs}/secret`, 0o644);
  Deno.chmodSync(d, mode);
  return d;
}

/** A directory nobody owns, with an empty mount target mnt/. */
function playground(): string {
  const d = tempDir("play-");
  Deno.mkdirSync(`${d}/mnt`);
  Deno.mkdirSync(`${d}/src`);
  chownTree(d);
  return d;
}

/** `landlockd run --socket … --policy-file P -- python3 ATTACK ARGS` as nobody. */
function attack(d: TestDaemon, toml: string, args: string[]): Promise<Result> {
  return landlockd([
    "run",
    "--socket",
    d.socket,
    "--policy-file",
    policyFile(toml),
    "--",
    python3(),
    ATTACK,
    ...args,
  ], { as: "nobody" });
}

/** The attack's step results and what it read. */
function outcome(r: Result) {
  return {
    steps: probeResults(r.stdout),
    content: [...r.stdout.matchAll(/^content: (.*)$/gm)].map((m) => m[1]),
  };
}

/** Asserts the run was refused before it started, naming key and path. */
function assertRefused(r: Result, key: string, path: string): void {
  assert.equal(r.code, 125, `expected a refusal; got ${JSON.stringify(r)}`);
  assert.equal(r.stdout, "");
  const quoted = path.replace(/[.*+?^${}()|[\]\\/]/g, "\\$&");
  assert.match(
    r.stderr,
    new RegExp(
      `policy\\.toml:\\d+: ${key}: uid 65534 cannot reach "${quoted}": Permission denied \\(EACCES\\); a root daemon opens, mounts and brokers paths for a client only with the client's own credentials`,
    ),
  );
}

/** A minimal policy that runs at any ABI (it handles only make_block). */
const base = `version = 1
[[fs_layer]]
handled_access_fs = ["make_block"]
`;

Deno.test({
  ...requiring(
    "attack: a [mount] bind source under another user's 0700 directory is refused for the client; one it can reach is mounted",
    needs.root(),
  ),
  async fn() {
    const d = await startDaemon({ args: ["--allow-uid", "65534"] });
    try {
      const play = playground();
      const policy = (source: string) =>
        `${base}[mount]
bind = [{ source = "${source}", target = "${play}/mnt" }]
`;
      const closed = vault(0o700);
      const r = await attack(d, policy(`${closed}/dir`), [
        "read",
        `${play}/mnt/secret`,
      ]);
      assertRefused(r, "mount\\.bind\\[0\\]\\.source", `${closed}/dir`);

      const open = vault(0o755);
      const ok = await attack(d, policy(`${open}/dir`), [
        "read",
        `${play}/mnt/secret`,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(outcome(ok), {
        steps: { [`read ${play}/mnt/secret`]: "OK" },
        content: [SECRET],
      });

      // The same policy again, its plan cached, after the owner closed the
      // directory: checked again, refused.
      Deno.chmodSync(open, 0o700);
      const again = await attack(d, policy(`${open}/dir`), [
        "read",
        `${play}/mnt/secret`,
      ]);
      assertRefused(again, "mount\\.bind\\[0\\]\\.source", `${open}/dir`);
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});

Deno.test({
  ...requiring(
    "attack: a [runtime] root under another user's 0700 directory is refused for the client; one it can reach is pivoted into",
    needs.root(),
  ),
  async fn() {
    const d = await startDaemon({ args: ["--allow-uid", "65534"] });
    try {
      const policy = (v: string) =>
        `${base}[runtime]
root = "${v}/rootfs"
[mount]
bind = [
  { source = "/usr", target = "/usr" },
  { source = "${RUN_ROOT}tests/attacks", target = "/attacks" },
]
`;
      const args = [
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        "",
        "--",
        "/usr/bin/python3",
        "/attacks/daemoncreds_reach.py",
        "read",
        "/secret",
      ];
      const closed = vault(0o700);
      args[4] = policyFile(policy(closed));
      const r = await landlockd(args, { as: "nobody" });
      assertRefused(r, "runtime\\.root", `${closed}/rootfs`);

      const open = vault(0o755);
      args[4] = policyFile(policy(open));
      const ok = await landlockd(args, { as: "nobody" });
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(outcome(ok), {
        steps: { "read /secret": "OK" },
        content: [SECRET],
      });
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});

Deno.test({
  ...requiring(
    "attack: a brokered mount_bind source under another user's 0700 directory is refused for the client, also when the sandbox swaps a reachable source for a symlink to it",
    needs.root(),
  ),
  async fn() {
    const d = await startDaemon({ args: ["--allow-uid", "65534"] });
    try {
      const play = playground();
      const policy = (source: string) =>
        `${base}[broker]
mount_bind = [{ source = "${source}", target = "${play}/mnt" }]
`;
      const closed = vault(0o700);
      const declared = await attack(d, policy(`${closed}/dir`), [
        "bind",
        `${closed}/dir`,
        `${play}/mnt`,
        "read",
        `${play}/mnt/secret`,
      ]);
      assertRefused(
        declared,
        "broker\\.mount_bind\\[0\\]\\.source",
        `${closed}/dir`,
      );

      // The declared source is nobody's own directory, so the run starts;
      // the sandbox then replaces it with a symlink into the vault. The
      // mount helper resolves the source without following symlinks (ELOOP),
      // and as nobody (EACCES, proven in the next test's direct spawn).
      const swapped = await attack(d, policy(`${play}/src`), [
        "swap",
        `${play}/src`,
        `${closed}/dir`,
        "bind",
        `${play}/src`,
        `${play}/mnt`,
        "read",
        `${play}/mnt/secret`,
      ]);
      assert.equal(swapped.code, 0, swapped.stderr);
      assert.deepEqual(outcome(swapped), {
        steps: {
          [`swap ${play}/src`]: "OK",
          [`bind ${play}/src`]: "ELOOP",
          [`read ${play}/mnt/secret`]: "ENOENT",
        },
        content: [],
      });

      const open = vault(0o755);
      const ok = await attack(d, policy(`${open}/dir`), [
        "bind",
        `${open}/dir`,
        `${play}/mnt`,
        "read",
        `${play}/mnt/secret`,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(outcome(ok), {
        steps: {
          [`bind ${open}/dir`]: "OK",
          [`read ${play}/mnt/secret`]: "OK",
        },
        content: [SECRET],
      });
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});

for (const key of ["allow_read", "allow_write"] as const) {
  Deno.test({
    ...requiring(
      `attack: broker ${key} of a file under another user's 0700 directory is refused for the client; one it can reach is brokered`,
      needs.root(),
    ),
    async fn() {
      const d = await startDaemon({ args: ["--allow-uid", "65534"] });
      try {
        const policy = (file: string) =>
          `${base}[[fs_layer]]
handled_access_fs = ["read_file", "write_file"]
  [[fs_layer.rule]]
  path = "/usr"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "/etc"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${RUN_ROOT}tests/attacks"
  allowed_access = ["read_file"]
[broker]
${key} = ["${file}"]
`;
        const closed = vault(0o700);
        const r = await attack(d, policy(`${closed}/dir/secret`), [
          "read",
          `${closed}/dir/secret`,
        ]);
        assertRefused(r, `broker\\.${key}\\[0\\]`, `${closed}/dir/secret`);

        const open = vault(0o755);
        const ok = await attack(d, policy(`${open}/dir/secret`), [
          "read",
          `${open}/dir/secret`,
        ]);
        assert.equal(ok.code, 0, ok.stderr);
        assert.deepEqual(outcome(ok), {
          steps: { [`read ${open}/dir/secret`]: "OK" },
          content: [SECRET],
        });
      } finally {
        d.proc.kill("SIGTERM");
        await d.exited();
      }
    },
  });
}

Deno.test({
  ...requiring(
    "attack: status shows an allowed peer only its own runs; root sees every run",
    needs.root(),
    needs.abi(3, "truncate (ci-default)"),
  ),
  async fn() {
    const d = await startDaemon({ args: ["--allow-uid", "65534"] });
    const long = (as: "root" | "nobody") =>
      landlockdCommand([
        "run",
        "--socket",
        d.socket,
        "--policy",
        "ci-default",
        "--",
        "sleep",
        "30",
      ], { as }).spawn();
    const runs = [long("root"), long("nobody")];
    try {
      const status = async (as: "root" | "nobody") => {
        const s = await landlockd(["status", "--socket", d.socket], { as });
        assert.equal(s.code, 0, s.stderr);
        return JSON.parse(s.stdout);
      };
      for (let i = 0; i < 400; i++) {
        const all = await status("root");
        if (all.active.filter((a: { pid: unknown }) => a.pid).length === 2) {
          break;
        }
        await new Promise((r) => setTimeout(r, 25));
      }
      const all = await status("root");
      assert.deepEqual(
        all.active.map((a: { peer_uid: number }) => a.peer_uid).sort(),
        [0, 65534],
      );
      const mine = await status("nobody");
      assert.deepEqual(
        mine.active.map((a: { peer_uid: number; argv0: string }) => [
          a.peer_uid,
          a.argv0,
        ]),
        [[65534, "sleep"]],
      );
    } finally {
      runs.forEach((p) => p.kill("SIGTERM"));
      await Promise.all(runs.map((p) => p.output()));
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});

Deno.test({
  ...requiring(
    "attack: past the daemon's check (a path swapped meanwhile), the child itself mounts and pivots as the client: EACCES, naming the path",
    needs.root(),
  ),
  async fn() {
    const nobody = { uid: 65534, gid: 65534, groups: [65534] };
    const play = playground();
    const closed = vault(0o700);
    const open = vault(0o755);
    const start = async (toml: string) => {
      const source = { name: "policy.toml", text: toml };
      const { policy } = validatePolicy(source);
      assert.ok(policy);
      // What the daemon does once its check has passed.
      const plan = await planSandbox(policy, nobody, true);
      const r = await startPlanned(
        plan,
        { argv: ["/bin/true"] },
        { emit() {}, close() {} },
        source.name,
        { ids: nobody, stdio: [0, 1, 2] },
      );
      return waitChildSync(r.child.pidfd);
    };
    const bind = (v: string) =>
      `${base}[mount]
bind = [{ source = "${v}/dir", target = "${play}/mnt" }]
`;
    await assert.rejects(
      start(bind(closed)),
      (e: Error) => {
        assert.ok(e instanceof SetupError, String(e));
        assert.equal(
          e.message,
          `cannot bind-mount "${closed}/dir" on "${play}/mnt": Permission denied (EACCES)`,
        );
        return true;
      },
    );
    assert.deepEqual(await start(bind(open)), { code: 0 });

    const root = (v: string) =>
      `${base}[runtime]
root = "${v}/rootfs"
[mount]
bind = [{ source = "/usr", target = "/usr" }]
`;
    await assert.rejects(start(root(closed)), (e: Error) => {
      assert.ok(e instanceof SetupError, String(e));
      assert.match(e.message, /Permission denied \(EACCES\)$/);
      assert.ok(e.message.includes(`"${closed}/rootfs`), e.message);
      return true;
    });
    assert.deepEqual(await start(root(open)), { code: 0 });
  },
});

Deno.test({
  ...requiring(
    "attack: a Landlock rule path under another user's 0700 directory is refused for the client, whether it exists or not (no existence oracle)",
    needs.root(),
  ),
  async fn() {
    const d = await startDaemon({ args: ["--allow-uid", "65534"] });
    try {
      const policy = (path: string) =>
        `version = 1
[[fs_layer]]
handled_access_fs = ["read_file"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${path}"
  allowed_access = ["read_file"]
`;
      const closed = vault(0o700);
      for (const name of ["secret", "absent"]) {
        const r = await attack(d, policy(`${closed}/dir/${name}`), [
          "read",
          "/etc/hostname",
        ]);
        assertRefused(
          r,
          "fs_layer\\[0\\]\\.rule\\[1\\]\\.path",
          `${closed}/dir/${name}`,
        );
      }
      const open = vault(0o755);
      const ok = await attack(d, policy(`${open}/dir/secret`), [
        "read",
        `${open}/dir/secret`,
      ]);
      assert.equal(ok.code, 0, ok.stderr);
      assert.deepEqual(outcome(ok).content, [SECRET]);
    } finally {
      d.proc.kill("SIGTERM");
      await d.exited();
    }
  },
});
