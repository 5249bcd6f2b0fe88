import assert from "node:assert/strict";
import {
  decideFsconfig,
  decideFsmount,
  decideFsopen,
  decideMount,
  decideMoveMount,
  decideOpenTree,
  decideSetattr,
  type Issued,
  type MountCall,
  type MountGrants,
} from "./mounts.ts";

const G: MountGrants = {
  tmpfs: ["/mnt/scratch"],
  bind: [
    { source: "/data", target: "/mnt/data", read_only: true },
    { source: "/cache", target: "/mnt/cache", read_only: false },
  ],
  objects: [
    { name: "work", fs_type: "tmpfs", attach: ["/mnt/work"], attrs: 2 | 4 },
  ],
  errno: 1,
};

const deny = { act: "deny", errno: 1 };
const TABLE: [string, MountCall, unknown][] = [
  ["a tmpfs on a declared target", {
    op: "mount",
    source: "none",
    path: "/mnt/scratch",
    fstype: "tmpfs",
    flags: 0,
    data: "size=16m,mode=0700",
  }, {
    act: "helper",
    op: "tmpfs",
    target: "/mnt/scratch",
    flags: 0,
    read_only: false,
    data: "size=16m,mode=0700",
  }],
  ["a read-only noexec tmpfs keeps those flags", {
    op: "mount",
    path: "/mnt/scratch/",
    fstype: "tmpfs",
    flags: 1 | 8 | 0xc0ed0000,
  }, {
    act: "helper",
    op: "tmpfs",
    target: "/mnt/scratch",
    flags: 9,
    read_only: false,
    data: undefined,
  }],
  ["a tmpfs elsewhere", {
    op: "mount",
    path: "/mnt/other",
    fstype: "tmpfs",
    flags: 0,
  }, deny],
  ["a proc on a tmpfs target", {
    op: "mount",
    path: "/mnt/scratch",
    fstype: "proc",
    flags: 0,
  }, deny],
  ["a tmpfs with an unknown option", {
    op: "mount",
    path: "/mnt/scratch",
    fstype: "tmpfs",
    flags: 0,
    data: "huge=always",
  }, deny],
  ["a tmpfs with MS_REMOUNT", {
    op: "mount",
    path: "/mnt/scratch",
    fstype: "tmpfs",
    flags: 32,
  }, deny],
  ["a relative target", {
    op: "mount",
    path: "mnt/scratch",
    fstype: "tmpfs",
    flags: 0,
  }, deny],
  ["a declared bind pair (read-only as declared)", {
    op: "mount",
    source: "/data",
    path: "/mnt/data",
    flags: 4096,
  }, {
    act: "helper",
    op: "bind",
    source: "/data",
    target: "/mnt/data",
    flags: 0,
    read_only: true,
  }],
  ["a recursive declared bind", {
    op: "mount",
    source: "/cache",
    path: "/mnt/cache",
    flags: 4096 | 16384,
  }, {
    act: "helper",
    op: "bind",
    source: "/cache",
    target: "/mnt/cache",
    flags: 0,
    read_only: false,
  }],
  ["a bind of another source onto a declared target", {
    op: "mount",
    source: "/etc",
    path: "/mnt/data",
    flags: 4096,
  }, deny],
  ["a bind with remount", {
    op: "mount",
    source: "/data",
    path: "/mnt/data",
    flags: 4096 | 32,
  }, deny],
  ["a move", {
    op: "mount",
    source: "/mnt/data",
    path: "/mnt/cache",
    flags: 8192,
  }, deny],
  ["unmounting a declared target", {
    op: "umount",
    path: "/mnt/scratch",
    flags: 2,
  }, {
    act: "helper",
    op: "umount",
    target: "/mnt/scratch",
    flags: 2,
    read_only: false,
  }],
  ["unmounting anything else", { op: "umount", path: "/", flags: 0 }, deny],
  [
    "unmounting with MNT_FORCE",
    { op: "umount", path: "/mnt/data", flags: 1 },
    deny,
  ],
];

for (const [name, call, expected] of TABLE) {
  Deno.test(`brokered mounts: ${name}`, () => {
    assert.deepEqual(decideMount(call, G), expected);
  });
}

const ctx: Issued = { kind: "context", objects: G.objects, created: false };
const named: Issued = { ...ctx, name: "work" };
const created: Issued = { ...named, created: true };
const tree: Issued = { kind: "tree", bind: G.bind[0] };
const mounted: Issued = { kind: "mount", object: G.objects[0] };

Deno.test("open_tree: only a clone of a declared bind source", () => {
  assert.equal(decideOpenTree("/data", 1 | 0o2000000, G).act, "helper");
  assert.deepEqual(decideOpenTree("/etc", 1, G), deny);
  assert.deepEqual(decideOpenTree("/data", 0, G), deny, "no OPEN_TREE_CLONE");
});

Deno.test("move_mount: a broker-made mount, to its declared target only", () => {
  assert.deepEqual(decideMoveMount("", "/mnt/data", 4, tree, G), {
    act: "helper",
    op: "move_mount",
    target: "/mnt/data",
    flags: 0,
    read_only: true,
  });
  assert.deepEqual(decideMoveMount("", "/mnt/cache", 4, tree, G), deny);
  assert.equal(decideMoveMount("", "/mnt/work", 4, mounted, G).act, "helper");
  assert.deepEqual(
    decideMoveMount("", "/mnt/work", 4, undefined, G),
    deny,
    "not ours",
  );
  assert.deepEqual(decideMoveMount("x", "/mnt/work", 4, mounted, G), deny);
});

Deno.test("fsopen, fsconfig, fsmount: exactly the declared object", () => {
  assert.equal(decideFsopen("tmpfs", 1, G).act, "helper");
  assert.deepEqual(decideFsopen("proc", 0, G), deny);
  assert.equal(decideFsconfig(1, "source", "work", ctx, G).act, "helper");
  assert.deepEqual(decideFsconfig(1, "source", "other", ctx, G), deny);
  assert.equal(decideFsconfig(1, "size", "16m", named, G).act, "helper");
  assert.deepEqual(decideFsconfig(1, "huge", "always", named, G), deny);
  assert.deepEqual(decideFsconfig(3, "source", "/dev/sda", named, G), deny);
  assert.equal(
    decideFsconfig(6, undefined, undefined, ctx, G).act,
    "helper",
    "one candidate",
  );
  assert.deepEqual(decideFsmount(0, 2 | 4, named, G), deny, "not created");
  assert.equal(decideFsmount(1, 2 | 4, created, G).act, "helper");
  assert.deepEqual(
    decideFsmount(0, 2, created, G),
    deny,
    "attrs must match exactly",
  );
});

Deno.test("mount_setattr adds restrictions, never clears required ones", () => {
  assert.equal(decideSetattr("/mnt/data", 0, [1, 0, 0, 0], G).act, "helper");
  assert.deepEqual(
    decideSetattr("/mnt/data", 0, [0, 1, 0, 0], G),
    deny,
    "clear ro of a ro bind",
  );
  assert.equal(decideSetattr("/mnt/cache", 0, [0, 1, 0, 0], G).act, "helper");
  assert.deepEqual(
    decideSetattr("/mnt/work", 0, [0, 2, 0, 0], G),
    deny,
    "clear nosuid of an object",
  );
  assert.deepEqual(decideSetattr("/etc", 0, [1, 0, 0, 0], G), deny);
  assert.deepEqual(
    decideSetattr("/mnt/data", 0, [1, 0, 0x40000, 0], G),
    deny,
    "propagation",
  );
});
