/**
 * Attack (net_caps_escape.c): root in a sandbox whose `[net]` restricts
 * something has lost CAP_NET_ADMIN, CAP_SYS_ADMIN, CAP_SYS_MODULE and
 * CAP_BPF, and uses what remains to send where the policy forbids.
 *
 * Escaped before the fix (2026-12-02): a `[net]` of `udp`/`raw` only
 * handles no Landlock right, so the command had no Landlock domain, and
 * root's CAP_SYS_PTRACE reached landlockd itself (non-dumpable, but
 * CAP_SYS_PTRACE overrides that): "ptrace seize: OK", "proc mem write: OK"
 * (its /proc/<pid>/mem opened read-write), "pidfd_getfd: OK" (its fd 3
 * taken), "victim ns open: OK". landlockd holds every capability and no
 * filter: code written there sends anywhere. Now such a policy gets a
 * Landlock layer that handles only `make_block` (policy/plan.ts), and
 * Landlock refuses tracing a process outside the command's domain. Where
 * there is no Landlock at all (ABI 0, seen with LANDLOCKD_ABI_MAX=0: the
 * same four OKs), CAP_SYS_PTRACE is dropped too, and the kernel refuses
 * root tracing a process whose capabilities are not a subset of its own.
 *
 * Direct runs only: a run with a broker (`udp = "dns"`, allow_hosts) or
 * through the daemon got a domain from the signal scope landlockd adds at
 * ABI 6+ (sandbox/run.ts impliedSignalScope); the new layer covers ABI 1-5
 * there too.
 *
 * Held: the i386 ABI (`int $0x80` socketcall or socket of AF_VSOCK) is
 * killed by the filter's architecture check (SIGSYS), the x32 ABI gets
 * the policy errno, RTM_NEWADDR on lo and TUNSETIFF get the kernel's
 * EPERM (no CAP_NET_ADMIN).
 *
 * Also escaped before their fixes: a NETLINK_USERSOCK datagram reached a
 * process outside the sandbox listening on that protocol (the kernel lets
 * anyone send there; netlink_usersock_listen.py received "usersock" under
 * udp = "deny", as root and as nobody), now refused in socket(2); and with
 * raw sockets allowed (then the default outside allow_hosts) root sent
 * UDP through a raw IPPROTO_UDP socket past udp = "deny"; raw now
 * defaults to false wherever udp is not "allow".
 */

import assert from "node:assert/strict";
import dgram from "node:dgram";
import { policyFile, python3, RUN_ROOT, sandboxed, USERS } from "../helpers.ts";
import { sandboxedViaDaemon } from "../daemon_helpers.ts";
import { compileAttack } from "./baseline_helpers.ts";

const ATTACK = await compileAttack("net_caps_escape");
const UDP_ONLY = 'version = 1\n[net]\nudp = "deny"\n[seccomp]\nerrno = 13\n';

/** "what: OUTCOME" lines (OUTCOME: OK, an errno name, or a signal's). */
function results(stdout: string): Record<string, string> {
  return Object.fromEntries(
    stdout.trim().split("\n").map((l) => {
      const i = l.lastIndexOf(": ");
      return [l.slice(0, i), l.slice(i + 2)];
    }),
  );
}

/**
 * The command traces its own child, but cannot trace landlockd (or the
 * daemon), write its memory or take its fds.
 */
function assertLandlockdUntouchable(
  got: Record<string, string>,
  stdout: string,
): void {
  assert.equal(got["ptrace seize own child"], "OK", stdout);
  assert.equal(got["ptrace seize"], "EPERM", stdout);
  assert.equal(got["proc mem write"], "EACCES", stdout);
  assert.equal(got["pidfd_getfd"], "EPERM", stdout);
}

/** Listens on 127.0.0.1 for one UDP datagram; resolves to it or "". */
async function udpListener(): Promise<{ port: number; got: Promise<string> }> {
  const sock = dgram.createSocket("udp4");
  await new Promise<void>((r) => sock.bind(0, "127.0.0.1", r));
  const got = new Promise<string>((resolve) => {
    const timer = setTimeout(() => resolve(""), 3000);
    sock.once("message", (m) => {
      clearTimeout(timer);
      resolve(m.toString());
    });
  }).finally(() => sock.close());
  return { port: sock.address().port, got };
}

