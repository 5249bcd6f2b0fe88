/**
 * The bundle of `landlockd run` (dist/run/) is code a later run executes:
 * it may be no easier to change than the sources it stands for. Here root
 * runs landlockd from a checkout whose sources only root can write, but
 * whose dist/ belongs to another user (nobody): nobody plants a line in
 * the entry chunks and restamps the manifest (bundle_plant.py). Before the
 * fix root's next run executed it, as root. A bundle folder or file owned
 * by anyone but the invoking user or root, writable by group or others, or
 * a symlink, now turns the bundle off: the run loads the sources.
 */
import assert from "node:assert/strict";
import { NOBODY_HOME, policyFile, RUN_ROOT, tempDir } from "../helpers.ts";
import { copyTree } from "../shared_copy.ts";

const ROOT_ONLY = Deno.uid() !== 0;

/** Reads and executes anywhere; writes nothing. */
const READ_ONLY = `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", "write_file", "make_reg"]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
`;

/** A root-owned copy of landlockd with its bundle built, as root. */
function cloneWithBundle(): string {
  const clone = `${tempDir()}/landlockd`;
  copyTree(RUN_ROOT, clone);
  new Deno.Command("chown", { args: ["-R", "0:0", clone] }).outputSync();
  Deno.removeSync(`${clone}/dist`, { recursive: true });
  const built = new Deno.Command(Deno.execPath(), {
    args: ["run", "--allow-all", `${clone}/cli/bundle.ts`],
    stdout: "null",
  }).outputSync();
  assert.ok(built.success, new TextDecoder().decode(built.stderr));
  return clone;
}

/** `landlockd run` from `clone`: a policy file, or a starter's name. */
function runFrom(
  clone: string,
  policy: string,
  command = ["/bin/echo", "hi"],
  as: "root" | "nobody" = "root",
) {
  if (as === "nobody") {
    Deno.mkdirSync(NOBODY_HOME, { recursive: true });
    Deno.chownSync(NOBODY_HOME, 65534, 65534);
  }
  // A run that hangs is killed (137) and fails its test.
  const argv = [
    ...(as === "nobody"
      ? ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups"]
      : []),
    "timeout",
  ];
  const out = new Deno.Command(argv[0], {
    args: [
      ...argv.slice(1),
      "--signal=KILL",
      "60",
      Deno.execPath(),
      "run",
      "--allow-all",
      "--log-level=debug",
      `${clone}/main.ts`,
      "run",
      ...(policy.startsWith("/")
        ? ["--policy-file", policy]
        : ["--policy", policy]),
      "--",
      ...command,
    ],
    clearEnv: true,
    env: {
      PATH: Deno.env.get("PATH") ?? "/usr/bin:/bin",
      ...(as === "nobody"
        ? { HOME: NOBODY_HOME, DENO_DIR: `${NOBODY_HOME}/deno` }
        : {
          HOME: Deno.env.get("HOME") ?? "/root",
          ...(Deno.env.get("DENO_DIR")
            ? { DENO_DIR: Deno.env.get("DENO_DIR")! }
            : {}),
        }),
      NO_COLOR: "1",
    },
    cwd: "/",
  }).outputSync();
  const lines = new TextDecoder().decode(out.stderr).split("\n");
  return {
    code: out.code,
    stdout: new TextDecoder().decode(out.stdout),
    // Deno fetching an npm package into nobody's DENO_DIR is not landlockd's.
    stderr: lines.filter((l) => !/^DEBUG |^\s|^[{}]|^$|^Download /.test(l))
      .join("\n"),
    fromBundle: lines.some((l) => l.includes("/dist/run/entry-")),
  };
}

Deno.test({
  name:
    "[root] a bundle another user can write is not loaded: root's run loads the sources",
  ignore: ROOT_ONLY,
  fn() {
    const clone = cloneWithBundle();
    const policy = policyFile(READ_ONLY);
    const marker = `${tempDir()}/planted`;
    Deno.chmodSync(parentOf(marker), 0o777);

    // The allowed counterpart: root's own bundle is used.
    const ok = runFrom(clone, policy);
    assert.equal(ok.stderr, "");
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, "hi\n");
    assert.ok(ok.fromBundle, "root's own bundle was not used");

    // nobody owns dist/ (not the sources) and plants code in it.
    new Deno.Command("chown", { args: ["-R", "65534:65534", `${clone}/dist`] })
      .outputSync();
    const plant = new Deno.Command("setpriv", {
      args: [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "/usr/bin/python3",
        `${RUN_ROOT}tests/attacks/bundle_plant.py`,
        clone,
        marker,
      ],
    }).outputSync();
    assert.ok(plant.success, new TextDecoder().decode(plant.stderr));

    // Before the fix: "planted ran" on stderr, and the marker said "uid 0".
    const r = runFrom(clone, policy);
    assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "hi\n");
    assert.ok(!r.fromBundle, "the bundle nobody owns was loaded");
  },
});

