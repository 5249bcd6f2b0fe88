/**
 * The kernel-facing checks: each one `collect`s raw outcomes inside the
 * virtual machine (landlockd runs, probe output, plans) and `verify`s them
 * on the host against what a kernel with that Landlock ABI must do. The
 * guest runs them in this order; the namespace checks come last because
 * they turn unprivileged user namespaces off for the rest of the boot.
 *
 * @module
 */

import assert from "node:assert/strict";
import {
  type As,
  landlockd,
  type Outcome,
  policy,
  probeResults,
  PROJECT,
  tree,
  USERS,
} from "./guest_tools.ts";

/** What one check collected in the VM: outcomes and plain values. */
export type Observations = Record<string, unknown>;

/** One check: gathered in the guest, asserted on the host. */
export interface Check {
  /** Reads as a sentence; unique; the key results come back under. */
  name: string;
  collect(): Promise<Observations>;
  /** Asserts the observations for a kernel whose Landlock ABI is `abi`. */
  verify(obs: Observations, abi: number): void;
}

/** A port the policies allow, and one they never declare. */
const DECLARED_PORT = 20001;
const UNDECLARED_PORT = 20002;

/** A root-owned file everyone may write as far as DAC goes. */
const HOST_FILE = "/etc/llk-target";

function outcome(obs: Observations, key: string): Outcome {
  const o = obs[key] as Outcome | undefined;
  assert.ok(o, `nothing collected for "${key}": ${JSON.stringify(obs)}`);
  return o;
}

function assertRan(o: Outcome): Record<string, string> {
  assert.equal(o.code, 0, `landlockd exited ${o.code}: ${o.stderr}`);
  return probeResults(o.stdout);
}

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, "\\$&");

function strictNet(as: As): Check {
  return {
    name:
      `[${as}] a strict policy with bind_tcp is refused below ABI 4 (exit 125, names the right and the ABI), enforced from ABI 4`,
    async collect() {
      const dir = tree(as);
      const file = policy(
        dir,
        `version = 1
compat = "strict"

[[fs_layer]]
handled_access_fs = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = ${DECLARED_PORT}
  allowed_access = ["bind_tcp"]
`,
      );
      return {
        run: await landlockd([
          "run",
          "--policy-file",
          file,
          "--",
          `${dir}/bin/probe`,
          "print",
          "ran",
          "bind",
          String(UNDECLARED_PORT),
        ], as),
      };
    },
    verify(obs, abi) {
      const r = outcome(obs, "run");
      if (abi < 4) {
        assert.equal(r.code, 125, r.stderr);
        assert.equal(r.stdout, "", "the command must not run");
        assert.match(
          r.stderr,
          new RegExp(
            escape(
              `net.handled_access_net: "bind_tcp" needs Landlock ABI 4 (Linux 6.7), but this kernel provides ABI ${abi}`,
            ),
          ),
        );
        assert.match(r.stderr, /set compat = "best_effort"/);
      } else {
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^ran$/m);
        assert.equal(
          probeResults(r.stdout)[`bind ${UNDECLARED_PORT}`],
          "EACCES",
        );
      }
    },
  };
}

function bestEffort(as: As): Check {
  return {
    name:
      `[${as}] best_effort enforces exactly what the kernel has (reads EACCES, refer EXDEV) and reports truncate and bind_tcp as dropped where missing`,
    async collect() {
      const dir = tree(as);
      const writable = [
        "read_file",
        "write_file",
        "make_reg",
        "remove_file",
      ];
      const file = policy(
        dir,
        `version = 1
compat = "best_effort"

[[fs_layer]]
handled_access_fs = [
  "execute", "read_file", "write_file", "make_reg", "remove_file", "refer",
  "truncate",
]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/allowed"
  allowed_access = ["read_file"]
  [[fs_layer.rule]]
  path = "${dir}/a"
  allowed_access = ${JSON.stringify(writable)}
  [[fs_layer.rule]]
  path = "${dir}/b"
  allowed_access = ${JSON.stringify(writable)}

[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = ${DECLARED_PORT}
  allowed_access = ["bind_tcp"]
`,
      );
      const run = await landlockd([
        "run",
        "--policy-file",
        file,
        "--",
        `${dir}/bin/probe`,
        ...["read", `${dir}/allowed/file`],
        ...["read", `${dir}/denied/file`],
        ...["write", `${dir}/denied/file`],
        ...["create", `${dir}/a/f`],
        ...["rename", `${dir}/a/f`, `${dir}/a/g`],
        ...["rename", `${dir}/a/g`, `${dir}/b/g`],
        ...["truncate", `${dir}/allowed/file`],
        ...["bind", String(DECLARED_PORT)],
        ...["bind", String(UNDECLARED_PORT)],
      ], as);
      return { dir, run };
    },
    verify(obs, abi) {
      const dir = obs.dir as string;
      const res = assertRan(outcome(obs, "run"));
      assert.deepEqual(res, {
        [`read ${dir}/allowed/file`]: "OK",
        [`read ${dir}/denied/file`]: "EACCES",
        [`write ${dir}/denied/file`]: "EACCES",
        [`create ${dir}/a/f`]: "OK",
        [`rename ${dir}/a/f`]: "OK",
        [`rename ${dir}/a/g`]: "EXDEV",
        [`truncate ${dir}/allowed/file`]: abi >= 3 ? "EACCES" : "OK",
        [`bind ${DECLARED_PORT}`]: "OK",
        [`bind ${UNDECLARED_PORT}`]: abi >= 4 ? "EACCES" : "OK",
      });
      const missing = [
        { key: "fs_layer[0].handled_access_fs", right: "truncate", abi: 3 },
        { key: "net.handled_access_net", right: "bind_tcp", abi: 4 },
      ].filter((m) => m.abi > abi);
      const stderr = outcome(obs, "run").stderr;
      if (missing.length === 0) {
        assert.equal(stderr, "");
      } else {
        // Exactly the missing rights, in the policy's order, nothing else.
        assert.equal(
          stderr,
          `landlockd: warning: Landlock is partially enforced; compat = "best_effort" dropped: ${
            missing.map((m) => `${m.key} ${m.right} (ABI ${m.abi})`).join(", ")
          }\n`,
        );
      }
    },
  };
}

