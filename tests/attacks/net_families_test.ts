/**
 * Attack on `[net]` (net_families.py): sockets outside Landlock's TCP
 * rules and the broker's checks. Before the fix, under allow_hosts or
 * udp = "deny" a vsock socket was made (on a VM, it connects to the
 * hypervisor host), and TIPC, RDS, CAN, Bluetooth and SCTP sockets were
 * refused only where this kernel lacks the protocol (EAFNOSUPPORT,
 * EPROTONOSUPPORT, ESOCKTNOSUPPORT). Now, where `[net]` restricts
 * anything, landlockd's filter allows only unix, IPv4/IPv6 (TCP streams,
 * datagrams, raw where allowed), netlink and AF_ALG sockets: the rest get
 * the policy's errno (13 here, EACCES, which the kernel itself never
 * answers to these socket() calls), before the kernel's own refusal.
 * Without `[net]` nothing changes.
 */

import assert from "node:assert/strict";
import {
  policyFile,
  probeResults,
  python3,
  RUN_ROOT,
  sandboxed,
  USERS,
} from "../helpers.ts";
import { testNeedingAbi } from "../fresh_needs.ts";
import { hostsPolicy } from "../egress_helpers.ts";
import { sandboxedViaDaemon } from "../daemon_helpers.ts";

/** Tests whose policy has a [net] table that handles TCP: Landlock ABI 4. */
const netTest = testNeedingAbi(
  4,
  "allow_hosts or [[net.rule]] (they handle TCP)",
);

const ATTACK = `${RUN_ROOT}tests/attacks/net_families.py`;

/** Refused by landlockd: the policy errno. */
const REFUSED = {
  vsock: "EACCES",
  tipc: "EACCES",
  rds: "EACCES",
  can: "EACCES",
  bluetooth: "EACCES",
  "sctp stream": "EACCES",
  "sctp seqpacket": "EACCES",
};
const ALLOWED = ["tcp", "tcp6", "unix", "netlink route", "alg"];

/** The outcomes, with each allowed socket checked not to be refused by us. */
function check(stdout: string, expectRefused: boolean) {
  const got = probeResults(stdout);
  for (const [name, errno] of Object.entries(REFUSED)) {
    if (expectRefused) assert.equal(got[name], errno, `${name}: ${stdout}`);
    else assert.notEqual(got[name], "EACCES", `${name}: ${stdout}`);
  }
  for (const name of ALLOWED) {
    assert.ok(got[name] !== undefined, `${name} missing: ${stdout}`);
    assert.notEqual(got[name], "EACCES", `${name}: ${stdout}`);
  }
  // Made for real where the kernel has them.
  for (const name of ["tcp", "tcp6", "unix", "netlink route"]) {
    assert.equal(got[name], "OK", `${name}: ${stdout}`);
  }
  return got;
}

const POLICIES = {
  allow_hosts: () =>
    hostsPolicy(["example.invalid"], "[seccomp]\nerrno = 13\n"),
  'udp = "deny"': () =>
    policyFile('version = 1\n[net]\nudp = "deny"\n[seccomp]\nerrno = 13\n'),
  "raw = false": () =>
    policyFile("version = 1\n[net]\nraw = false\n[seccomp]\nerrno = 13\n"),
  "[[net.rule]] only": () =>
    policyFile(
      'version = 1\n[[net.rule]]\nport = 443\nallowed_access = ["connect_tcp"]\n[seccomp]\nerrno = 13\n',
    ),
};

for (const as of USERS) {
  for (const [name, policy] of Object.entries(POLICIES)) {
    const test = name === "allow_hosts" || name === "[[net.rule]] only"
      ? netTest
      : (t: string, fn: () => Promise<void>) => Deno.test(t, fn);
    test(
      `[${as}] ${name}: vsock, TIPC, RDS, CAN, Bluetooth and SCTP sockets get the policy errno; TCP, unix, netlink are made`,
      async () => {
        const r = await sandboxed(policy(), [python3(), ATTACK], { as });
        assert.equal(r.code, 0, r.stderr);
        check(r.stdout, true);
      },
    );
  }

  Deno.test(
    `[${as}] without [net]: no socket family is refused by landlockd (a vsock socket is made)`,
    async () => {
      const r = await sandboxed(
        policyFile('version = 1\n[seccomp]\ndeny = ["acct"]\nerrno = 13\n'),
        [python3(), ATTACK],
        { as },
      );
      assert.equal(r.code, 0, r.stderr);
      const got = check(r.stdout, false);
      // The kernel's own answers, as outside (vsock: the module is here).
      assert.equal(got.vsock, "OK", r.stdout);
      assert.equal(got["sctp stream"], "EPROTONOSUPPORT", r.stdout);
    },
  );
}

if (Deno.uid() === 0) {
  Deno.test(
    '[nobody via a root daemon] udp = "deny": the same refusals',
    async () => {
      const r = await sandboxedViaDaemon(
        POLICIES['udp = "deny"'](),
        [python3(), ATTACK],
        { as: "nobody" },
      );
      assert.equal(r.code, 0, r.stderr);
      check(r.stdout, true);
    },
  );
}
