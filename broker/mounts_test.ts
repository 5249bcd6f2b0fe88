import assert from "node:assert/strict";
import { decideMount, type MountCall, type MountGrants } from "./mounts.ts";

const G: MountGrants = {
  tmpfs: ["/mnt/scratch"],
  bind: [
    { source: "/data", target: "/mnt/data", read_only: true },
    { source: "/cache", target: "/mnt/cache", read_only: false },
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
