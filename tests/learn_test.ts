/**
 * `landlockd learn` on real workloads and the real kernel, as root and as
 * nobody: learn a policy from a run, lint it, run the same command under it
 * in a fresh directory (it must succeed), and try a write the learning run
 * never made (it must fail with EACCES). Also: the [net] rule names exactly
 * the port used, a learn run killed by a signal still writes what it saw,
 * 10,000 distinct paths stay within the bounded record, and the output is
 * never overwritten without --force.
 */
import assert from "node:assert/strict";
import { parse } from "smol-toml";
import {
  chownTree,
  freePort,
  landlockd,
  landlockdCommand,
  outsideTmpDir,
  python3,
  type Result,
  USERS,
} from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

type As = (typeof USERS)[number];

const PATH = "/usr/local/bin:/usr/bin:/bin";

/** A fresh directory outside /tmp that `as` may write. */
function workDir(as: As): string {
  const dir = outsideTmpDir();
  if (as === "nobody") chownTree(dir);
  return dir;
}

function give(as: As, path: string): void {
  if (as === "nobody") chownTree(path);
}

interface Workload {
  name: string;
  /** Puts the inputs into a fresh work directory. */
  setup(dir: string): void;
  argv: string[];
  /** After a successful run in `dir`. */
  check(dir: string, r: Result): void;
  /** A command that writes `victim`, printing or failing with its errno. */
  deniedWrite(victim: string): string[];
  /** Asserts the denied write's result: EACCES. */
  refused(r: Result): void;
}

/** `sh -c 'echo x >> FILE'`: dash says "Permission denied" for EACCES. */
const shellWrite = (victim: string) => [
  "/bin/sh",
  "-c",
  `echo intruder >> "${victim}"`,
];
const shellRefused = (r: Result) => {
  assert.notEqual(r.code, 0, r.stderr);
  // strerror(EACCES); EPERM would be "Operation not permitted".
  assert.match(r.stderr, /Permission denied/, r.stderr);
};

const PY_JOB = `import errno, json, sqlite3, ssl, sys
target = sys.argv[1] if len(sys.argv) > 1 else "out.json"
db = sqlite3.connect(":memory:")
(one,) = db.execute("select 1").fetchone()
try:
    with open(target, "w") as f:
        json.dump({"ssl": ssl.OPENSSL_VERSION, "one": one}, f)
except OSError as e:
    print(errno.errorcode[e.errno])
    sys.exit(3)
print("OK")
`;

const C_PROGRAM = `#include <errno.h>
#include <stdio.h>
#include <string.h>
int main(int argc, char **argv) {
  const char *path = argc > 1 ? argv[1] : "out.txt";
  FILE *f = fopen(path, "w");
  if (!f) {
    puts(errno == EACCES ? "EACCES" : strerror(errno));
    return 3;
  }
  fputs("hello\\n", f);
  fclose(f);
  puts("OK");
  return 0;
}
`;

const SH_SCRIPT = `set -e
printf 'b\\na\\nc\\n' > in.txt
sed 's/a/A/' in.txt | sort > sorted.txt
tar -cf out.tar sorted.txt
tar -tf out.tar
`;

const WORKLOADS: Workload[] = [
  {
    name: "python3 importing json/ssl/sqlite3 and writing a file",
    setup: (dir) => Deno.writeTextFileSync(`${dir}/job.py`, PY_JOB),
    argv: [python3(), "job.py"],
    check: (dir, r) => {
      assert.equal(r.stdout.trim(), "OK");
      assert.match(Deno.readTextFileSync(`${dir}/out.json`), /"one": 1/);
    },
    deniedWrite: (victim) => [python3(), "job.py", victim],
    refused: (r) => {
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout.trim(), "EACCES");
    },
  },
  {
    name: "git init, add and commit",
    setup: (dir) => Deno.writeTextFileSync(`${dir}/a.txt`, "a\n"),
    argv: [
      "/bin/sh",
      "-c",
      "git init -q && git add a.txt && git -c user.name=learn -c user.email=learn@example.com commit -q -m first && git log --oneline",
    ],
    check: (_dir, r) => assert.match(r.stdout, /first/),
    deniedWrite: shellWrite,
    refused: shellRefused,
  },
  {
    name: "gcc compiling and running a C file",
    setup: (dir) => Deno.writeTextFileSync(`${dir}/hello.c`, C_PROGRAM),
    argv: ["/bin/sh", "-c", "gcc -o hello hello.c && ./hello"],
    check: (dir, r) => {
      assert.equal(r.stdout.trim(), "OK");
      assert.equal(Deno.readTextFileSync(`${dir}/out.txt`), "hello\n");
    },
    deniedWrite: (victim) => ["./hello", victim],
    refused: (r) => {
      assert.equal(r.code, 3, r.stderr);
      assert.equal(r.stdout.trim(), "EACCES");
    },
  },
  {
    name: "sh running sed, sort and tar",
    setup: (dir) => Deno.writeTextFileSync(`${dir}/job.sh`, SH_SCRIPT),
    argv: ["/bin/sh", "job.sh"],
    check: (dir, r) => {
      assert.equal(r.stdout.trim(), "sorted.txt");
      assert.equal(Deno.readTextFileSync(`${dir}/sorted.txt`), "A\nb\nc\n");
    },
    deniedWrite: shellWrite,
    refused: shellRefused,
  },
];

