/**
 * The byte layouts in ffi/layout.ts agree with the C compiler's view of the
 * kernel headers installed here and of ffi/landlockd.h, and so does every
 * number ffi/layout.ts shares with ffi/landlockd.h.
 */
import assert from "node:assert/strict";
import * as layout from "../ffi/layout.ts";
import { STAMP_FLAGS, STAMP_HEAD_SIZE } from "../ffi/library.ts";
import { ROOT } from "./helpers.ts";
import { requiring } from "./fresh_needs.ts";

interface CLayout {
  struct: string;
  size?: number;
  fields?: Record<string, number>;
  missing?: boolean;
}

const TS: Record<string, Record<string, number>> = {
  landlock_ruleset_attr: layout.landlockRulesetAttr,
  landlock_path_beneath_attr: layout.landlockPathBeneathAttr,
  landlock_net_port_attr: layout.landlockNetPortAttr,
  sock_fprog: layout.sockFprog,
  ll_spawn_req: layout.spawnReq,
  seccomp_notif: layout.seccompNotif,
  seccomp_notif_resp: layout.seccompNotifResp,
  seccomp_notif_addfd: layout.seccompNotifAddfd,
  open_how: layout.openHow,
  iovec: layout.iovec,
  msghdr: layout.msghdr,
  mmsghdr: layout.mmsghdr,
  pollfd: layout.pollfd,
  ll_broker: layout.brokerState,
  ll_mount: layout.llMount,
  ll_late_rule: layout.lateRule,
  ll_mount_req: layout.mountReq,
};

const out = new Deno.Command(`${ROOT}ffi/build/layout_check`).outputSync();
const lines = new TextDecoder().decode(out.stdout).trim().split("\n")
  .map((l) => JSON.parse(l));
const C: CLayout[] = lines.filter((l) => "struct" in l);
const CONSTANTS: Record<string, number> =
  lines.find((l) => "constants" in l)?.constants ?? {};
const KERNEL: Record<string, number> =
  lines.find((l) => "kernel" in l)?.kernel ?? {};

for (const c of C) {
  Deno.test({
    // Debian 12's headers predate Landlock ABI 4; the net rule tests prove
    // a missing struct's layout against the running kernel instead.
    ...requiring(
      `struct ${c.struct} matches the C compiler's layout`,
      c.missing ? "not in the installed kernel headers" : undefined,
    ),
    fn: () => layoutMatches(c),
  });
}

function layoutMatches(c: CLayout): void {
  const ts = TS[c.struct];
  assert.ok(ts, `no TypeScript layout for ${c.struct}`);
  for (const [field, offset] of Object.entries(c.fields!)) {
    assert.equal(ts[field], offset, `${c.struct}.${field}`);
  }
  const known = Object.keys(c.fields!);
  const newer = Object.keys(ts).filter((k) =>
    k !== "size" && !known.includes(k)
  );
  if (newer.length === 0) {
    assert.equal(ts.size, c.size, `sizeof(struct ${c.struct})`);
  } else {
    // Older headers stop at an earlier ABI: our struct extends theirs.
    assert.ok(
      ts.size > c.size!,
      `${c.struct} should extend the headers' ${c.size} bytes`,
    );
    for (const f of newer) {
      assert.ok(ts[f] >= c.size!, `${c.struct}.${f} lies past the old end`);
    }
    console.log(`  ${c.struct}: headers lack ${newer.join(", ")}`);
  }
}

Deno.test("landlock_path_beneath_attr is packed into 12 bytes", () => {
  assert.equal(layout.landlockPathBeneathAttr.size, 12);
  assert.equal(
    C.find((c) => c.struct === "landlock_path_beneath_attr")?.size,
    12,
  );
});

/** Every shared number, by its C name, as ffi/layout.ts has it. */
function tsConstants(): Record<string, number> {
  const ts: Record<string, number> = { ...layout.limits };
  layout.spawnSteps.forEach((name, i) => {
    ts[`LL_STEP_${name.toUpperCase()}`] = i;
  });
  for (const [k, v] of Object.entries(layout.spawnOut)) {
    ts[`LL_OUT_${k.toUpperCase()}`] = v;
  }
  ts.LL_SPAWN_NO_NEW_PRIVS = layout.SPAWN_NO_NEW_PRIVS;
  ts.LL_SPAWN_MOUNT_HELPER = layout.SPAWN_MOUNT_HELPER;
  ts.LL_SPAWN_SET_IDS = layout.SPAWN_SET_IDS;
  ts.LL_MOUNT = layout.MOUNT_OPS.mount;
  ts.LL_MOUNT_RDONLY = layout.MOUNT_OPS.rdonly;
  ts.LL_PIVOT = layout.MOUNT_OPS.pivot;
  for (const [k, v] of Object.entries(layout.MOUNT_REQ_OPS)) {
    ts[`LL_REQ_${k.toUpperCase()}`] = v;
  }
  // ffi/library.ts holds its own (it imports nothing, not even layout.ts).
  ts.LL_STAMP_OWN = STAMP_FLAGS.own;
  ts.LL_STAMP_OWN_ONLY = STAMP_FLAGS["own-only"];
  ts.LL_STAMP_HEAD_SIZE = STAMP_HEAD_SIZE;
  return ts;
}

Deno.test("every number shared with ffi/landlockd.h matches the C", () => {
  assert.ok(Object.keys(CONSTANTS).length > 0, "layout_check printed none");
  // Both ways: a C name TypeScript lacks, or a TypeScript name C lacks,
  // fails as surely as a differing value.
  assert.deepEqual(tsConstants(), CONSTANTS);
});

Deno.test("the seccomp notification numbers match the kernel headers", () => {
  assert.ok(Object.keys(KERNEL).length > 0, "layout_check printed none");
  for (const [name, value] of Object.entries(layout.seccompIoctls)) {
    const c = KERNEL[name];
    if (c === undefined) {
      // Headers older than Linux 5.9 lack SECCOMP_IOCTL_NOTIF_ADDFD.
      assert.equal(name, "SECCOMP_IOCTL_NOTIF_ADDFD", `${name} not printed`);
      console.log(`  the headers lack ${name}`);
      continue;
    }
    // Headers before Linux 5.17 define ID_VALID with _IOR (0x80082102), a
    // number the kernel still accepts; TypeScript uses the fixed _IOW one.
    if (name === "SECCOMP_IOCTL_NOTIF_ID_VALID" && c === 0x80082102) continue;
    assert.equal(value, c, name);
  }
  assert.deepEqual(
    Object.keys(KERNEL).filter((k) => !(k in layout.seccompIoctls)),
    [],
  );
});