for (const as of USERS) {
  Deno.test(
    `[${as}] udp = "deny" only: landlockd cannot be traced, read or robbed of fds; the command traces its own child; i386/x32 socket calls refused`,
    async () => {
      const r = await sandboxed(policyFile(UDP_ONLY), [ATTACK, "9"], { as });
      assert.equal(r.code, 0, r.stderr);
      const got = results(r.stdout);
      assertLandlockdUntouchable(got, r.stdout);
      assert.equal(got["victim ns open"], "EACCES", r.stdout);
      assert.equal(got["i386 socketcall vsock"], "SYS", r.stdout);
      assert.equal(got["i386 socket vsock"], "SYS", r.stdout);
      assert.equal(got["x32 socket vsock"], "EACCES", r.stdout);
      assert.equal(got["rtnetlink newaddr"], "EPERM", r.stdout);
      // SOCK_DESTROY of the probe's own listener: needs CAP_NET_ADMIN.
      assert.equal(got["sock_diag destroy"], "EPERM", r.stdout);
    },
  );
}

if (Deno.uid() === 0) {
  Deno.test(
    '[root] udp = "deny" only: TUNSETIFF gets EPERM (no CAP_NET_ADMIN)',
    async () => {
      const r = await sandboxed(policyFile(UDP_ONLY), [ATTACK, "9"]);
      assert.equal(r.code, 0, r.stderr);
      const tun = results(r.stdout).tun;
      // Without /dev/net/tun there is nothing to show.
      assert.ok(tun === "EPERM" || tun === "ENOENT", r.stdout);
    },
  );

  Deno.test(
    '[root] udp = "deny" only without Landlock (LANDLOCKD_ABI_MAX=0): CAP_SYS_PTRACE goes too, so landlockd cannot be traced; the command traces its own child',
    async () => {
      const r = await sandboxed(policyFile(UDP_ONLY), [ATTACK, "9"], {
        env: { LANDLOCKD_ABI_MAX: "0" },
      });
      assert.equal(r.code, 0, r.stderr);
      const got = results(r.stdout);
      assertLandlockdUntouchable(got, r.stdout);
    },
  );

  Deno.test(
    '[root via a root daemon] udp = "deny" only: the daemon (the command\'s parent) cannot be traced or robbed of fds (held before the fix: the daemon adds the signal scope, a domain)',
    async () => {
      const r = await sandboxedViaDaemon(policyFile(UDP_ONLY), [ATTACK, "9"]);
      assert.equal(r.code, 0, r.stderr);
      const got = results(r.stdout);
      assertLandlockdUntouchable(got, r.stdout);
    },
  );

  Deno.test(
    '[root] udp = "deny" only: raw defaults to false, so a raw IPPROTO_UDP socket gets the policy errno and nothing arrives; an explicit raw = true sends (what the policy asked for, lint warns)',
    async () => {
      // Escaped before the fix: "raw udp socket: OK", "raw udp sendto: OK"
      // and the listener received "raw-udp".
      const l = await udpListener();
      const r = await sandboxed(policyFile(UDP_ONLY), [ATTACK, `${l.port}`]);
      assert.equal(r.code, 0, r.stderr);
      assert.equal(results(r.stdout)["raw udp socket"], "EACCES", r.stdout);
      assert.equal(await l.got, "", r.stdout);

      const opted = await udpListener();
      const o = await sandboxed(
        policyFile(
          UDP_ONLY.replace('udp = "deny"\n', 'udp = "deny"\nraw = true\n'),
        ),
        [ATTACK, `${opted.port}`],
      );
      assert.equal(o.code, 0, o.stderr);
      assert.equal(results(o.stdout)["raw udp socket"], "OK", o.stdout);
      assert.equal(await opted.got, "raw-udp", o.stdout);
    },
  );
}

for (const as of USERS) {
  Deno.test({
    name:
      `[${as}] udp = "deny" only: a NETLINK_USERSOCK socket gets the policy errno, and the listener outside gets nothing (it did before the fix)`,
    fn: async () => {
      const listener = new Deno.Command(python3(), {
        args: [`${RUN_ROOT}tests/attacks/netlink_usersock_listen.py`, "3"],
        stdout: "piped",
      }).spawn();
      const reader = listener.stdout.pipeThrough(new TextDecoderStream())
        .getReader();
      let out = "";
      while (!out.includes("\n")) out += (await reader.read()).value ?? "";
      const portid = out.trim();
      const r = await sandboxed(
        policyFile(UDP_ONLY),
        [ATTACK, "9", "0", portid],
        { as },
      );
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      await listener.status;
      assert.equal(r.code, 0, r.stderr);
      // Before the fix: "netlink usersock send: OK" and the listener
      // printed "got usersock".
      assert.equal(results(r.stdout)["netlink usersock send"], "EACCES");
      assert.match(out, /got nothing/);
    },
  });
}
