import assert from "node:assert/strict";
import {
  admitHost,
  allowHostsSet,
  formatIp,
  type HostRule,
  parseHostRule,
  parseHostRules,
  parseIp,
  specialRange,
  usableAddresses,
} from "./hosts.ts";

Deno.test("an allow_hosts entry gets port 443, 80 after http://, or its own", () => {
  const cases: [string, Partial<HostRule>][] = [
    ["registry.example.org", {
      kind: "name",
      host: "registry.example.org",
      port: 443,
    }],
    ["Registry.Example.org.:8443", {
      kind: "name",
      host: "registry.example.org",
      port: 8443,
    }],
    ["http://packages.example.com", {
      kind: "name",
      host: "packages.example.com",
      port: 80,
    }],
    ["https://packages.example.com/", { kind: "name", port: 443 }],
    ["http://packages.example.com:8080", { port: 8080 }],
    ["*.githubusercontent.com:443", {
      kind: "suffix",
      host: "githubusercontent.com",
      port: 443,
    }],
    ["127.0.0.1:8080", { kind: "range", host: "127.0.0.1", port: 8080 }],
    ["10.0.0.0/8", { kind: "range", host: "10.0.0.0", port: 443 }],
    ["[::1]:9000", { kind: "range", host: "::1", port: 9000 }],
    ["[fd00::/8]", { kind: "range", host: "fd00::", port: 443 }],
  ];
  for (const [text, want] of cases) {
    const got = parseHostRule(text);
    assert.equal(typeof got, "object", `${text}: ${got}`);
    for (const [k, v] of Object.entries(want)) {
      assert.deepEqual((got as unknown as Record<string, unknown>)[k], v, text);
    }
  }
});

Deno.test("a malformed allow_hosts entry says what is wrong", () => {
  const cases: [string, RegExp][] = [
    ["", /not a valid host name/],
    ["ftp://x.org", /unknown scheme "ftp:\/\/"/],
    ["x.org:0", /port 0 is out of range/],
    ["x.org:70000", /port 70000 is out of range/],
    ["x.org:https", /"https" is not a port number/],
    ["x.org/path", /cannot have a path/],
    ["user@x.org", /user name/],
    ["*.org", /at least two labels/],
    ["a.*.org", /only allowed as "\*\." at the start/],
    ["*", /only allowed/],
    ["-bad-.org", /not a valid host name/],
    ["x.org ", /spaces/],
    ["::1", /brackets/],
    ["10.0.0.1/8", /bits set after the prefix; write 10.0.0.0\/8/],
    ["10.0.0.0/33", /prefix length must be 0 to 32/],
    ["300.1.1.1", /not a valid host name/],
  ];
  for (const [text, want] of cases) {
    const got = parseHostRule(text);
    assert.equal(typeof got, "string", text);
    assert.match(got as string, want, text);
  }
});

Deno.test("IP addresses parse in both notations and name their range", () => {
  assert.deepEqual(parseIp("127.0.0.1"), [127, 0, 0, 1]);
  assert.equal(parseIp("127.1"), undefined);
  assert.equal(parseIp("0127.0.0.1"), undefined);
  assert.equal(formatIp(parseIp("::1")!), "::1");
  assert.equal(formatIp(parseIp("2001:db8::1")!), "2001:db8::1");
  assert.equal(specialRange(parseIp("127.9.9.9")!), "loopback");
  assert.equal(specialRange(parseIp("169.254.169.254")!), "link-local");
  assert.equal(specialRange(parseIp("192.168.1.1")!), "private");
  assert.equal(specialRange(parseIp("::ffff:127.0.0.1")!), "IPv4-mapped");
  assert.equal(specialRange(parseIp("fe80::1")!), "link-local");
  assert.equal(specialRange(parseIp("93.184.216.34")!), undefined);
  assert.equal(specialRange(parseIp("2606:4700::1")!), undefined);
});

const rules = parseHostRules([
  "allowed.test:8080",
  "*.wild.test:8080",
  "127.0.0.1:9000",
  "http://plain.test",
]);

Deno.test("a request is admitted by an exact name, a suffix or a listed address", () => {
  assert.equal(admitHost(rules, "allowed.test", 8080).ok, true);
  assert.equal(admitHost(rules, "ALLOWED.test.", 8080).ok, true);
  assert.equal(admitHost(rules, "a.b.wild.test", 8080).ok, true);
  assert.equal(admitHost(rules, "plain.test", 80).ok, true);
  assert.equal(admitHost(rules, "127.0.0.1", 9000).ok, true);
});

Deno.test("a request outside the rules is refused with the rule to add", () => {
  const cases: [string, number, string][] = [
    ["allowed.test", 443, "allowed.test"],
    ["denied.test", 8080, "denied.test:8080"],
    ["wild.test", 8080, "wild.test:8080"],
    ["evilwild.test", 8080, "evilwild.test:8080"],
    ["127.0.0.1", 8080, "127.0.0.1:8080"],
    ["::1", 9000, "[::1]:9000"],
  ];
  for (const [host, port, suggest] of cases) {
    const a = admitHost(rules, host, port);
    assert.equal(a.ok, false, host);
    if (!a.ok) assert.equal(a.suggest, suggest);
  }
});

Deno.test("a wildcard name resolving to loopback is refused unless the range is listed", () => {
  const lo = parseIp("127.0.0.1")!;
  const pub = parseIp("93.184.216.34")!;
  const wild = rules[1];
  const r = usableAddresses(rules, wild, 8080, [lo, pub]);
  assert.deepEqual(r.usable, [pub]);
  assert.deepEqual(r.refused, [{ address: "127.0.0.1", range: "loopback" }]);
  const listed = parseHostRules(["*.wild.test:8080", "127.0.0.0/8:8080"]);
  assert.deepEqual(usableAddresses(listed, listed[0], 8080, [lo]).usable, [lo]);
  // An exact name is the user's own choice of host.
  assert.deepEqual(usableAddresses(rules, rules[0], 8080, [lo]).usable, [lo]);
});

Deno.test("allowHostsSet is true for any allow_hosts, even empty", () => {
  assert.equal(allowHostsSet({}), false);
  assert.equal(allowHostsSet({ net: {} }), false);
  assert.equal(allowHostsSet({ net: { allow_hosts: [] } }), true);
});
