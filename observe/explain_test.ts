import assert from "node:assert/strict";
import type { LandlockPlan } from "../policy/plan.ts";
import {
  denialEvent,
  denialsOf,
  fixFor,
  formatDenials,
  groupDenials,
} from "./explain.ts";
import { resolvePlan } from "./verdict.ts";

const plan: LandlockPlan = {
  abi: 7,
  compat: "strict",
  dropped: [],
  stricter: [],
  status: "fully_enforced",
  layers: [{
    from: ["fs_layer[0]", "net"],
    handled_access_fs: ["read_file", "write_file", "make_reg"],
    handled_access_net: ["connect_tcp"],
    scoped: [],
    path_beneath: [{
      key: "fs_layer[0].rule[0]",
      path: "/usr",
      allowed_access: ["read_file"],
      optional: false,
    }],
    net_port: [],
  }],
};
const resolved = resolvePlan(plan, (p) => p);
const origin = (s: string) => s === "net" ? "p.toml:9" : "p.toml:2";

Deno.test("the fix names the file, or its directory for a create, with only the missing rights", () => {
  assert.equal(
    fixFor({ op: "read", path: "/etc/hosts" }, "fs_layer[0]", ["read_file"]),
    '[[fs_layer.rule]]\npath = "/etc/hosts"\nallowed_access = ["read_file"]',
  );
  assert.equal(
    fixFor({ op: "create", path: "/w/new" }, "fs_layer[0]", ["make_reg"]),
    '[[fs_layer.rule]]\npath = "/w"\nallowed_access = ["make_reg"]',
  );
  assert.equal(
    fixFor({ op: "connect", port: 8080 }, "net", ["connect_tcp"]),
    '[[net.rule]]\nport = 8080\nallowed_access = ["connect_tcp"]',
  );
});

Deno.test("allowed accesses are left out; denials carry section, origin, rights and fix", () => {
  const denials = denialsOf(
    {
      accesses: [
        {
          op: "read",
          path: "/usr/lib/x",
          syscall: "openat",
          rights: ["read_file"],
          count: 3,
        },
        {
          op: "read",
          path: "/etc/hosts",
          syscall: "openat",
          rights: ["read_file"],
          count: 2,
        },
        {
          op: "connect",
          port: 8080,
          syscall: "connect",
          rights: ["connect_tcp"],
          count: 1,
        },
        { op: "socket", socket: "inet/dgram", syscall: "socket", count: 1 },
      ],
      dropped: 0,
      cutShort: false,
    },
    resolved,
    origin,
  );
  assert.deepEqual(
    denials.map((d) => [d.path ?? d.port, d.section, d.origin]),
    [
      ["/etc/hosts", "fs_layer[0]", "p.toml:2"],
      [8080, "net", "p.toml:9"],
    ],
  );
  assert.equal(denials[0].count, 2);
  assert.deepEqual(denialEvent(denials[1]), {
    operation: "connect",
    port: 8080,
    syscall: "connect",
    count: 1,
    section: "net",
    layer: 0,
    origin: "p.toml:9",
    missing: ["connect_tcp"],
    fix: '[[net.rule]]\nport = 8080\nallowed_access = ["connect_tcp"]',
  });
});

Deno.test("denials one rule allows share a block; the list is capped and the rest counted", () => {
  const accesses = Array.from({ length: 30 }, (_, i) => ({
    op: "create" as const,
    path: `/w${i % 25}/f${i}`,
    syscall: "openat",
    rights: ["make_reg"],
    count: 1,
  }));
  const denials = denialsOf(
    { accesses, dropped: 7, cutShort: false, limit: 30 },
    resolved,
    origin,
  );
  assert.equal(groupDenials(denials).length, 25);
  const text = formatDenials(denials, { dropped: 7, limit: 30 }, 20);
  assert.match(text, /^landlockd: --explain: 30 distinct accesses denied\n/);
  assert.match(text, /denied: create \/w0\/f0, \/w0\/f25 \(openat, 2 times\)/);
  assert.match(text, /\n5 more not shown\n/);
  assert.match(
    text,
    /7 more distinct denied accesses were not recorded \(the record keeps 30\)\n$/,
  );
  assert.equal(text.match(/^denied: /gm)?.length, 20);
});

Deno.test("nothing denied is said in one line", () => {
  assert.equal(
    formatDenials([], { dropped: 0, limit: 10 }),
    "landlockd: --explain: Landlock denied nothing this run observed\n",
  );
});

Deno.test("proxy refusals become denials with the allow_hosts entry; refusals no entry fixes are left out", async () => {
  const { proxyDenials } = await import("./explain.ts");
  const { DecisionRecord } = await import("../proxy/record.ts");
  const rec = new DecisionRecord(3);
  const deny = (host: string, status = 403, reason = "not listed") =>
    rec.add("net.deny", {
      host,
      port: 443,
      method: "CONNECT",
      status,
      reason,
      ...(status === 403 ? { suggest: `${host}:443` } : {}),
    });
  deny("denied.test");
  deny("denied.test");
  deny("gone.test", 502, "cannot resolve");
  rec.add("net.allow", { host: "ok.test", port: 443, rule: "ok.test" });
  deny("third.test"); // over the limit of 3 distinct
  const r = rec.result();
  assert.equal(r.dropped, 1);
  assert.equal(r.admitted.length, 1);
  const ds = proxyDenials(r.refused, () => "p.toml:2");
  assert.deepEqual(ds, [{
    op: "proxy",
    host: "denied.test",
    port: 443,
    reason: "not listed",
    syscall: "connect",
    method: "CONNECT",
    count: 2,
    section: "net",
    origin: "p.toml:2",
    missing: [],
    fix: `allow_hosts = ["denied.test:443"]`,
  }]);
});

Deno.test("TCP connects the broker refused under allow_hosts become connect denials with address:port, errno, the [[net.rule]] and the allow_hosts entry", async () => {
  const { tcpDenials, formatDenials, denialTarget } = await import(
    "./explain.ts"
  );
  const denials = tcpDenials([
    { ip: "127.0.0.1", port: 8080, errno: 13, count: 2 },
    { ip: "2001:db8::1", port: 22, errno: 13, count: 1 },
  ], () => "p.toml:2");
  assert.equal(denials.length, 2);
  assert.deepEqual(denials[0], {
    op: "connect",
    host: "127.0.0.1",
    port: 8080,
    reason:
      "EACCES: with allow_hosts, TCP connects go only to the egress proxy (HTTPS_PROXY) and the ports of [[net.rule]]",
    syscall: "connect",
    count: 2,
    section: "net",
    origin: "p.toml:2",
    missing: ["connect_tcp"],
    fix: '[[net.rule]]\nport = 8080\nallowed_access = ["connect_tcp"]',
  });
  assert.equal(denialTarget(denials[1]), "[2001:db8::1]:22");
  const text = formatDenials(denials, { dropped: 0 });
  assert.ok(
    text.includes(
      "denied: connect to TCP port 127.0.0.1:8080 (connect, 2 times)\n  refused by the broker ([net] allow_hosts at p.toml:2): EACCES: ",
    ),
    text,
  );
  assert.match(text, /allow_hosts = \["\[2001:db8::1\]:22"\]\n/);
  assert.deepEqual(tcpDenials([], () => undefined), []);
});