/** learn -o POLICY in a fresh directory; returns the policy's path. */
async function learnIn(
  as: As,
  w: Pick<Workload, "setup" | "argv">,
  policyDir: string,
): Promise<{ policy: string; learned: Result }> {
  const dir = workDir(as);
  w.setup(dir);
  give(as, dir);
  const policy = `${policyDir}/learned.toml`;
  const learned = await landlockd(["learn", "-o", policy, "--", ...w.argv], {
    as,
    cwd: dir,
    env: { PATH },
  });
  assert.equal(learned.code, 0, learned.stderr);
  assert.match(
    learned.stderr,
    /runs WITHOUT Landlock restrictions/,
    "learn says how the command runs before it starts",
  );
  return { policy, learned };
}

for (const as of USERS) {
  for (const w of WORKLOADS) {
    testAtAbi(
      4,
      "the learned [net] (TCP handled)",
      `[${as}] learn → run: ${w.name}; a write it never made is EACCES`,
      async () => {
        const policyDir = workDir(as);
        const { policy } = await learnIn(as, w, policyDir);
        const text = Deno.readTextFileSync(policy);
        // Every rule says why it is there.
        assert.match(text, /# .+\n\s*\[\[fs_layer\.rule\]\]/);
        const runDir = workDir(as);
        w.setup(runDir);
        give(as, runDir);
        const lint = await landlockd(["lint", "--policy-file", policy], {
          as,
          cwd: runDir,
          env: { PATH },
        });
        assert.equal(lint.code, 0, lint.stderr + text);
        assert.doesNotMatch(lint.stderr, /warning/, lint.stderr + text);

        const run = await landlockd(
          ["run", "--policy-file", policy, "--", ...w.argv],
          { as, cwd: runDir, env: { PATH } },
        );
        assert.equal(run.code, 0, run.stderr + text);
        w.check(runDir, run);

        const victim = `${policyDir}/victim.txt`;
        Deno.writeTextFileSync(victim, "untouched\n");
        give(as, victim);
        const denied = await landlockd(
          ["run", "--policy-file", policy, "--", ...w.deniedWrite(victim)],
          { as, cwd: runDir, env: { PATH } },
        );
        w.refused(denied);
        assert.equal(Deno.readTextFileSync(victim), "untouched\n");
      },
    );
  }

  testAtAbi(
    4,
    "connect_tcp",
    `[${as}] learn → run: curl to a local http.server; [net] has exactly its port`,
    async () => {
      const served = workDir(as);
      Deno.writeTextFileSync(`${served}/hello.txt`, "hello from the server\n");
      const port = freePort();
      const server = new Deno.Command(python3(), {
        args: [
          "-m",
          "http.server",
          String(port),
          "--bind",
          "127.0.0.1",
          "--directory",
          served,
        ],
        stdout: "null",
        stderr: "null",
      }).spawn();
      try {
        await waitForPort(port);
        const w = {
          setup: () => {},
          argv: [
            "curl",
            "-sS",
            "-o",
            "got.txt",
            `http://127.0.0.1:${port}/hello.txt`,
          ],
        };
        const policyDir = workDir(as);
        const { policy } = await learnIn(as, w, policyDir);
        const text = Deno.readTextFileSync(policy);
        const doc = parse(text) as {
          net?: { handled_access_net: string[]; rule?: unknown[] };
        };
        assert.deepEqual(doc.net?.handled_access_net, [
          "bind_tcp",
          "connect_tcp",
        ]);
        assert.deepEqual(doc.net?.rule, [{
          port,
          allowed_access: ["connect_tcp"],
        }], text);

        const runDir = workDir(as);
        const run = await landlockd(
          ["run", "--policy-file", policy, "--", ...w.argv],
          { as, cwd: runDir, env: { PATH } },
        );
        assert.equal(run.code, 0, run.stderr + text);
        assert.equal(
          Deno.readTextFileSync(`${runDir}/got.txt`),
          "hello from the server\n",
        );
        const victim = `${policyDir}/victim.txt`;
        Deno.writeTextFileSync(victim, "untouched\n");
        give(as, victim);
        const denied = await landlockd(
          ["run", "--policy-file", policy, "--", ...shellWrite(victim)],
          { as, cwd: runDir, env: { PATH } },
        );
        shellRefused(denied);
        assert.equal(Deno.readTextFileSync(victim), "untouched\n");
      } finally {
        server.kill("SIGTERM");
        await server.status;
      }
    },
  );
}

async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 200; i++) {
    try {
      (await Deno.connect({ hostname: "127.0.0.1", port })).close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 50));
    }
  }
  throw new Error(`nothing listens on 127.0.0.1:${port}`);
}

