/**
 * seccomp on the real kernel: the policy's deny list with its errno, the
 * baseline refusals, and lint errors for names this architecture lacks.
 */
import assert from "node:assert/strict";
import {
  assertProbe,
  freePort,
  landlockd,
  policyFile,
  PROBE,
  probeResults,
  sandboxed,
  tempDir,
  USERS,
} from "./helpers.ts";
import { hostArch } from "../seccomp/filter.ts";
import { testAtAbi } from "./fresh_needs.ts";

for (const as of USERS) {
  Deno.test(`[${as}] denied calls fail with the configured errno while others work`, async () => {
    const dir = tempDir();
    if (as === "nobody") Deno.chownSync(dir, 65534, 65534);
    const policy = policyFile(`version = 1
[seccomp]
deny = ["mkdir", "mkdirat", "kill"]
errno = 95
`);
    const r = await sandboxed(policy, [PROBE, ...[
      "mkdir",
      `${dir}/d`,
      "kill",
      "1",
      "0",
      "create",
      `${dir}/f`,
      "bind",
      String(freePort()),
    ]], { as });
    const res = probeResults(r.stdout);
    assert.equal(res[`mkdir ${dir}/d`], "EOPNOTSUPP", r.stderr);
    assert.equal(res["kill 1"], "EOPNOTSUPP");
    assert.equal(res[`create ${dir}/f`], "OK");
    assert.equal(
      Object.entries(res).find(([k]) => k.startsWith("bind"))?.[1],
      "OK",
    );
  });

  Deno.test(`[${as}] the deny list's errno defaults to EPERM`, async () => {
    const policy = policyFile(`version = 1
[seccomp]
deny = ["kill"]
`);
    const r = await sandboxed(policy, [PROBE, "kill", "1", "0"], { as });
    assertProbe(r, { "kill 1": "EPERM" });
  });

  testAtAbi(
    6,
    "scopes",
    `[${as}] baseline: ioctl(TIOCSTI) is refused with EPERM before the kernel looks at the fd`,
    async () => {
      // Outside the sandbox, stdin (/dev/null) is not a terminal: ENOTTY.
      const bare = new TextDecoder().decode(
        (await new Deno.Command(PROBE, {
          args: ["tiocsti"],
          stdin: "null",
          stdout: "piped",
        }).output()).stdout,
      );
      assert.equal(probeResults(bare)["tiocsti 0"], "ENOTTY");
      const policy = policyFile(`version = 1\n[scope]\nsignal = true\n`);
      const r = await sandboxed(policy, [PROBE, "tiocsti"], { as });
      assertProbe(r, { "tiocsti 0": "EPERM" });
    },
  );

  testAtAbi(
    4,
    "bind_tcp",
    `[${as}] baseline: MPTCP sockets are refused when TCP is restricted, so programs fall back to TCP`,
    async () => {
      const port = String(freePort());
      const restricted = policyFile(`version = 1
[net]
handled_access_net = ["bind_tcp"]
  [[net.rule]]
  port = ${port}
  allowed_access = ["bind_tcp"]
`);
      const r = await sandboxed(
        restricted,
        [PROBE, "mptcp", port, "bind", port],
        { as },
      );
      assertProbe(r, {
        [`mptcp ${port}`]: "EPROTONOSUPPORT",
        [`bind ${port}`]: "OK",
      });
      const open = policyFile(`version = 1\n[scope]\nsignal = true\n`);
      const free = await sandboxed(open, [PROBE, "mptcp", port], { as });
      // Where the kernel has MPTCP enabled, it works when TCP is not restricted.
      assert.notEqual(
        probeResults(free.stdout)[`mptcp ${port}`],
        "EPROTONOSUPPORT",
      );
    },
  );
}

Deno.test("a system call this architecture does not have is a lint error naming it", async () => {
  const policy = policyFile(`version = 1
[seccomp]
deny = ["ptrace", "no_such_call"]
`);
  for (const cmd of ["lint", "run"]) {
    const r = await landlockd([
      cmd,
      "--policy-file",
      policy,
      ...(cmd === "run" ? ["--", "true"] : []),
    ]);
    assert.equal(r.code, cmd === "lint" ? 1 : 125);
    assert.ok(
      r.stderr.includes(
        `:3: seccomp.deny[1]: unknown system call "no_such_call" on ${hostArch()}`,
      ),
      r.stderr,
    );
  }
});

Deno.test("denying a call landlockd needs to start the command is refused", async () => {
  const policy = policyFile(`version = 1\n[seccomp]\ndeny = ["execve"]\n`);
  const r = await landlockd(["lint", "--policy-file", policy]);
  assert.equal(r.code, 1);
  assert.match(
    r.stderr,
    /seccomp\.deny\[0\]: cannot deny execve: landlockd needs it to start the command/,
  );
});

Deno.test("a seccomp-only policy is a valid restriction", async () => {
  const policy = policyFile(`version = 1\n[seccomp]\ndeny = ["ptrace"]\n`);
  const r = await sandboxed(policy, [PROBE, "print", "ran"]);
  assert.equal(r.stdout, "ran\n", r.stderr);
  assert.equal(
    r.stderr,
    "",
    "nothing was asked of Landlock, so nothing was dropped",
  );
});
