import assert from "node:assert/strict";
import {
  CompatError,
  EgressCompatError,
  fitRuleToTarget,
  type LandlockPlan,
  planLandlock,
  REFER_ON_ABI_1,
  unfilledProxyRule,
  withProxyPort,
} from "./plan.ts";
import type { Policy } from "./schema.ts";

function policy(extra: Record<string, unknown>): Policy {
  return { version: 1, compat: "best_effort", ...extra } as Policy;
}

const FULL = policy({
  fs_layer: [{
    handled_access_fs: ["read_file", "refer", "truncate", "ioctl_dev"],
    rule: [{ path: "/usr", allowed_access: ["read_file", "truncate"] }, {
      path: "/dev",
      allowed_access: ["ioctl_dev"],
    }],
  }],
  net: {
    handled_access_net: ["bind_tcp", "connect_tcp"],
    rule: [{ port: 80, allowed_access: ["bind_tcp"] }],
  },
  scope: { signal: true, abstract_unix_socket: true },
});

const TABLE: {
  abi: number;
  fs: string[];
  net: string[];
  scoped: string[];
  rules: number;
  dropped: string[];
  status: LandlockPlan["status"];
}[] = [
  {
    abi: 0,
    fs: [],
    net: [],
    scoped: [],
    rules: 0,
    dropped: [
      "read_file",
      "refer",
      "truncate",
      "ioctl_dev",
      "bind_tcp",
      "connect_tcp",
      "abstract_unix_socket",
      "signal",
    ],
    status: "not_enforced",
  },
  {
    abi: 1,
    fs: ["read_file"],
    net: [],
    scoped: [],
    rules: 1,
    // refer is handled but allowed nowhere: ABI 1 denies it everywhere too.
    dropped: [
      "truncate",
      "ioctl_dev",
      "bind_tcp",
      "connect_tcp",
      "abstract_unix_socket",
      "signal",
    ],
    status: "partially_enforced",
  },
  {
    abi: 3,
    fs: ["read_file", "refer", "truncate"],
    net: [],
    scoped: [],
    rules: 1,
    dropped: [
      "ioctl_dev",
      "bind_tcp",
      "connect_tcp",
      "abstract_unix_socket",
      "signal",
    ],
    status: "partially_enforced",
  },
  {
    abi: 4,
    fs: ["read_file", "refer", "truncate"],
    net: ["bind_tcp", "connect_tcp"],
    scoped: [],
    rules: 1,
    dropped: ["ioctl_dev", "abstract_unix_socket", "signal"],
    status: "partially_enforced",
  },
  {
    abi: 5,
    fs: ["read_file", "refer", "truncate", "ioctl_dev"],
    net: ["bind_tcp", "connect_tcp"],
    scoped: [],
    rules: 2,
    dropped: ["abstract_unix_socket", "signal"],
    status: "partially_enforced",
  },
  {
    abi: 6,
    fs: ["read_file", "refer", "truncate", "ioctl_dev"],
    net: ["bind_tcp", "connect_tcp"],
    scoped: ["abstract_unix_socket", "signal"],
    rules: 2,
    dropped: [],
    status: "fully_enforced",
  },
];

for (const row of TABLE) {
  Deno.test(`best effort on ABI ${row.abi} keeps exactly what the kernel has`, () => {
    const plan = planLandlock(FULL, row.abi);
    const layer = plan.layers[0];
    assert.deepEqual(layer?.handled_access_fs ?? [], row.fs);
    assert.deepEqual(layer?.handled_access_net ?? [], row.net);
    assert.deepEqual(layer?.scoped ?? [], row.scoped);
    assert.equal(layer?.path_beneath.length ?? 0, row.rules);
    assert.deepEqual(plan.dropped.map((d) => d.right), row.dropped);
    assert.equal(plan.status, row.status);
  });

  Deno.test(`strict on ABI ${row.abi} ${row.dropped.length ? "refuses" : "accepts"}`, () => {
    const strict = { ...FULL, compat: "strict" } as Policy;
    if (row.dropped.length === 0) {
      assert.equal(planLandlock(strict, row.abi).status, "fully_enforced");
      return;
    }
    assert.throws(() => planLandlock(strict, row.abi), (err: unknown) => {
      assert.ok(err instanceof CompatError);
      assert.deepEqual(err.missing.map((m) => m.right), row.dropped);
      assert.match(err.message, /needs Landlock ABI \d \(Linux [\d.]+\)/);
      return true;
    });
  });
}

