/**
 * The one identity switch (C's ll_resolve_as, through syscalls/identity.ts):
 * a root process resolves paths as another user on the calling thread only,
 * and gets its own identity back afterwards, even when the work throws.
 */
import assert from "node:assert/strict";
import { errno } from "../syscalls/errno.ts";
import {
  reachAs,
  setThreadFsIds,
  threadFsIds,
  withFsIdentity,
} from "../syscalls/identity.ts";

const root = Deno.uid() === 0;

/** A test that needs root (or not), with the reason in its name when ignored. */
function needs(
  asRoot: boolean,
  name: string,
): { name: string; ignore: boolean } {
  const why = asRoot
    ? "needs root: only root may act as another user"
    : "needs an unprivileged user";
  return root === asRoot
    ? { name, ignore: false }
    : { name: `${name} [ignored: ${why}]`, ignore: true };
}
const NOBODY = { uid: 65534, gid: 65534, groups: [] };

/** A directory only root may enter, and one anyone may. */
function tree(): { dir: string; closed: string; open: string } {
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-identity-" });
  Deno.chmodSync(dir, 0o755);
  Deno.mkdirSync(`${dir}/closed/inner`, { recursive: true });
  Deno.chmodSync(`${dir}/closed`, 0o700);
  Deno.mkdirSync(`${dir}/open`, { mode: 0o755 });
  Deno.chmodSync(`${dir}/open`, 0o755);
  return { dir, closed: `${dir}/closed/inner`, open: `${dir}/open` };
}

Deno.test({
  ...needs(
    true,
    "reachAs opens as the other user: EACCES where it may not, 0 where it may; root again after",
  ),
  fn() {
    const before = threadFsIds();
    const { dir, closed, open } = tree();
    try {
      assert.deepEqual(reachAs(NOBODY, [closed, open, `${open}/missing`]), [
        errno.EACCES,
        0,
        errno.ENOENT,
      ]);
      assert.deepEqual(threadFsIds(), before);
      // and as root itself, both are reachable
      assert.deepEqual(reachAs(before, [closed, open]), [0, 0]);
    } finally {
      Deno.removeSync(dir, { recursive: true });
    }
  },
});

Deno.test({
  ...needs(true, "withFsIdentity sets the identity back when the work throws"),
  fn() {
    const before = threadFsIds();
    assert.throws(
      () =>
        withFsIdentity(NOBODY, () => {
          assert.deepEqual(threadFsIds(), NOBODY);
          throw new Error("boom");
        }),
      /boom/,
    );
    assert.deepEqual(threadFsIds(), before);
  },
});

Deno.test({
  ...needs(
    false,
    "a user may not act as root: the switch is refused with EPERM",
  ),
  fn() {
    const before = threadFsIds();
    assert.throws(
      () => setThreadFsIds({ uid: 0, gid: 0, groups: [0] }),
      (e: Error) => e.message.includes("EPERM"),
    );
    assert.deepEqual(threadFsIds(), before);
  },
});
