import assert from "node:assert/strict";
import {
  encodeFrame,
  fdsFor,
  FrameReader,
  LIMITS,
  parseRequest,
  PREFIX,
  ProtocolError,
  RequestError,
  type RunMemory,
  type RunRequest,
} from "./protocol.ts";

const run = (over: Record<string, unknown> = {}, body = new Uint8Array()) => ({
  header: {
    v: 1,
    type: "run",
    id: 7,
    policy: { name: "p.toml", text: "version = 1\n" },
    argv: ["true"],
    env: { PATH: "/usr/bin" },
    cwd: "/",
    stdio: "capture",
    ...over,
  },
  body,
});

Deno.test("frames survive being split and joined anywhere", () => {
  const a = encodeFrame({ type: "status", id: 1 });
  const b = encodeFrame({ type: "run", id: 2 }, new Uint8Array([1, 2, 3]));
  const stream = new Uint8Array([...a, ...b]);
  for (let cut = 0; cut <= stream.length; cut++) {
    const reader = new FrameReader();
    const frames = [
      ...reader.push(stream.subarray(0, cut)),
      ...reader.push(stream.subarray(cut)),
    ];
    assert.deepEqual(frames.map((f) => f.header.id), [1, 2], `cut ${cut}`);
    assert.deepEqual([...frames[1].body], [1, 2, 3]);
    assert.equal(frames[0].header.v, 1);
    assert.equal(reader.pending, 0);
  }
});

Deno.test("oversized frames are refused from their prefix alone", () => {
  const prefix = (h: number, b: number) => {
    const p = new Uint8Array(PREFIX);
    new DataView(p.buffer).setUint32(0, h, true);
    new DataView(p.buffer).setUint32(4, b, true);
    return p;
  };
  assert.throws(
    () => new FrameReader().push(prefix(LIMITS.header + 1, 0)),
    (e: ProtocolError) => e.code === "limit" && /header/.test(e.message),
  );
  assert.throws(
    () => new FrameReader().push(prefix(2, LIMITS.body + 1)),
    (e: ProtocolError) => e.code === "limit" && /body/.test(e.message),
  );
  const json = new TextEncoder().encode("[1]");
  assert.throws(
    () => new FrameReader().push(new Uint8Array([...prefix(3, 0), ...json])),
    /not a JSON object/,
  );
});

Deno.test("a valid run request is read with defaults", () => {
  const req = parseRequest(run({ sig_ignore: "3" })) as RunRequest;
  assert.deepEqual(req, {
    type: "run",
    id: 7,
    policy: { name: "p.toml", text: "version = 1\n" },
    argv: ["true"],
    env: { PATH: "/usr/bin" },
    cwd: "/",
    stdio: "capture",
    audit_fd: false,
    sig_ignore: 3n,
    explain: false,
    trust: [],
    quiet: false,
  });
  assert.equal(fdsFor(req), 0);
  assert.equal(fdsFor({ ...req, stdio: "fds" }), 3);
  assert.equal(fdsFor({ ...req, stdio: "fds", audit_fd: true }), 4);
});

Deno.test("a run request carries what its client trusts", () => {
  const trust = [{
    path: "/home/u/p.toml",
    tree: false,
    what: "this policy file",
    hint: "keep it elsewhere",
  }];
  const req = parseRequest(run({ trust })) as RunRequest;
  assert.deepEqual(req.trust, trust);
});

