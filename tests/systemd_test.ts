/**
 * Socket activation: the daemon started by systemd-socket-activate (what a
 * socket unit does) runs commands through the socket it was passed; the
 * user units in systemd/ say what the docs promise.
 */

import assert from "node:assert/strict";
import { DENO_RUN, landlockd, ROOT, RUN_ROOT, tempDir } from "./helpers.ts";

function unit(name: string): Map<string, string[]> {
  const keys = new Map<string, string[]>();
  for (
    const line of Deno.readTextFileSync(`${ROOT}systemd/${name}`).split("\n")
  ) {
    const m = /^([A-Za-z]+)=(.*)$/.exec(line);
    if (m) keys.set(m[1], [...keys.get(m[1]) ?? [], m[2]]);
  }
  return keys;
}

Deno.test("systemd units: a 0600 socket in the user's runtime directory, a confined service that stops gracefully", () => {
  const socket = unit("landlockd.socket");
  assert.deepEqual(socket.get("ListenStream"), ["%t/landlockd.sock"]);
  assert.deepEqual(socket.get("SocketMode"), ["0600"]);
  assert.deepEqual(socket.get("DirectoryMode"), ["0700"]);
  const service = unit("landlockd.service");
  assert.match(service.get("ExecStart")![0], / serve --systemd$/);
  for (
    const [key, value] of Object.entries({
      NoNewPrivileges: "yes",
      KillMode: "mixed",
      LockPersonality: "yes",
      RestrictSUIDSGID: "yes",
      SystemCallArchitectures: "native",
    })
  ) {
    assert.deepEqual(service.get(key), [value], key);
  }
  assert.equal(service.has("ProtectSystem"), false);
});

Deno.test("systemd socket activation: serve --systemd takes the passed socket and runs a command through it", async () => {
  const dir = tempDir();
  Deno.chmodSync(dir, 0o700);
  const socket = `${dir}/landlockd.sock`;
  const audit = `${dir}/audit.jsonl`;
  const activator = new Deno.Command("systemd-socket-activate", {
    args: [
      "-l",
      socket,
      ...DENO_RUN,
      `${RUN_ROOT}main.ts`,
      "serve",
      "--systemd",
      "--audit-file",
      audit,
    ],
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  // The socket exists before the daemon does: that is the point.
  for (let i = 0; i < 200; i++) {
    try {
      if (Deno.statSync(socket).isSocket) break;
    } catch {
      // not yet
    }
    await new Promise((r) => setTimeout(r, 25));
  }
  const r = await landlockd([
    "run",
    "--socket",
    socket,
    "--policy",
    "ci-default",
    "--",
    "sh",
    "-c",
    "echo activated; exit 3",
  ]);
  assert.equal(r.code, 3, r.stderr);
  assert.equal(r.stdout, "activated\n");
  const status = await landlockd(["status", "--socket", socket]);
  assert.equal(status.code, 0, status.stderr);
  const s = JSON.parse(status.stdout);
  assert.equal(s.systemd, true);
  assert.equal(s.pid, activator.pid); // the activator execs the daemon
  const listen = Deno.readTextFileSync(audit).split("\n")
    .filter((l) => l).map((l) => JSON.parse(l))
    .find((e) => e.event === "daemon.listen");
  assert.equal(listen.systemd, true);
  activator.kill("SIGTERM");
  const out = await activator.output();
  assert.equal(out.code, 0, new TextDecoder().decode(out.stderr));
});

Deno.test("serve --systemd without systemd's variables says what is missing", async () => {
  const r = await landlockd(["serve", "--systemd"]);
  assert.equal(r.code, 125);
  assert.match(r.stderr, /LISTEN_PID and LISTEN_FDS are not set/);
});
