/**
 * A thread of landlockd that maps the C library after the first one (a
 * Worker: the daemon's broker threads, the egress proxy) takes the mapping
 * the process already has. It used to look for it as any fd in
 * /proc/self/fd that reads "/memfd:liblandlockd.so (deleted)" with the
 * library's size: a root daemon holds fds its clients send (SCM_RIGHTS,
 * kept while their frame is half-read), so nobody sent one of their own,
 * filled with a shared object of theirs (libmemfd_evil.c) padded to the
 * library's size (libmemfd_hold.py), and the daemon's next broker thread
 * loaded it: its constructor wrote "uid 0". Now a memfd counts only when
 * this process has it mapped (/proc/self/maps, by device and inode).
 */
import assert from "node:assert/strict";
import { needs, requiring } from "../fresh_needs.ts";
import {
  landlockd,
  policyFile,
  python3,
  RUN_ROOT,
  tempDir,
} from "../helpers.ts";
import { SERVE_FOR_USERS, startDaemon } from "../daemon_helpers.ts";

const HERE = new URL("./", import.meta.url).pathname;
const LIBRARY = `${RUN_ROOT}ffi/build/liblandlockd.so`;

/** libmemfd_evil.c built to write `marker` when it is loaded. */
async function evilObject(marker: string): Promise<string> {
  const out = `${tempDir("attack-")}/evil.so`;
  const r = await new Deno.Command("gcc", {
    args: [
      "-shared",
      "-fPIC",
      "-O1",
      "-Wall",
      "-Werror",
      `-DMARKER=${JSON.stringify(marker)}`,
      "-o",
      out,
      `${HERE}libmemfd_evil.c`,
    ],
    stderr: "piped",
  }).output();
  assert.ok(r.success, new TextDecoder().decode(r.stderr));
  Deno.chmodSync(out, 0o644);
  Deno.chmodSync(out.slice(0, out.lastIndexOf("/")), 0o755);
  return out;
}

/** The fds of `pid` that read as a memfd named like the library's copy. */
function libraryMemfds(pid: number): string[] {
  const out: string[] = [];
  for (const e of Deno.readDirSync(`/proc/${pid}/fd`)) {
    try {
      const link = Deno.readLinkSync(`/proc/${pid}/fd/${e.name}`);
      if (link === "/memfd:liblandlockd.so (deleted)") out.push(e.name);
    } catch {
      // closed meanwhile
    }
  }
  return out;
}

/** A policy with a broker, so the run needs a broker thread (a Worker). */
const BROKERED = `version = 1
[[fs_layer]]
handled_access_fs = ["make_block"]

[broker]
allow_read = ["/etc/hostname"]
`;

Deno.test({
  ...requiring(
    "attack: a memfd another user sends a root daemon, named and sized like its C library's copy, is never loaded by its next broker thread",
    needs.root(),
  ),
  async fn() {
    const markerDir = tempDir("memfd-marker-");
    Deno.chmodSync(markerDir, 0o700);
    const marker = `${markerDir}/planted`;
    const evil = await evilObject(marker);
    // A fresh daemon: no broker thread yet.
    const d = await startDaemon({ args: SERVE_FOR_USERS });
    const hold = new Deno.Command("setpriv", {
      args: [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        python3(),
        `${HERE}libmemfd_hold.py`,
        d.socket,
        evil,
        LIBRARY,
        "60",
      ],
      stdout: "piped",
      stderr: "piped",
    }).spawn();
    try {
      const reader = hold.stdout.getReader();
      const { value } = await reader.read();
      assert.equal(new TextDecoder().decode(value).trim(), "held");
      reader.releaseLock();
      // The precondition: the daemon holds nobody's memfd (once it has
      // read the byte).
      for (let i = 0; i < 200 && !libraryMemfds(d.pid).length; i++) {
        await new Promise((r) => setTimeout(r, 10));
      }
      assert.equal(libraryMemfds(d.pid).length, 1);

      // nobody's own run needs the daemon's first broker thread.
      const r = await landlockd([
        "run",
        "--socket",
        d.socket,
        "--policy-file",
        policyFile(BROKERED),
        "--",
        "/bin/echo",
        "hi",
      ], { as: "nobody" });
      // Before the fix: the marker held "uid 0", the broker thread failed
      // (the planted object lacks landlockd's symbols) and the run with it.
      assert.throws(() => Deno.statSync(marker), Deno.errors.NotFound);
      assert.equal(r.stderr, "");
      assert.equal(r.stdout, "hi\n");
      assert.equal(r.code, 0);
      // The daemon still holds the memfd; it just never loads it.
      assert.equal(libraryMemfds(d.pid).length, 1);
    } finally {
      hold.kill("SIGKILL");
      await hold.status;
      await hold.stdout.cancel().catch(() => {});
      await hold.stderr.cancel();
      try {
        d.proc.kill("SIGTERM");
      } catch {
        // before the fix, the failed broker thread ended the daemon
      }
      await d.exited();
    }
  },
});