function seccompDeny(as: As): Check {
  return {
    name:
      `[${as}] a seccomp deny list fails mkdir with the configured errno (EOPNOTSUPP) while other calls work`,
    async collect() {
      const dir = tree(as);
      const file = policy(
        dir,
        `version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "make_dir", "make_reg"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/a"
  allowed_access = ["make_dir", "make_reg"]

[seccomp]
deny = ["mkdir", "mkdirat"]
errno = 95
`,
      );
      return {
        dir,
        run: await landlockd([
          "run",
          "--policy-file",
          file,
          "--",
          `${dir}/bin/probe`,
          ...["mkdir", `${dir}/a/d`],
          ...["create", `${dir}/a/f`],
          ...["create", `${dir}/b/f`],
        ], as),
      };
    },
    verify(obs) {
      const dir = obs.dir as string;
      assert.deepEqual(assertRan(outcome(obs, "run")), {
        [`mkdir ${dir}/a/d`]: "EOPNOTSUPP",
        [`create ${dir}/a/f`]: "OK",
        [`create ${dir}/b/f`]: "EACCES",
      });
    },
  };
}

function broker(as: As): Check {
  return {
    name:
      `[${as}] the broker opens a declared allow_read file Landlock denies; an undeclared open and a write to the declared file fail with EACCES`,
    async collect() {
      const dir = tree(as);
      const file = policy(
        dir,
        `version = 1
compat = "best_effort"

[[fs_layer]]
handled_access_fs = ["execute", "read_file", "write_file"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

[broker]
allow_read = ["${dir}/denied/file"]
`,
      );
      return {
        dir,
        run: await landlockd([
          "run",
          "--policy-file",
          file,
          "--",
          `${dir}/bin/probe`,
          ...["read", `${dir}/denied/file`],
          ...["read", `${dir}/denied/other`],
          ...["write", `${dir}/denied/file`],
        ], as),
      };
    },
    verify(obs) {
      const dir = obs.dir as string;
      assert.deepEqual(assertRan(outcome(obs, "run")), {
        [`read ${dir}/denied/file`]: "OK",
        [`read ${dir}/denied/other`]: "EACCES",
        [`write ${dir}/denied/file`]: "EACCES",
      });
    },
  };
}

const MAX_USERNS = "/proc/sys/user/max_user_namespaces";

/** Sets user.max_user_namespaces=0 (once) and returns what it reads back. */
function noUserNamespaces(): string {
  Deno.writeTextFileSync(MAX_USERNS, "0\n");
  return Deno.readTextFileSync(MAX_USERNS).trim();
}