function parentOf(path: string): string {
  return path.slice(0, path.lastIndexOf("/"));
}

Deno.test({
  name:
    "[root] from its bundle, a clone under /tmp still refuses ci-default before the command can rewrite it",
  ignore: ROOT_ONLY,
  fn() {
    // The self-write check finds the checkout from its module's
    // import.meta.url, which the bundle rewrites: it must still name the
    // clone, dist/ included.
    const clone = cloneWithBundle();
    const r = runFrom(clone, "ci-default", [
      "sh",
      "-c",
      `echo x > ${clone}/dist/run/planted`,
    ]);
    assert.ok(r.fromBundle, "the clone's bundle was not used");
    assert.equal(r.code, 125);
    assert.equal(r.stdout, "");
    assert.equal(
      r.stderr,
      `landlockd: policy "ci-default" (built in):23: fs_layer[0].rule[1].allowed_access: "write_file" on "/tmp" lets the command change landlockd's source tree (its modules and ffi/build/), "${clone}", and a later run would trust what it wrote there; run landlockd from a directory this policy cannot write`,
    );
    assert.throws(
      () => Deno.statSync(`${clone}/dist/run/planted`),
      Deno.errors.NotFound,
    );
  },
});

/** nobody, who owns the clone's dist/, runs `args` there. */
function asNobody(clone: string, args: string[]): void {
  new Deno.Command("chown", { args: ["-R", "65534:65534", `${clone}/dist`] })
    .outputSync();
  const r = new Deno.Command("setpriv", {
    args: ["--reuid=nobody", "--regid=nogroup", "--clear-groups", ...args],
    stderr: "piped",
  }).outputSync();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
}

for (
  const [what, plant] of [
    // Before the fix root's run read the record before checking who owns
    // dist/: it waited on the FIFO forever (killed by the timeout, 137).
    ["a FIFO", (stamps: string) => ["mkfifo", stamps]],
    // The same read would fill memory until the run was killed.
    ["a symlink to /dev/zero", (stamps: string) => [
      "ln",
      "-s",
      "/dev/zero",
      stamps,
    ]],
  ] as const
) {
  Deno.test({
    name:
      `[root] a record another user replaced with ${what} is never read: root's run loads the sources`,
    ignore: ROOT_ONLY,
    fn() {
      const clone = cloneWithBundle();
      const policy = policyFile(READ_ONLY);
      const stamps = `${clone}/dist/run/direct.stamps`;
      Deno.removeSync(stamps);
      asNobody(clone, plant(stamps));
      const r = runFrom(clone, policy);
      assert.equal(r.stderr, "");
      assert.equal(r.code, 0);
      assert.equal(r.stdout, "hi\n");
      assert.ok(!r.fromBundle, "the bundle nobody owns was loaded");
    },
  });
}

Deno.test({
  name:
    "[nobody] a record a third user replaced with a FIFO is never read: nobody's run loads the sources",
  ignore: ROOT_ONLY,
  fn() {
    const clone = cloneWithBundle();
    const policy = policyFile(READ_ONLY);
    // The allowed counterpart: nobody's run uses root's bundle.
    const ok = runFrom(clone, policy, undefined, "nobody");
    assert.equal(ok.stderr, "");
    assert.equal(ok.code, 0);
    assert.equal(ok.stdout, "hi\n");
    assert.ok(ok.fromBundle, "root's bundle was not used by nobody");

    // uid 12345 (neither nobody nor root) owns dist/ and made the FIFO.
    const stamps = `${clone}/dist/run/direct.stamps`;
    Deno.removeSync(stamps);
    new Deno.Command("mkfifo", { args: [stamps] }).outputSync();
    new Deno.Command("chown", { args: ["-R", "12345:12345", `${clone}/dist`] })
      .outputSync();
    const r = runFrom(clone, policy, undefined, "nobody");
    assert.equal(r.stderr, "");
    assert.equal(r.code, 0);
    assert.equal(r.stdout, "hi\n");
    assert.ok(!r.fromBundle, "a bundle uid 12345 owns was loaded");
  },
});
