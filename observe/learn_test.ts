import assert from "node:assert/strict";
import type { Access, AccessLog, AccessOp } from "./access.ts";
import { type LearnContext, learnPolicy, type PathKind } from "./learn.ts";
import { lintPolicy, statPath } from "../policy/lint.ts";
import { loadPolicy } from "../policy/load.ts";
import { readNamedPolicy } from "../policy/source.ts";
import { expandPolicy } from "../policy/expand.ts";
import { validatePolicy } from "../policy/validate.ts";
import { isBeneath } from "../policy/paths.ts";
import { planLandlock } from "../policy/plan.ts";
import type { Policy } from "../policy/schema.ts";
import { resolvePlan } from "./verdict.ts";

// ${PWD} and ${HOME} in a learned policy expand, under lint, to the test
// process's own: the hand-built logs use them.
const CWD = Deno.cwd();
const HOME = "/home/dev";

function acc(
  op: AccessOp,
  path: string,
  syscall = "openat",
  count = 1,
): Access {
  return { op, path, syscall, count };
}

function log(accesses: Access[], extra: Partial<AccessLog> = {}): AccessLog {
  return { accesses, dropped: 0, cutShort: false, ...extra };
}

/** A host where `dirs` are directories and `files` files; all else missing. */
function host(dirs: string[], files: string[]): (p: string) => PathKind {
  const d = new Set(["/", ...dirs]);
  const f = new Set(files);
  // Every ancestor of a known entry is a directory.
  for (const p of [...dirs, ...files]) {
    for (let q = p; q !== "/"; q = q.slice(0, q.lastIndexOf("/")) || "/") {
      if (q !== p) d.add(q);
    }
  }
  return (p) => d.has(p) ? "directory" : f.has(p) ? "file" : "missing";
}

function ctx(probe: (p: string) => PathKind, more: Partial<LearnContext> = {}) {
  return { cwd: CWD, home: HOME, probe, argv: ["python3", "job.py"], ...more };
}

