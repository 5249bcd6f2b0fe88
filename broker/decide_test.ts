import assert from "node:assert/strict";
import {
  type Action,
  decide,
  type Resolved,
  uniformBeneath,
} from "./decide.ts";
import type { Grants } from "./paths.ts";

const G: Grants = {
  files: new Map([
    ["/etc/resolv.conf", { canonical: "/run/resolv.conf", writable: false }],
    ["/var/log/ci.log", { canonical: "/var/log/ci.log", writable: true }],
  ]),
  scratch: ["/s"],
  export: ["/e"],
};

const O_RDONLY = 0, O_WRONLY = 1, O_RDWR = 2, O_CREAT = 0o100, O_TRUNC = 0o1000;
const deny: Action = { act: "deny", errno: 13 };

const TABLE: [string, Resolved, Action][] = [
  ["undeclared open continues", {
    op: "open",
    path: "/usr/lib/x.so",
    flags: O_RDONLY,
  }, { act: "continue" }],
  ["read of allow_read", {
    op: "open",
    path: "/etc/resolv.conf",
    flags: O_RDONLY,
  }, { act: "open_file", canonical: "/run/resolv.conf" }],
  ["write of allow_read", {
    op: "open",
    path: "/etc/resolv.conf",
    flags: O_WRONLY,
  }, deny],
  ["truncate of allow_read", {
    op: "open",
    path: "/etc/resolv.conf",
    flags: O_RDONLY | O_TRUNC,
  }, deny],
  ["write of allow_write", {
    op: "open",
    path: "/var/log/ci.log",
    flags: O_RDWR | O_TRUNC,
  }, { act: "open_file", canonical: "/var/log/ci.log" }],
  ["mkdir on a declared file", { op: "mkdir", path: "/var/log/ci.log" }, deny],
  ["create in scratch", {
    op: "open",
    path: "/s/a/new",
    flags: O_WRONLY | O_CREAT,
  }, { act: "open_beneath", at: { root: "/s", rel: "a/new" } }],
  ["read the scratch root", { op: "open", path: "/s", flags: O_RDONLY }, {
    act: "open_beneath",
    at: { root: "/s", rel: "" },
  }],
  ["create the scratch root", {
    op: "open",
    path: "/s",
    flags: O_WRONLY | O_CREAT,
  }, deny],
  ["remove the scratch root", { op: "unlink", path: "/s" }, deny],
  ["mkdir in scratch", { op: "mkdir", path: "/s/d" }, {
    act: "mkdir",
    at: { root: "/s", rel: "d" },
  }],
  ["symlink in scratch", { op: "symlink", path: "/s/l" }, {
    act: "symlink",
    at: { root: "/s", rel: "l" },
  }],
  ["open in export", { op: "open", path: "/e/x", flags: O_RDONLY }, deny],
  ["mkdir in export", { op: "mkdir", path: "/e/d" }, deny],
  ["rename within scratch", {
    op: "rename",
    oldpath: "/s/a",
    newpath: "/s/b",
    flags: 0,
  }, {
    act: "rename",
    from: { root: "/s", rel: "a" },
    to: { root: "/s", rel: "b" },
  }],
  ["publish: rename scratch to export", {
    op: "rename",
    oldpath: "/s/a",
    newpath: "/e/a",
    flags: 0,
  }, {
    act: "rename",
    from: { root: "/s", rel: "a" },
    to: { root: "/e", rel: "a" },
  }],
  ["publish: link scratch to export", {
    op: "link",
    oldpath: "/s/a",
    newpath: "/e/a",
    flags: 0,
  }, {
    act: "link",
    from: { root: "/s", rel: "a" },
    to: { root: "/e", rel: "a" },
  }],
  ["rename out of scratch elsewhere", {
    op: "rename",
    oldpath: "/s/a",
    newpath: "/tmp/a",
    flags: 0,
  }, deny],
  ["rename from export back", {
    op: "rename",
    oldpath: "/e/a",
    newpath: "/s/a",
    flags: 0,
  }, deny],
  ["rename into scratch from outside", {
    op: "rename",
    oldpath: "/tmp/a",
    newpath: "/s/a",
    flags: 0,
  }, deny],
  ["rename the scratch root", {
    op: "rename",
    oldpath: "/s",
    newpath: "/e/s",
    flags: 0,
  }, deny],
  ["rename onto the export root", {
    op: "rename",
    oldpath: "/s/a",
    newpath: "/e",
    flags: 0,
  }, deny],
  ["exchange with export", {
    op: "rename",
    oldpath: "/s/a",
    newpath: "/e/a",
    flags: 2,
  }, deny],
  ["link following a symlink", {
    op: "link",
    oldpath: "/s/l",
    newpath: "/s/m",
    flags: 0x400,
  }, deny],
  ["undeclared rename continues", {
    op: "rename",
    oldpath: "/tmp/a",
    newpath: "/tmp/b",
    flags: 0,
  }, { act: "continue" }],
];

for (const [name, req, expected] of TABLE) {
  Deno.test(`broker decides: ${name}`, () => {
    assert.deepEqual(decide(req, G), expected);
  });
}