Deno.test("every field of a request is checked, with its name in the error", () => {
  const cases: [Record<string, unknown>, RegExp, string?][] = [
    [{ v: 2 }, /version 2 is not supported/],
    [{ id: -1 }, /id: expected a non-negative integer/],
    [{ type: "exec" }, /type: expected "run"/],
    [{ policy: "x" }, /policy: expected an object/],
    [{ policy: { name: "p", text: 1 } }, /policy.text: expected a string/],
    [
      { policy: { name: "p", text: "#".repeat(LIMITS.policy + 1) } },
      /policy.text: longer than the limit/,
      "limit",
    ],
    [{ argv: [] }, /argv: expected a non-empty array/],
    [{ explain: "yes" }, /explain: expected true or false/],
    [{ quiet: 1 }, /quiet: expected true or false/],
    [{ reuse: "env" }, /reuse: expected an array of policy, env, trust/],
    [{ reuse: ["argv"] }, /reuse: expected distinct items .* got "argv"/],
    [{ reuse: ["env", "env"] }, /reuse: expected distinct items/],
    [{ reuse: ["env"] }, /env: sent and named in reuse/],
    [
      { reuse: ["policy"], policy: undefined },
      /reuse: no earlier run on this connection sent policy/,
    ],
    [{ argv: ["a\0b"] }, /argv\[0\]: contains a NUL byte/],
    [
      { argv: Array(LIMITS.argv + 1).fill("x") },
      /argv: more than 4096 items/,
      "limit",
    ],
    [{ env: [] }, /env: expected an object/],
    [{ env: { "A=B": "x" } }, /env: "A=B" is not a variable name/],
    [{ env: { A: 1 } }, /env.A: expected a string/],
    [{ cwd: "relative" }, /cwd: expected an absolute path/],
    [{ stdio: "inherit" }, /stdio: expected "fds" or "capture"/],
    [{ audit_fd: true }, /audit_fd: only with stdio "fds"/],
    [{ sig_ignore: "xyz" }, /sig_ignore: expected up to 16/],
    [{ trust: {} }, /trust: expected an array/],
    [{ trust: ["/x"] }, /trust\[0\]: expected an object/],
    [
      { trust: [{ path: "x", tree: true, what: "w", hint: "h" }] },
      /trust\[0\].path: expected an absolute path/,
    ],
    [
      { trust: [{ path: "/x", tree: 1, what: "w", hint: "h" }] },
      /trust\[0\].tree: expected true or false/,
    ],
    [
      { trust: [{ path: "/x", tree: true, hint: "h" }] },
      /trust\[0\].what: expected a string/,
    ],
    [
      { trust: Array(LIMITS.trust + 1).fill({}) },
      /trust: more than 64 items/,
      "limit",
    ],
  ];
  for (const [over, message, code = "protocol"] of cases) {
    assert.throws(
      () => parseRequest(run(over)),
      (e: RequestError) =>
        e instanceof RequestError && message.test(e.message) &&
        e.code === code,
      JSON.stringify(over).slice(0, 80),
    );
  }
  assert.throws(
    () => parseRequest(run({}, new Uint8Array(LIMITS.stdin + 1))),
    /stdin: longer than the limit/,
  );
  assert.throws(
    () => parseRequest(run({ stdio: "fds" }, new Uint8Array(1))),
    /stdio "fds" has no body/,
  );
});

Deno.test("a run reuses what earlier runs on its connection sent, and only that", () => {
  const memory: RunMemory = {};
  const trust = [{ path: "/p.toml", tree: false, what: "w", hint: "h" }];
  const first = parseRequest(run({ trust }), memory) as RunRequest;
  assert.deepEqual(memory, {
    policy: first.policy,
    env: first.env,
    trust: first.trust,
  });
  const reused = { policy: undefined, env: undefined, trust: undefined };
  const second = parseRequest(
    run({ ...reused, id: 8, reuse: ["policy", "env", "trust"], quiet: true }),
    memory,
  ) as RunRequest;
  assert.equal(second.policy, first.policy);
  assert.equal(second.env, first.env);
  assert.equal(second.trust, first.trust);
  assert.equal(second.quiet, true);
  // A field sent again replaces the memory; the others stay.
  const third = parseRequest(
    run({ ...reused, env: { PATH: "/bin" }, reuse: ["policy", "trust"] }),
    memory,
  ) as RunRequest;
  assert.deepEqual(third.env, { PATH: "/bin" });
  assert.equal(memory.env, third.env);
  assert.equal(memory.policy, first.policy);
  // Another connection's memory, or none, holds nothing of this one's.
  for (const other of [{}, undefined]) {
    assert.throws(
      () => parseRequest(run({ env: undefined, reuse: ["env"] }), other),
      (e: RequestError) =>
        e.code === "protocol" &&
        e.message === "reuse: no earlier run on this connection sent env",
    );
  }
  // A request that fails its checks leaves the memory as it was.
  assert.throws(() =>
    parseRequest(run({ env: { A: "x" }, cwd: "relative" }), memory)
  );
  assert.equal(memory.env, third.env);
});

Deno.test("signal, status and stop requests", () => {
  const frame = (h: Record<string, unknown>) => ({
    header: { v: 1, id: 1, ...h },
    body: new Uint8Array(),
  });
  assert.deepEqual(parseRequest(frame({ type: "signal", signal: "SIGINT" })), {
    type: "signal",
    id: 1,
    signal: 2,
  });
  assert.throws(
    () => parseRequest(frame({ type: "signal", signal: "SIGSTOP" })),
    /signal: expected one of/,
  );
  assert.deepEqual(parseRequest(frame({ type: "stop" })), {
    type: "stop",
    id: 1,
    grace: 10,
    now: false,
  });
  assert.throws(
    () => parseRequest(frame({ type: "stop", grace: -1 })),
    /grace: expected seconds/,
  );
  assert.deepEqual(parseRequest(frame({ type: "status" })), {
    type: "status",
    id: 1,
  });
});