/** Lints the text as landlockd lint would, on the hand-built host. */
function assertLintsClean(
  text: string,
  probe: (p: string) => PathKind,
  location?: string,
) {
  const env = Deno.env.get("HOME");
  Deno.env.set("HOME", HOME);
  try {
    const diags = lintPolicy(
      { name: "learned.toml", text, location },
      // Paths of the hand-built host, then the real one (a base's rules).
      (p) => probe(p) === "missing" ? statPath(p) : probe(p),
    );
    assert.deepEqual(diags, [], text);
  } finally {
    if (env === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", env);
  }
}

/** The policy's one layer's rules as `path: rights`. */
function rulesOf(text: string): Record<string, string[]> {
  const env = Deno.env.get("HOME");
  Deno.env.set("HOME", HOME);
  try {
    const v = validatePolicy({ name: "x", text }, { resolve: true });
    assert.ok(v.policy, JSON.stringify(v.diagnostics));
    const { policy } = expandPolicy(v.policy);
    return Object.fromEntries(
      (policy.fs_layer?.[0].rule ?? []).map((r) => [r.path, r.allowed_access]),
    );
  } finally {
    if (env === undefined) Deno.env.delete("HOME");
    else Deno.env.set("HOME", env);
  }
}

/** A base as learn gets it: planned for ABI 7, its paths taken as real. */
function resolvedBase(policy: Policy) {
  return resolvePlan(
    planLandlock(expandPolicy(policy).policy, 7),
    (p) => p,
  );
}

const PY = "/usr/lib/python3.11";
const PY_FILES = Array.from({ length: 14 }, (_, i) => `${PY}/m${i}.py`);

function pythonRun(): { log: AccessLog; probe: (p: string) => PathKind } {
  const probe = host(
    [
      PY,
      `${PY}/json`,
      CWD,
      `${HOME}/.cache/pip`,
      `${HOME}/.npm/_cacache`,
      "/usr/bin",
      "/proc",
      "/tmp",
    ],
    [
      ...PY_FILES,
      "/usr/bin/python3.11",
      "/etc/ld.so.cache",
      "/etc/ssl/openssl.cnf",
      "/usr/lib/x86_64-linux-gnu/libc.so.6",
      `${CWD}/out.txt`,
      `${CWD}/job.py`,
      `${HOME}/.cache/pip/x`,
      `${HOME}/.gitconfig`,
      "/dev/null",
    ],
  );
  return {
    probe,
    log: log([
      acc("exec", "/usr/bin/python3.11", "execve"),
      acc("read", "/etc/ld.so.cache"),
      acc("read", "/etc/ssl/openssl.cnf", "openat", 2),
      acc("read", "/usr/lib/x86_64-linux-gnu/libc.so.6"),
      ...PY_FILES.map((p) => acc("read", p)),
      acc("list", `${PY}/json`),
      acc("read", `${CWD}/job.py`),
      acc("create", `${CWD}/out.txt`),
      acc("write", `${CWD}/out.txt`),
      acc("read", `${HOME}/.cache/pip/x`),
      acc("read", `${HOME}/.gitconfig`),
      acc("create", `${HOME}/.npm/_cacache/index/ab/cd`),
      acc("write", "/dev/null"),
      acc("read", "/proc/4242/status"),
      acc("read", "/usr/lib/python3.11/nope.so"),
      acc("read", "/etc/missing.conf"),
    ]),
  };
}

Deno.test("a python run becomes grouped, narrow rules that lint clean", () => {
  const { log: l, probe } = pythonRun();
  const learned = learnPolicy(l, ctx(probe));
  assertLintsClean(learned.toml, probe);
  const rules = rulesOf(learned.toml);
  assert.deepEqual(
    Object.keys(rules).sort(),
    [
      CWD,
      "/dev/null",
      "/etc/ld.so.cache",
      "/etc/ssl/openssl.cnf",
      `${HOME}/.cache/pip`,
      `${HOME}/.npm`,
      `${HOME}/.gitconfig`,
      "/proc",
      "/usr/bin",
      PY,
      "/usr/lib/x86_64-linux-gnu",
    ].sort(),
  );
  // System trees: read and execute, by their third-level directory.
  assert.deepEqual(rules[PY], ["read_file", "read_dir", "execute"]);
  assert.deepEqual(rules["/usr/bin"], ["read_file", "read_dir", "execute"]);
  // /etc one by one, read only; /dev/null written only.
  assert.deepEqual(rules["/etc/ld.so.cache"], ["read_file"]);
  assert.deepEqual(rules["/dev/null"], ["write_file", "truncate"]);
  // The working directory read-write (it wrote there), not executable.
  assert.ok(rules[CWD].includes("make_reg") && rules[CWD].includes("refer"));
  assert.ok(!rules[CWD].includes("execute"));
  // A cache under $HOME by its top directory (below ~/.cache, the
  // program's), only read: read only; written: read-write.
  assert.deepEqual(rules[`${HOME}/.cache/pip`], ["read_file"]);
  assert.ok(rules[`${HOME}/.npm`].includes("make_reg"));
  assert.deepEqual(rules["/proc"], ["read_file"]);
  // Evidence, variables and the missing paths.
  assert.match(
    learned.toml,
    /# 14 files read, 1 directory listed under \/usr\/lib\/python3\.11\n/,
  );
  assert.match(learned.toml, /path = "\$\{PWD\}"/);
  assert.match(learned.toml, /path = "\$\{HOME\}\/\.cache\/pip"/);
  assert.match(learned.toml, /# 2 paths the command looked for did not exist/);
  assert.match(
    learned.toml,
    /^# Learned by landlockd learn from: python3 job.py$/m,
  );
  // No TCP seen: TCP handled, no port allowed.
  assert.match(
    learned.toml,
    /handled_access_net = \["bind_tcp", "connect_tcp"\]\n/,
  );
  assert.equal(learned.net.length, 0);
});

Deno.test("files created, written and removed in a temp directory are granted on that directory", () => {
  const probe = host(["/tmp", CWD], []);
  const l = log([
    acc("create", "/tmp/ccA1b2.s"),
    acc("write", "/tmp/ccA1b2.s"),
    acc("read", "/tmp/ccA1b2.s"),
    acc("remove", "/tmp/ccA1b2.s", "unlink"),
    acc("create", "/tmp/build", "mkdir"),
    acc("create", "/tmp/build/x.o"),
    acc("write", "/tmp/build/x.o"),
    acc("remove", "/tmp/build/x.o", "unlinkat"),
    acc("remove", "/tmp/build", "unlinkat"),
  ]);
  const learned = learnPolicy(l, ctx(probe));
  assertLintsClean(learned.toml, probe);
  const rules = rulesOf(learned.toml);
  assert.deepEqual(Object.keys(rules), ["/tmp"]);
  assert.ok(rules["/tmp"].includes("make_dir"));
  assert.ok(rules["/tmp"].includes("remove_dir"));
  assert.match(
    learned.toml,
    /# 2 files read, 2 files written, 3 files created, 3 files removed under \/tmp|files created/,
  );
});

Deno.test("an executable the run built in the working directory makes it executable", () => {
  const probe = host([CWD], [`${CWD}/a.out`, `${CWD}/hello.c`]);
  const l = log([
    acc("read", `${CWD}/hello.c`),
    acc("create", `${CWD}/a.out`),
    acc("write", `${CWD}/a.out`),
    acc("exec", `${CWD}/a.out`, "execve"),
  ]);
  const rules = rulesOf(learnPolicy(l, ctx(probe)).toml);
  assert.ok(rules[CWD].includes("execute"));
  assert.ok(rules[CWD].includes("make_reg"));
});

Deno.test("TCP ports become [net] rules with exactly the ports seen; UDP is a comment", () => {
  const probe = host([], []);
  const l = log([
    { op: "connect", port: 8080, syscall: "connect", count: 3 },
    { op: "bind", port: 9000, syscall: "bind", count: 1 },
    { op: "connect", port: 9000, syscall: "connect", count: 1 },
    {
      op: "socket",
      socket: "inet/dgram",
      port: 53,
      syscall: "sendto",
      count: 2,
    },
    { op: "socket", socket: "netlink", syscall: "socket", count: 1 },
  ]);
  const learned = learnPolicy(l, ctx(probe));
  assertLintsClean(learned.toml, probe);
  assert.deepEqual(learned.net.map((r) => [r.port, r.rights]), [
    [8080, ["connect_tcp"]],
    [9000, ["bind_tcp", "connect_tcp"]],
  ]);
  const v = validatePolicy({ name: "x", text: learned.toml }, {});
  assert.deepEqual(
    v.policy?.net?.rule?.map((r) => r.port),
    [8080, 9000],
  );
  assert.match(
    learned.toml,
    /# connected to 3 times\n {2}\[\[net\.rule\]\]\n {2}port = 8080/,
  );
  assert.match(
    learned.toml,
    /# inet\/dgram socket used 2 times \(port 53\): Landlock does not restrict it/,
  );
  assert.match(learned.toml, /# netlink socket used 1 time:/);
});

Deno.test("a cut-short run and a full record say so at the top", () => {
  const learned = learnPolicy(
    log([], { cutShort: true, dropped: 12 }),
    ctx(host([], [])),
  );
  assert.match(learned.toml, /^# CUT SHORT: the run was killed/m);
  assert.match(
    learned.toml,
    /^# INCOMPLETE: the record was full; 12 more distinct accesses were not kept\.$/m,
  );
  assertLintsClean(learned.toml, host([], []));
});

Deno.test("many files read in one directory become the directory; /etc stays one by one", () => {
  const data = Array.from({ length: 20 }, (_, i) => `/srv/data/f${i}`);
  const etc = Array.from({ length: 12 }, (_, i) => `/etc/conf${i}`);
  const certs = Array.from(
    { length: 12 },
    (_, i) => `/etc/ssl/certs/c${i}.pem`,
  );
  const few = ["/srv/other/a", "/srv/other/b"];
  const probe = host([], [...data, ...etc, ...certs, ...few]);
  const learned = learnPolicy(
    log([...data, ...etc, ...certs, ...few].map((p) => acc("read", p))),
    ctx(probe),
  );
  assertLintsClean(learned.toml, probe);
  const rules = Object.keys(rulesOf(learned.toml));
  assert.ok(rules.includes("/srv/data"));
  assert.ok(rules.includes("/etc/ssl/certs"));
  assert.ok(rules.includes("/srv/other/a") && rules.includes("/srv/other/b"));
  for (const e of etc) assert.ok(rules.includes(e), e);
  assert.match(learned.toml, /# 20 files read under \/srv\/data\n/);
});

Deno.test("a rule an ancestor rule covers is dropped, its evidence kept", () => {
  // /usr/lib/x (depth 3) is a group; a listing of /usr/lib/x/y/z is beneath it.
  const probe = host(["/usr/lib/x/y/z", CWD, `${CWD}/sub`], [`${CWD}/sub/f`]);
  const learned = learnPolicy(
    log([
      acc("list", "/usr/lib/x/y/z"),
      acc("read", "/usr/lib/x/y/z/f"),
      acc("read", `${CWD}/sub/f`),
      acc("list", `${CWD}/sub`),
    ]),
    ctx(probe),
  );
  assertLintsClean(learned.toml, probe);
  assert.deepEqual(
    Object.keys(rulesOf(learned.toml)).sort(),
    [
      CWD,
      "/usr/lib/x",
    ].sort(),
  );
});

Deno.test("with a base, only what the base does not allow is learned, as extends + fs_rule", async () => {
  const base = await loadPolicy(readNamedPolicy("ci-default"));
  const plan = resolvedBase(base);
  const { log: l, probe } = pythonRun();
  l.accesses.push(
    acc("create", "/tmp/scratch.txt"),
    { op: "connect", port: 443, syscall: "connect", count: 1 },
  );
  const learned = learnPolicy(
    l,
    ctx(probe, { base: { ref: "ci-default", plan } }),
  );
  assert.match(learned.toml, /^extends = "ci-default"$/m);
  assert.doesNotMatch(learned.toml, /\[\[fs_layer\]\]|\[net\]/);
  // ci-default reads and executes everywhere and writes /tmp, /var/tmp and
  // /dev/null: only ~/.npm and the working directory are beyond it (the
  // working directory too is within it in a checkout under /tmp).
  const cwdInBase = /^\/(var\/)?tmp(\/|$)/.test(CWD);
  assert.deepEqual(
    learned.fs.map((r) => r.path),
    [`${HOME}/.npm`, ...(cwdInBase ? [] : [CWD])].sort(),
  );
  assert.ok(
    learned.fs[0].rights.every((r) =>
      !["read_file", "read_dir", "execute"].includes(r)
    ),
  );
  assert.equal(learned.net.length, 0);
  assert.match(learned.toml, /# the base does not restrict TCP/);
  assertLintsClean(learned.toml, probe);
  // The merged result keeps every base rule and layer (it only adds).
  const v = validatePolicy({ name: "x", text: learned.toml }, {
    resolve: true,
  });
  assert.ok(v.policy);
  assert.equal(v.policy.fs_layer?.length, 1);
  const merged = v.policy.fs_layer![0];
  assert.deepEqual(
    merged.handled_access_fs,
    base.fs_layer![0].handled_access_fs,
  );
  for (const r of base.fs_layer![0].rule!) {
    assert.ok(
      merged.rule!.some((m) =>
        m.path === r.path && m.allowed_access.join() === r.allowed_access.join()
      ),
    );
  }
  assert.deepEqual(v.policy.env, base.env);
});

Deno.test("with a base that handles TCP, only ports it refuses get net_rule", async () => {
  const plan = resolvedBase(await loadPolicy(readNamedPolicy("net-fetch")));
  const learned = learnPolicy(
    log([
      { op: "connect", port: 443, syscall: "connect", count: 1 },
      { op: "connect", port: 8443, syscall: "connect", count: 1 },
    ]),
    ctx(host([], []), { base: { ref: "net-fetch", plan } }),
  );
  assert.deepEqual(learned.net.map((r) => r.port), [8443]);
  assert.match(
    learned.toml,
    /\[\[net_rule\]\]\nport = 8443\nallowed_access = \["connect_tcp"\]/,
  );
  assertLintsClean(learned.toml, host([], []));
});

Deno.test("10,000 distinct paths in one directory make one rule, quickly", () => {
  const files = Array.from({ length: 10_000 }, (_, i) => `/srv/many/f${i}`);
  const probe = host([], files);
  const t = performance.now();
  const learned = learnPolicy(
    log(files.map((p) => acc("read", p))),
    ctx(probe),
  );
  assert.ok(performance.now() - t < 5000);
  assert.deepEqual(learned.fs.map((r) => r.path), ["/srv/many"]);
  assert.match(learned.toml, /10000 files read under \/srv\/many/);
});

Deno.test("rules are never broader than the run's own directories", () => {
  const { log: l, probe } = pythonRun();
  const learned = learnPolicy(l, ctx(probe));
  for (const r of learned.fs) {
    assert.ok(r.path !== "/" && r.path !== "/usr" && r.path !== HOME, r.path);
    if (isBeneath(r.path, "/etc")) assert.deepEqual(r.rights, ["read_file"]);
  }
});

Deno.test("a path cannot break out of its comment or its string (no injected rules)", () => {
  // A command controls the names it creates; one with a newline must not
  // turn the rest of its name into TOML.
  const evil =
    `${CWD}/x\n[[fs_layer.rule]]\npath = "/"\nallowed_access = ["all"]\n#`;
  const evilEtc =
    `/etc/y\n[[fs_layer.rule]]\npath = "/"\nallowed_access = ["all"]`;
  const probe = host([CWD], [evil, evilEtc, `/etc/z\u007f`]);
  const learned = learnPolicy(
    log([
      acc("read", evil),
      acc("read", evilEtc),
      acc("read", `/etc/z\u007f`),
      { op: "socket", socket: "inet\n[net]", syscall: "socket", count: 1 },
    ]),
    ctx(probe, { argv: ["sh", "-c", "a\nb"] }),
  );
  const rules = rulesOf(learned.toml);
  assert.deepEqual(
    Object.keys(rules).sort(),
    [CWD, evilEtc, `/etc/z\u007f`].sort(),
    learned.toml,
  );
  assert.deepEqual(rules[evilEtc], ["read_file"]);
  for (const line of learned.toml.split("\n")) {
    assert.doesNotMatch(line, /^\s*path = "\/"$/, learned.toml);
  }
});

Deno.test("a path with ${ is left out (it would expand to another path)", () => {
  const odd = `/srv/\${HOME}/f`;
  const probe = host([], [odd, "/srv/ok"]);
  const learned = learnPolicy(
    log([acc("read", odd), acc("read", "/srv/ok")]),
    ctx(probe),
  );
  assert.deepEqual(learned.fs.map((r) => r.path), ["/srv/ok"]);
  assert.match(learned.toml, /# 1 path containing "\$\{" was left out/);
});

Deno.test("the observer's own rights for an access win over those derived from its operation", () => {
  const probe = host([], ["/etc/app.conf", "/srv/fifo-dir/keep"]);
  const learned = learnPolicy(
    log([
      // An open for writing without O_TRUNC: no truncate.
      { ...acc("write", "/etc/app.conf"), rights: ["write_file"] },
    ]),
    ctx(probe),
  );
  assert.deepEqual(learned.fs.map((r) => [r.path, r.rights]), [
    ["/etc/app.conf", ["write_file"]],
  ]);
});