/** The same grants, narrowed by `[[broker.addfd]]` rules. */
const N: Grants = {
  ...G,
  addfd: [
    // canonical target of /etc/resolv.conf, no mode: what the grant allows
    { action: "open", targets: ["/run"] },
    { action: "open", targets: ["/var/log/ci.log"], mode: "read" },
    { action: "scratch_open", targets: ["/s/ro"], mode: "read" },
    { action: "scratch_open", targets: ["/s/rw"], mode: "write" },
  ],
};

const NARROWED: [string, Resolved, Action][] = [
  ["addfd: read of a file covered by its canonical path", {
    op: "open",
    path: "/etc/resolv.conf",
    flags: O_RDONLY,
  }, { act: "open_file", canonical: "/run/resolv.conf" }],
  ["addfd: a rule never widens allow_read", {
    op: "open",
    path: "/etc/resolv.conf",
    flags: O_WRONLY,
  }, deny],
  ['addfd: mode = "read" allows a read fd', {
    op: "open",
    path: "/var/log/ci.log",
    flags: O_RDONLY,
  }, { act: "open_file", canonical: "/var/log/ci.log" }],
  ['addfd: mode = "read" refuses a write fd allow_write grants', {
    op: "open",
    path: "/var/log/ci.log",
    flags: O_RDWR,
  }, deny],
  ['addfd: mode = "read" refuses O_TRUNC', {
    op: "open",
    path: "/var/log/ci.log",
    flags: O_RDONLY | O_TRUNC,
  }, deny],
  ["addfd: scratch open under a read rule", {
    op: "open",
    path: "/s/ro/a",
    flags: O_RDONLY,
  }, {
    act: "open_beneath",
    at: { root: "/s", rel: "ro/a" },
    noSymlinks: true,
  }],
  ["addfd: scratch create under a read rule", {
    op: "open",
    path: "/s/ro/a",
    flags: O_WRONLY | O_CREAT,
  }, deny],
  ["addfd: scratch create under a write rule", {
    op: "open",
    path: "/s/rw/a",
    flags: O_WRONLY | O_CREAT,
  }, {
    act: "open_beneath",
    at: { root: "/s", rel: "rw/a" },
    noSymlinks: true,
  }],
  ["addfd: scratch open no rule covers is refused", {
    op: "open",
    path: "/s/other",
    flags: O_RDONLY,
  }, deny],
  ["addfd: undeclared opens still continue", {
    op: "open",
    path: "/usr/lib/x.so",
    flags: O_RDONLY,
  }, { act: "continue" }],
  ["addfd: a hard link from a read-only into a writable place", {
    op: "link",
    oldpath: "/s/ro/f",
    newpath: "/s/rw/f",
    flags: 0,
  }, deny],
  ["addfd: a rename from a read-only into a writable place", {
    op: "rename",
    oldpath: "/s/ro/f",
    newpath: "/s/rw/f",
    flags: 0,
  }, deny],
  ["addfd: a directory renamed onto a rule's target", {
    op: "rename",
    oldpath: "/s/other",
    newpath: "/s/rw",
    flags: 0,
  }, deny],
  ["addfd: a rename within one writable place", {
    op: "rename",
    oldpath: "/s/rw/a",
    newpath: "/s/rw/b",
    flags: 0,
  }, {
    act: "rename",
    from: { root: "/s", rel: "rw/a" },
    to: { root: "/s", rel: "rw/b" },
  }],
  ["addfd: scratch mkdir is not an open", { op: "mkdir", path: "/s/ro/d" }, {
    act: "mkdir",
    at: { root: "/s", rel: "ro/d" },
  }],
];

for (const [name, req, expected] of NARROWED) {
  Deno.test(`broker decides: ${name}`, () => {
    assert.deepEqual(decide(req, N), expected);
  });
}

Deno.test("broker decides: addfd rules of other actions leave a declared file without an fd", () => {
  const only: Grants = {
    ...G,
    addfd: [{ action: "open", targets: ["/elsewhere"], mode: "write" }],
  };
  assert.deepEqual(
    decide({ op: "open", path: "/var/log/ci.log", flags: O_RDWR }, only),
    deny,
  );
  // Only mount-action rules (left out of the grants): no open fd either.
  assert.deepEqual(
    decide({ op: "open", path: "/etc/resolv.conf", flags: O_RDONLY }, {
      ...G,
      addfd: [],
    }),
    deny,
  );
});

Deno.test("broker decides: scratch opens follow symlinks only where addfd treats the root alike", () => {
  const g = (addfd: Grants["addfd"]): Grants => ({ ...G, addfd });
  const whole = { action: "scratch_open" as const, targets: ["/"] };
  assert.equal(uniformBeneath("/s", g([whole])), true);
  assert.equal(
    uniformBeneath("/s", g([{ ...whole, mode: "read" }])),
    true,
  );
  assert.equal(
    uniformBeneath(
      "/s",
      g([{ ...whole, mode: "read" }, {
        action: "scratch_open",
        targets: ["/s/rw"],
        mode: "write",
      }]),
    ),
    false,
  );
  assert.equal(
    uniformBeneath("/s", g([{ ...whole, targets: ["/s/part"] }])),
    false,
  );
  assert.deepEqual(
    decide({ op: "open", path: "/s/a", flags: O_RDWR }, g([whole])),
    { act: "open_beneath", at: { root: "/s", rel: "a" } },
  );
});