/** A rule that allows refer: moving files between two directories. */
const REFER = policy({
  fs_layer: [{
    handled_access_fs: ["read_file", "make_reg", "remove_file", "refer"],
    rule: [{ path: "/srv", allowed_access: ["read_file"] }, {
      path: "/srv/in",
      allowed_access: ["make_reg", "remove_file", "refer"],
    }],
  }],
});

const REFER_TABLE: {
  abi: number;
  fs: string[];
  dropped: string[];
  stricter: string[];
  strict: "accepts" | "refuses";
}[] = [
  // No Landlock: nothing is enforced, refer included; that is dropped.
  {
    abi: 0,
    fs: [],
    dropped: ["read_file", "remove_file", "make_reg", "refer"],
    stricter: [],
    strict: "refuses",
  },
  // ABI 1 denies every cross-directory rename and link: stricter, not dropped.
  {
    abi: 1,
    fs: ["read_file", "remove_file", "make_reg"],
    dropped: [],
    stricter: ["fs_layer[0].rule[1].allowed_access"],
    strict: "accepts",
  },
  {
    abi: 2,
    fs: ["read_file", "remove_file", "make_reg", "refer"],
    dropped: [],
    stricter: [],
    strict: "accepts",
  },
];

for (const row of REFER_TABLE) {
  Deno.test(`refer on ABI ${row.abi}: dropped [${row.dropped}], stricter [${row.stricter}], strict ${row.strict}`, () => {
    const plan = planLandlock(REFER, row.abi);
    assert.deepEqual(plan.layers[0]?.handled_access_fs ?? [], row.fs);
    assert.deepEqual(plan.dropped.map((d) => d.right), row.dropped);
    assert.deepEqual(plan.stricter.map((s) => s.key), row.stricter);
    for (const s of plan.stricter) {
      assert.deepEqual(s, {
        key: s.key,
        right: "refer",
        needs_abi: 2,
        effect: REFER_ON_ABI_1,
      });
    }
    if (row.dropped.length === 0) assert.equal(plan.status, "fully_enforced");
    const strict = { ...REFER, compat: "strict" } as Policy;
    if (row.strict === "accepts") {
      assert.deepEqual(planLandlock(strict, row.abi).stricter, plan.stricter);
    } else {
      assert.throws(() => planLandlock(strict, row.abi), CompatError);
    }
  });
}

Deno.test("dropped rights name the key and the ABI that adds them", () => {
  const plan = planLandlock(FULL, 2);
  assert.deepEqual(plan.dropped[0], {
    key: "fs_layer[0].handled_access_fs",
    right: "truncate",
    needs_abi: 3,
  });
});

Deno.test("net and scope share the first filesystem layer", () => {
  const plan = planLandlock(FULL, 6);
  assert.equal(plan.layers.length, 1);
  assert.deepEqual(plan.layers[0].from, ["fs_layer[0]", "net", "scope"]);
});

Deno.test("a net-only policy gets a layer of its own", () => {
  const plan = planLandlock(
    policy({
      net: { handled_access_net: ["bind_tcp"], rule: [] },
    }),
    4,
  );
  assert.deepEqual(plan.layers.map((l) => l.from), [["net"]]);
  assert.deepEqual(plan.layers[0].net_port, []);
});

Deno.test("each fs_layer stays its own layer, in order", () => {
  const plan = planLandlock(
    policy({
      fs_layer: [
        { handled_access_fs: ["read_file"], rule: [] },
        { handled_access_fs: ["execute"], rule: [] },
      ],
    }),
    1,
  );
  assert.deepEqual(plan.layers.map((l) => l.handled_access_fs), [
    ["read_file"],
    ["execute"],
  ]);
});

Deno.test("a layer whose rights all need a newer ABI disappears", () => {
  const plan = planLandlock(
    policy({ fs_layer: [{ handled_access_fs: ["ioctl_dev"], rule: [] }] }),
    4,
  );
  assert.equal(plan.layers.length, 0);
  assert.equal(plan.status, "not_enforced");
});

Deno.test("fitRuleToTarget keeps only file rights for a file", () => {
  const { rule, ignored } = fitRuleToTarget({
    key: "fs_layer[0].rule[0]",
    optional: false,
    path: "/etc/hosts",
    allowed_access: ["read_file", "read_dir", "make_reg"],
  }, "file");
  assert.deepEqual(rule.allowed_access, ["read_file"]);
  assert.deepEqual(ignored, ["read_dir", "make_reg"]);
});