Deno.test("learn: a run killed by a signal still writes what it saw, marked cut short", async () => {
  const dir = outsideTmpDir();
  const policy = `${dir}/cut.toml`;
  const child = landlockdCommand([
    "learn",
    "-o",
    policy,
    "--",
    "/bin/sh",
    "-c",
    "cat /etc/hostname; exec sleep 60",
  ], { cwd: dir, env: { PATH } }).spawn();
  // The command has read /etc/hostname once it prints it.
  const reader = child.stdout.getReader();
  let seen = "";
  while (!seen.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) break;
    seen += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.kill("SIGTERM"); // landlockd forwards it to the command
  const out = await child.output();
  const stderr = new TextDecoder().decode(out.stderr);
  assert.equal(out.code, 128 + 15, stderr);
  const text = Deno.readTextFileSync(policy);
  assert.match(text, /^# CUT SHORT: /m);
  assert.match(text, /^# The command ended with signal SIGTERM\.$/m);
  assert.match(text, /path = "\/etc\/hostname"/);
});

Deno.test("learn: 10,000 distinct paths stay within the bounded record", async () => {
  const dir = outsideTmpDir();
  const policy = `${dir}/many.toml`;
  const work = outsideTmpDir();
  const r = await landlockd([
    "learn",
    "-o",
    policy,
    "--",
    python3(),
    "-c",
    "for i in range(10000): open(f'f{i}', 'w').close()",
  ], { cwd: work, env: { PATH } });
  assert.equal(r.code, 0, r.stderr);
  const text = Deno.readTextFileSync(policy);
  // More distinct accesses than the record keeps: it says how many it left
  // out, and the working directory rule is still there.
  assert.match(
    text,
    /^# INCOMPLETE: the record was full; \d+ more distinct accesses were not kept\.$/m,
  );
  assert.match(text, /path = "\$\{PWD\}"/);
  assert.equal(Deno.readDirSync(work).toArray().length, 10000);
});

Deno.test("learn: an existing output file is not replaced without --force (125), and is with it", async () => {
  const dir = outsideTmpDir();
  const policy = `${dir}/exists.toml`;
  Deno.writeTextFileSync(policy, "# mine\n");
  const refused = await landlockd(
    ["learn", "-o", policy, "--", "/bin/true"],
    { cwd: dir, env: { PATH } },
  );
  assert.equal(refused.code, 125);
  assert.match(
    refused.stderr,
    new RegExp(`"${policy}" exists; add --force to replace it`),
  );
  assert.doesNotMatch(refused.stderr, /runs WITHOUT/, "nothing ran");
  assert.equal(Deno.readTextFileSync(policy), "# mine\n");

  const forced = await landlockd(
    ["learn", "--force", "-o", policy, "--", "/bin/true"],
    { cwd: dir, env: { PATH } },
  );
  assert.equal(forced.code, 0, forced.stderr);
  assert.match(Deno.readTextFileSync(policy), /^version = 1$/m);
  // No temporary file is left beside it.
  assert.deepEqual(
    Deno.readDirSync(dir).toArray().map((e) => e.name),
    ["exists.toml"],
  );
});

Deno.test("learn: without -o the policy goes to stdout; the command's status is learn's", async () => {
  const dir = outsideTmpDir();
  const r = await landlockd(
    ["learn", "--", "/bin/sh", "-c", "cat /etc/hostname >/dev/null; exit 7"],
    { cwd: dir, env: { PATH } },
  );
  assert.equal(r.code, 7, r.stderr);
  assert.match(r.stdout, /^version = 1$/m);
  assert.match(r.stdout, /path = "\/etc\/hostname"/);
  assert.match(r.stdout, /^# The command ended with exit status 7\.$/m);
});

Deno.test("learn: a command that exits at once is not an error", async () => {
  const dir = outsideTmpDir();
  const r = await landlockd(["learn", "--", "/bin/true"], {
    cwd: dir,
    env: { PATH },
  });
  assert.equal(r.code, 0, r.stderr);
  assert.match(r.stdout, /^version = 1$/m);
});

testAtAbi(
  3,
  "truncate (ci-default)",
  "learn: with --base, the result extends it and adds only what it refused",
  async () => {
    const work = outsideTmpDir();
    const dir = outsideTmpDir();
    const policy = `${dir}/based.toml`;
    // ci-default refuses writes outside /tmp: the write into the work
    // directory is refused (the command fails) and learned.
    const r = await landlockd([
      "learn",
      "--base",
      "ci-default",
      "-o",
      policy,
      "--",
      "/bin/sh",
      "-c",
      "cat /etc/hostname > /dev/null; echo x > out.txt",
    ], { cwd: work, env: { PATH } });
    assert.match(r.stderr, /runs under policy "ci-default" \(built in\) only/);
    assert.notEqual(r.code, 0, "the base refused the write while learning");
    const text = Deno.readTextFileSync(policy);
    assert.match(text, /^extends = "ci-default"$/m);
    assert.doesNotMatch(
      text,
      /path = "\/etc\/hostname"|\[\[fs_layer\]\]|\[net\]/,
      text,
    );
    assert.match(text, /\[\[fs_rule\]\]\npath = "\$\{PWD\}"/);
    const again = await landlockd([
      "run",
      "--policy-file",
      policy,
      "--",
      "/bin/sh",
      "-c",
      "echo x > out.txt",
    ], { cwd: work, env: { PATH } });
    assert.equal(again.code, 0, again.stderr + text);
  },
);

Deno.test("learn: a command that cannot be found is 127 and writes nothing", async () => {
  const dir = outsideTmpDir();
  const policy = `${dir}/none.toml`;
  const r = await landlockd(
    ["learn", "-o", policy, "--", "/nonexistent/command"],
    { cwd: dir, env: { PATH } },
  );
  assert.equal(r.code, 127, r.stderr);
  assert.match(
    r.stderr,
    /cannot execute "\/nonexistent\/command": No such file or directory \(ENOENT\)/,
  );
  assert.throws(() => Deno.statSync(policy), Deno.errors.NotFound);
});

testAtAbi(
  3,
  "truncate (ci-default)",
  "learn: a base file the learned policy would let the command rewrite is named, since run refuses that",
  async () => {
    const work = outsideTmpDir();
    Deno.writeTextFileSync(
      `${work}/base.toml`,
      'version = 1\nextends = "ci-default"\n',
    );
    const out = outsideTmpDir();
    const r = await landlockd([
      "learn",
      "--base",
      "./base.toml",
      "-o",
      `${out}/learned.toml`,
      "--",
      "/bin/sh",
      "-c",
      "echo x > out.txt",
    ], { cwd: work, env: { PATH } });
    assert.match(
      r.stderr,
      /note: the learned policy lets the command write \$\{PWD\}, which holds \.\/base\.toml; landlockd run refuses/,
    );
    assert.match(
      Deno.readTextFileSync(`${out}/learned.toml`),
      new RegExp(`^extends = "${work}/base.toml"$`, "m"),
    );
  },
);
