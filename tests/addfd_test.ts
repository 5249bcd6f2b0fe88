/**
 * `[[broker.addfd]]` on the real kernel, as root and as nobody: it narrows
 * which brokered opens get an fd injected, never widens. Landlock allows
 * only running the probe (tests/broker_fixtures.ts), so every other access
 * is the broker's or the kernel's.
 */
import { assertProbe, sandboxed, USERS } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";
import { brokerPolicy, brokerTree } from "./broker_fixtures.ts";

function addfd(action: string, target: string, mode?: string): string {
  return `[[broker.addfd]]\naction = "${action}"\ntarget = "${target}"\n${
    mode ? `mode = "${mode}"\n` : ""
  }`;
}

for (const as of USERS) {
  testAtAbi(
    3,
    "truncate",
    `[${as}] addfd open mode = "read" refuses a write fd allow_write grants (EACCES); an uncovered file gets none`,
    async () => {
      const d = brokerTree();
      const policy = brokerPolicy(d, addfd("open", `${d}/log`, "read"));
      const r = await sandboxed(policy, [
        `${d}/bin/probe`,
        ...["read", `${d}/log`, "write", `${d}/log`, "truncate", `${d}/log`],
        ...["read", `${d}/resolv`],
      ], { as });
      assertProbe(r, {
        [`read ${d}/log`]: "OK",
        [`write ${d}/log`]: "EACCES",
        [`truncate ${d}/log`]: "EACCES",
        // allow_read, but no addfd open rule covers it: no fd (the seed's
        // meaning: with addfd rules, every injected fd needs one).
        [`read ${d}/resolv`]: "EACCES",
      });
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] addfd open mode = "write" on a directory injects both files' fds, and never widens allow_read`,
    async () => {
      const d = brokerTree();
      const policy = brokerPolicy(d, addfd("open", d, "write"));
      const r = await sandboxed(policy, [
        `${d}/bin/probe`,
        ...["write", `${d}/log`, "read", `${d}/log`],
        ...["read", `${d}/resolv`, "write", `${d}/resolv`],
        ...["read", `${d}/outside/secret`],
      ], { as });
      assertProbe(r, {
        [`write ${d}/log`]: "OK",
        [`read ${d}/log`]: "OK",
        [`read ${d}/resolv`]: "OK",
        [`write ${d}/resolv`]: "EACCES",
        [`read ${d}/outside/secret`]: "EACCES",
      });
    },
  );

  testAtAbi(
    3,
    "truncate",
    `[${as}] addfd scratch_open mode = "read" refuses creating files beneath a scratch root (EACCES), mkdir stays`,
    async () => {
      const d = brokerTree();
      const s = `${d}/scratch`;
      const policy = brokerPolicy(d, addfd("scratch_open", s, "read"));
      const r = await sandboxed(policy, [
        `${d}/bin/probe`,
        ...["read", `${s}/existing`, "write", `${s}/existing`],
        ...["create", `${s}/new`, "mkdir", `${s}/dir`],
        // no open rule covers the allow_write file: no fd for it
        ...["write", `${d}/log`],
      ], { as });
      assertProbe(r, {
        [`read ${s}/existing`]: "OK",
        [`write ${s}/existing`]: "EACCES",
        [`create ${s}/new`]: "EACCES",
        [`mkdir ${s}/dir`]: "OK",
        [`write ${d}/log`]: "EACCES",
      });
    },
  );
}