Deno.test("allow_hosts adds the proxy's port rule, filled in once the proxy listens", () => {
  const plan = planLandlock(
    policy({
      net: {
        handled_access_net: ["bind_tcp"],
        allow_hosts: ["example.org"],
        rule: [{ port: 8080, allowed_access: ["bind_tcp"] }],
      },
    }),
    4,
  );
  assert.deepEqual(plan.layers[0].handled_access_net, [
    "bind_tcp",
    "connect_tcp",
  ]);
  assert.deepEqual(plan.layers[0].net_port, [
    { port: 8080, allowed_access: ["bind_tcp"] },
    { port: 0, allowed_access: ["connect_tcp"], proxy: true },
  ]);
  assert.ok(unfilledProxyRule(plan));
  const filled = withProxyPort(plan, 41000);
  assert.equal(filled.layers[0].net_port[1].port, 41000);
  assert.ok(!unfilledProxyRule(filled));
  const noProxy = planLandlock(
    policy({ net: { handled_access_net: ["connect_tcp"] } }),
    4,
  );
  assert.throws(() => withProxyPort(noProxy, 41000), /no egress proxy rule/);
});

Deno.test("allow_hosts below ABI 4 is refused even under best_effort", () => {
  for (const compat of ["strict", "best_effort"] as const) {
    const p = policy({
      compat,
      net: { handled_access_net: ["connect_tcp"], allow_hosts: [] },
    });
    assert.throws(
      () => planLandlock(p, 3),
      (e: unknown) =>
        e instanceof EgressCompatError &&
        /net\.allow_hosts: .*needs Landlock ABI 4 \(Linux 6\.7\), but this kernel provides ABI 3/
          .test(e.message),
    );
  }
});

Deno.test("a [net] that sets only udp or raw leaves TCP to the kernel: no handled_access_net, only a make_block layer (for a Landlock domain), nothing dropped below ABI 4", () => {
  for (
    const net of [{ udp: "deny" }, { raw: false }, { udp: "dns" }, {
      udp: "deny",
      raw: false,
    }]
  ) {
    for (const abi of [0, 1, 3, 4, 7]) {
      const plan = planLandlock(policy({ compat: "strict", net }), abi);
      // A Landlock domain keeps root's CAP_SYS_PTRACE off landlockd
      // (tests/attacks/net_caps_escape_test.ts); none exists at ABI 0.
      const layers = abi === 0 ? [] : [{
        from: ["net"],
        handled_access_fs: ["make_block"],
        handled_access_net: [],
        net_port: [],
        path_beneath: [],
        scoped: [],
      }];
      assert.deepEqual(
        plan.layers,
        layers,
        `${JSON.stringify(net)} at ABI ${abi}`,
      );
      assert.deepEqual(plan.dropped, []);
      assert.equal(plan.status, "fully_enforced");
    }
  }
});

Deno.test("handled_access_net defaults to connect_tcp where [net] says something about TCP, or nothing at all", () => {
  const handled = (net: Record<string, unknown>) =>
    planLandlock(policy({ net }), 4).layers[0]?.handled_access_net ?? [];
  // [[net.rule]] means "these ports, and no others".
  assert.deepEqual(
    handled({
      udp: "deny",
      rule: [{ port: 443, allowed_access: ["connect_tcp"] }],
    }),
    ["connect_tcp"],
  );
  assert.deepEqual(handled({ raw: false, allow_hosts: [] }), ["connect_tcp"]);
  // An empty [net] keeps meaning "no TCP connects".
  assert.deepEqual(handled({}), ["connect_tcp"]);
  // An explicit list is taken as written, with udp or without.
  assert.deepEqual(handled({ handled_access_net: ["bind_tcp"], udp: "deny" }), [
    "bind_tcp",
  ]);
  // allow_hosts handles connect_tcp whatever the list says.
  assert.deepEqual(
    handled({ handled_access_net: ["bind_tcp"], allow_hosts: [] }),
    ["bind_tcp", "connect_tcp"],
  );
});

Deno.test("the make_block layer comes only where [net] restricts something and no other layer exists", () => {
  const layers = (p: Record<string, unknown>) =>
    planLandlock(policy(p), 7).layers.map((l) => l.handled_access_fs);
  assert.deepEqual(layers({ net: { udp: "allow", raw: true } }), []);
  assert.deepEqual(layers({}), []);
  assert.deepEqual(
    layers({
      net: { udp: "deny" },
      fs_layer: [{ handled_access_fs: ["write_file"] }],
    }),
    [["write_file"]],
  );
  assert.deepEqual(
    layers({ net: { udp: "deny" }, scope: { signal: true } }),
    [["make_block"]],
  );
});
