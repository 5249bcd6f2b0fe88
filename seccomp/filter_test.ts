import assert from "node:assert/strict";
import {
  AUDIT_ARCH,
  encode,
  evaluate,
  SECCOMP_RET_ALLOW,
  SECCOMP_RET_ERRNO,
  SECCOMP_RET_KILL_PROCESS,
  SECCOMP_RET_USER_NOTIF,
} from "./bpf.ts";
import {
  type Arch,
  buildFilter,
  ENOSYS,
  IPPROTO_MPTCP,
  TIOCLINUX,
  TIOCSTI,
  UnknownSyscallError,
  USERFAULTFD_IOC_NEW,
} from "./filter.ts";
import { BASELINE_NR } from "../sandbox/seccomp.ts";
import { syscallNumber, syscallTable } from "./table.ts";

for (const arch of ["x86_64", "aarch64"] as Arch[]) {
  const nr = (name: string) => syscallNumber(arch, name)!;
  const prog = buildFilter({
    arch,
    table: syscallTable(arch),
    deny: ["ptrace", "bpf", "perf_event_open"],
    errno: 13,
    absent: [
      "io_uring_setup",
      "io_uring_enter",
      "io_uring_register",
      "userfaultfd",
    ],
    refuseUffdIoctl: true,
    refuseMptcp: true,
    notify: ["openat", "mkdirat"],
  });
  const run = (name: string, args: bigint[] = []) =>
    evaluate(prog, { nr: nr(name), arch: AUDIT_ARCH[arch], args });

  Deno.test(`[${arch}] the baseline refuses io_uring and userfaultfd with ENOSYS, and ioctl(USERFAULTFD_IOC_NEW) with EPERM`, () => {
    for (
      const name of [
        "io_uring_setup",
        "io_uring_enter",
        "io_uring_register",
        "userfaultfd",
      ]
    ) {
      assert.equal(run(name), SECCOMP_RET_ERRNO | ENOSYS, name);
    }
    assert.equal(
      run("ioctl", [0n, BigInt(USERFAULTFD_IOC_NEW)]),
      SECCOMP_RET_ERRNO | 1,
    );
    assert.equal(run("ioctl", [0n, 0x5401n]), SECCOMP_RET_ALLOW); // TCGETS
  });

  Deno.test(`[${arch}] without the baseline entries io_uring and ioctl(USERFAULTFD_IOC_NEW) are allowed`, () => {
    const open = buildFilter({
      arch,
      table: syscallTable(arch),
      deny: [],
      errno: 1,
      absent: [],
      refuseUffdIoctl: false,
      refuseMptcp: false,
      notify: [],
    });
    const at = (name: string, args: bigint[] = []) =>
      evaluate(open, { nr: nr(name), arch: AUDIT_ARCH[arch], args });
    assert.equal(at("io_uring_setup"), SECCOMP_RET_ALLOW);
    assert.equal(at("userfaultfd"), SECCOMP_RET_ALLOW);
    assert.equal(
      at("ioctl", [0n, BigInt(USERFAULTFD_IOC_NEW)]),
      SECCOMP_RET_ALLOW,
    );
    assert.equal(at("ioctl", [0n, BigInt(TIOCSTI)]), SECCOMP_RET_ERRNO | 1);
  });

  Deno.test(`[${arch}] the baseline's own numbers match the generated table`, () => {
    for (const [name, n] of Object.entries(BASELINE_NR[arch])) {
      assert.equal(n, nr(name), name);
    }
  });

  Deno.test(`[${arch}] denied calls return the policy's errno, others are allowed`, () => {
    assert.equal(run("ptrace"), SECCOMP_RET_ERRNO | 13);
    assert.equal(run("perf_event_open"), SECCOMP_RET_ERRNO | 13);
    assert.equal(run("read"), SECCOMP_RET_ALLOW);
    assert.equal(run("getpid"), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] the broker's calls are sent to user notification`, () => {
    assert.equal(run("openat"), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("mkdirat"), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("unlinkat"), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] a foreign architecture is killed`, () => {
    const other = arch === "x86_64" ? AUDIT_ARCH.aarch64 : AUDIT_ARCH.x86_64;
    assert.equal(
      evaluate(prog, { nr: 0, arch: other }),
      SECCOMP_RET_KILL_PROCESS,
    );
    assert.equal(
      evaluate(prog, { nr: 0, arch: 0x40000003 }),
      SECCOMP_RET_KILL_PROCESS,
    );
  });

  Deno.test(`[${arch}] ioctl TIOCSTI and TIOCLINUX are refused, whatever the high bits`, () => {
    assert.equal(run("ioctl", [0n, BigInt(TIOCSTI)]), SECCOMP_RET_ERRNO | 1);
    assert.equal(run("ioctl", [0n, BigInt(TIOCLINUX)]), SECCOMP_RET_ERRNO | 1);
    assert.equal(
      run("ioctl", [0n, (1n << 32n) | BigInt(TIOCSTI)]),
      SECCOMP_RET_ERRNO | 1,
    );
    assert.equal(run("ioctl", [0n, 0x5401n]), SECCOMP_RET_ALLOW); // TCGETS
  });

  Deno.test(`[${arch}] MPTCP sockets are refused so programs fall back to TCP`, () => {
    assert.equal(
      run("socket", [2n, 1n, BigInt(IPPROTO_MPTCP)]),
      SECCOMP_RET_ERRNO | 93,
    );
    assert.equal(run("socket", [2n, 1n, 6n]), SECCOMP_RET_ALLOW);
    assert.equal(run("socket", [2n, 1n, 0n]), SECCOMP_RET_ALLOW);
  });

  Deno.test(`[${arch}] a name this architecture lacks is an error naming it`, () => {
    assert.throws(
      () =>
        buildFilter({
          arch,
          table: syscallTable(arch),
          deny: ["no_such_call"],
          errno: 1,
          absent: [],
          refuseUffdIoctl: false,
          refuseMptcp: false,
          notify: [],
        }),
      (e: unknown) =>
        e instanceof UnknownSyscallError &&
        /no system call "no_such_call" on/.test(e.message),
    );
  });

  Deno.test(`[${arch}] every instruction encodes into 8 bytes`, () => {
    assert.equal(encode(prog).length, prog.length * 8);
  });
}

Deno.test("[x86_64] the x32 range is refused", () => {
  const prog = buildFilter({
    arch: "x86_64",
    table: syscallTable("x86_64"),
    deny: [],
    errno: 1,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: false,
    notify: [],
  });
  assert.equal(
    evaluate(prog, { nr: 0x40000000 + 1, arch: AUDIT_ARCH.x86_64 }),
    SECCOMP_RET_ERRNO | 1,
  );
});

Deno.test("open and creat exist on x86_64 only", () => {
  assert.equal(syscallNumber("x86_64", "open"), 2);
  assert.equal(syscallNumber("aarch64", "open"), undefined);
  assert.equal(syscallNumber("aarch64", "openat"), 56);
});

Deno.test("without MPTCP refusal, MPTCP sockets pass", () => {
  const prog = buildFilter({
    arch: "x86_64",
    table: syscallTable("x86_64"),
    deny: [],
    errno: 1,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: false,
    notify: [],
  });
  assert.equal(
    evaluate(prog, {
      nr: 41,
      arch: AUDIT_ARCH.x86_64,
      args: [2n, 1n, BigInt(IPPROTO_MPTCP)],
    }),
    SECCOMP_RET_ALLOW,
  );
});

for (const arch of ["x86_64", "aarch64"] as Arch[]) {
  const nr = (name: string) => syscallNumber(arch, name)!;
  const quiet = [0x7f12_3456_7000n, 0x5555_0000_1234n];
  const prog = buildFilter({
    arch,
    table: syscallTable(arch),
    deny: [],
    errno: 1,
    absent: [],
    refuseUffdIoctl: false,
    refuseMptcp: false,
    notify: ["execve", "openat", "bind"],
    quietExec: quiet,
  });
  const run = (name: string, args: bigint[] = []) =>
    evaluate(prog, { nr: nr(name), arch: AUDIT_ARCH[arch], args });

  Deno.test(`[${arch}] an observed filter lets exactly the command's own execve paths through unnotified`, () => {
    for (const addr of quiet) {
      assert.equal(run("execve", [addr]), SECCOMP_RET_ALLOW);
    }
    // The same low word with another high word, and the reverse, notify.
    assert.equal(
      run("execve", [0x7f13_3456_7000n]),
      SECCOMP_RET_USER_NOTIF,
    );
    assert.equal(
      run("execve", [0x7f12_3456_7001n]),
      SECCOMP_RET_USER_NOTIF,
    );
    assert.equal(run("execve", [0n]), SECCOMP_RET_USER_NOTIF);
    // Other calls, even with that address, are notified as before.
    assert.equal(run("openat", [0n, quiet[0]]), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("bind", [quiet[0]]), SECCOMP_RET_USER_NOTIF);
    assert.equal(run("getpid"), SECCOMP_RET_ALLOW);
  });
}
