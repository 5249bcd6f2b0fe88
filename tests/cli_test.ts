/**
 * --help, --version, abi and --dry-run output.
 */
import assert from "node:assert/strict";
import { VERSION } from "../version.ts";
import { landlockd, ROOT } from "./helpers.ts";
import { ABI, testAtAbi } from "./fresh_needs.ts";

Deno.test("version.ts agrees with deno.json", () => {
  const config = JSON.parse(Deno.readTextFileSync(`${ROOT}deno.json`));
  assert.equal(config.version, VERSION);
});

Deno.test("--version and --help", async () => {
  assert.equal(
    (await landlockd(["--version"])).stdout,
    `landlockd ${VERSION}\n`,
  );
  for (const cmd of [[], ["run"], ["lint"], ["abi"]]) {
    const r = await landlockd([...cmd, "--help"]);
    assert.equal(r.code, 0);
    assert.match(r.stdout, /Usage: landlockd/);
  }
});

testAtAbi(
  6,
  "the ABI \u2265 6 this project's kernels have",
  "abi reports the kernel's Landlock ABI and what it supports",
  async () => {
    const json = JSON.parse((await landlockd(["abi", "--json"])).stdout);
    assert.equal(json.landlock.available, true);
    assert.ok(json.landlock.abi >= 6, "this project's kernels have ABI ≥ 6");
    assert.equal(json.seccomp.user_notify, true);
    const capped = JSON.parse(
      (await landlockd(["abi", "--json"], { env: { LANDLOCKD_ABI_MAX: "2" } }))
        .stdout,
    );
    assert.equal(capped.landlock.abi, 2);
    assert.deepEqual(
      capped.landlock.features.filter((f: { supported: boolean }) =>
        f.supported
      )
        .map((f: { abi: number }) => f.abi),
      [1, 2],
    );
    const text = (await landlockd(["abi"])).stdout;
    assert.match(text, /^Landlock ABI \d+/);
    assert.match(text, /seccomp user notification: yes/);
  },
);

testAtAbi(
  4,
  "bind_tcp, connect_tcp, truncate",
  "--dry-run prints a stable, sorted plan and runs nothing",
  async () => {
    const a = await landlockd([
      "run",
      "--policy",
      "net-fetch",
      "--dry-run",
      "--",
      "touch",
      "/tmp/landlockd-dry-run",
    ]);
    const b = await landlockd([
      "run",
      "--policy",
      "net-fetch",
      "--dry-run",
      "--",
      "touch",
      "/tmp/landlockd-dry-run",
    ]);
    assert.equal(a.code, 0, a.stderr);
    assert.equal(a.stdout, b.stdout);
    let exists = true;
    try {
      Deno.statSync("/tmp/landlockd-dry-run");
    } catch {
      exists = false;
    }
    assert.equal(exists, false);
    const plan = JSON.parse(a.stdout);
    assert.deepEqual(Object.keys(plan), [
      "broker",
      "capabilities_dropped",
      "command",
      "env",
      "executable",
      "landlock",
      "policy",
      "seccomp",
    ]);
    assert.deepEqual(plan.seccomp.baseline, [
      "ioctl(TIOCSTI): EPERM",
      "ioctl(TIOCLINUX): EPERM",
      "io_uring_setup: ENOSYS",
      "io_uring_enter: ENOSYS",
      "io_uring_register: ENOSYS",
      "userfaultfd: ENOSYS",
      "ioctl(USERFAULTFD_IOC_NEW): EPERM",
      "socket(IPPROTO_MPTCP): EPROTONOSUPPORT",
      "sendto/sendmsg/sendmmsg(MSG_FASTOPEN): EOPNOTSUPP",
    ]);
    // net-fetch restricts TCP, UDP and raw sockets: root in it loses what
    // would undo that.
    assert.deepEqual(plan.capabilities_dropped, [
      "CAP_NET_ADMIN",
      "CAP_NET_RAW",
      "CAP_SYS_MODULE",
      "CAP_SYS_ADMIN",
      "CAP_BPF",
    ]);
    assert.equal(plan.seccomp.refuse_other_sockets, true);
    // The broker brings the signal scope: the sandbox must not signal it.
    // Below ABI 6 that is best effort, and the plan says so.
    assert.deepEqual(
      plan.landlock.layers[0].from,
      ABI >= 6 ? ["fs_layer[0]", "net", "scope"] : ["fs_layer[0]", "net"],
    );
    assert.equal(plan.landlock.implied[0].scope, "signal");
    assert.equal(plan.landlock.implied[0].enforced, ABI >= 6);
    assert.deepEqual(plan.broker.files[0], {
      access: "read",
      canonical: Deno.realPathSync("/etc/resolv.conf"),
      path: "/etc/resolv.conf",
    });
    assert.deepEqual(plan.landlock.layers[0].net_port, [
      { allowed_access: ["connect_tcp"], port: 80 },
      { allowed_access: ["connect_tcp"], port: 443 },
    ]);
    const devNull = plan.landlock.layers[0].path_beneath.find((
      r: { path: string },
    ) => r.path === "/dev/null");
    assert.equal(devNull.target, "file");
  },
);