const ciDefault: Check = {
  name:
    "with user.max_user_namespaces=0, ci-default still runs (root and nobody): /tmp writable, /etc not; below ABI 3 it refuses for truncate, never for namespaces, and a best_effort copy runs",
  async collect() {
    const sysctl = noUserNamespaces();
    Deno.writeTextFileSync(HOST_FILE, "host\n");
    Deno.chmodSync(HOST_FILE, 0o666);
    const source = Deno.readTextFileSync(`${PROJECT}policies/ci-default.toml`);
    const obs: Observations = { sysctl };
    for (const as of USERS) {
      const dir = tree(as);
      const probe = (mode: string) => [
        `${dir}/bin/probe`,
        ...["create", `/tmp/llk-ci-${as}-${mode}`],
        ...["write", HOST_FILE],
      ];
      const strict = await landlockd(
        ["run", "--policy", "ci-default", "--", ...probe("strict")],
        as,
      );
      obs[`${as}.strict`] = strict;
      if (strict.code === 0) continue;
      // Outside /tmp: landlockd refuses a policy that can rewrite its file.
      Deno.mkdirSync("/var/lib/llk", { recursive: true, mode: 0o755 });
      const safe = Deno.makeTempDirSync({ dir: "/var/lib/llk" });
      Deno.chmodSync(safe, 0o755);
      const copy = policy(
        safe,
        source.replace(/^version = 1$/m, 'version = 1\ncompat = "best_effort"'),
      );
      obs[`${as}.best_effort`] = await landlockd(
        ["run", "--policy-file", copy, "--", ...probe("best_effort")],
        as,
      );
    }
    return obs;
  },
  verify(obs, abi) {
    assert.equal(obs.sysctl, "0");
    for (const as of USERS) {
      const expected = (mode: string) => ({
        [`create /tmp/llk-ci-${as}-${mode}`]: "OK",
        [`write ${HOST_FILE}`]: "EACCES",
      });
      const strict = outcome(obs, `${as}.strict`);
      assert.doesNotMatch(strict.stderr, /namespace/);
      if (abi >= 3) {
        assert.deepEqual(assertRan(strict), expected("strict"));
        continue;
      }
      // ci-default needs truncate (its header says so): refused, not for
      // namespaces; a best_effort copy is what such a kernel can run.
      assert.equal(strict.code, 125, strict.stderr);
      assert.equal(strict.stdout, "");
      assert.match(
        strict.stderr,
        new RegExp(
          escape(
            `"truncate" needs Landlock ABI 3 (Linux 6.2), but this kernel provides ABI ${abi}`,
          ),
        ),
      );
      const copy = outcome(obs, `${as}.best_effort`);
      assert.doesNotMatch(copy.stderr, /namespace/);
      assert.deepEqual(assertRan(copy), expected("best_effort"));
    }
  },
};

const mountPolicy: Check = {
  name:
    "with user.max_user_namespaces=0, a [mount] policy fails for nobody with the namespace message (exit 125); root needs no user namespace and runs it",
  async collect() {
    const sysctl = noUserNamespaces();
    const obs: Observations = { sysctl };
    for (const as of USERS) {
      const dir = tree(as);
      const file = policy(
        dir,
        `version = 1

[[fs_layer]]
handled_access_fs = ["execute", "read_file"]
  [[fs_layer.rule]]
  path = "${dir}/bin"
  allowed_access = ["execute", "read_file"]

[mount]
tmpfs = ["${dir}/mnt"]
`,
      );
      obs[as] = await landlockd([
        "run",
        "--policy-file",
        file,
        "--",
        `${dir}/bin/probe`,
        "print",
        "ran",
      ], as);
    }
    return obs;
  },
  verify(obs) {
    assert.equal(obs.sysctl, "0");
    const nobody = outcome(obs, "nobody");
    assert.equal(nobody.code, 125, nobody.stderr);
    assert.equal(nobody.stdout, "");
    assert.match(
      nobody.stderr,
      /cannot create a user namespace for the mounts: .*user\.max_user_namespaces.*Policies without \[mount\] and \[runtime\] need no namespace\./,
    );
    const root = outcome(obs, "root");
    assert.equal(root.code, 0, root.stderr);
    assert.equal(root.stdout, "ran\n");
  },
};

const abiReport: Check = {
  name:
    "landlockd abi reports the kernel's Landlock ABI, landlock is in the LSM list, seccomp user notification is there",
  async collect() {
    let lsm = "";
    try {
      lsm = Deno.readTextFileSync("/sys/kernel/security/lsm");
    } catch (e) {
      lsm = `unreadable: ${e}`;
    }
    return {
      release: Deno.osRelease(),
      lsm,
      json: await landlockd(["abi", "--json"], "root"),
      text: await landlockd(["abi"], "nobody"),
    };
  },
  verify(obs, abi) {
    assert.match(obs.lsm as string, /(^|,)landlock(,|$)/);
    const json = outcome(obs, "json");
    assert.equal(json.code, 0, json.stderr);
    const report = JSON.parse(json.stdout);
    assert.equal(report.landlock.abi, abi);
    assert.equal(report.landlock.kernel_abi, abi);
    assert.equal(report.seccomp.user_notify, true);
    const text = outcome(obs, "text");
    assert.equal(text.code, 0, text.stderr);
    assert.equal(text.stdout.split("\n")[0], `Landlock ABI ${abi}`);
  },
};

/** Every check, in the order the guest runs them. */
export const CHECKS: readonly Check[] = [
  abiReport,
  // The refusal is the planner's, before anything is spawned: one user.
  strictNet("root"),
  ...USERS.flatMap((as) => [
    bestEffort(as),
    seccompDeny(as),
    broker(as),
  ]),
  ciDefault,
  mountPolicy,
];
