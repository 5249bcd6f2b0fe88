import assert from "node:assert/strict";
import { parseHostRules } from "../policy/hosts.ts";
import {
  DEFAULT_LIMITS,
  destinationOf,
  EgressProxy,
  parseAuthority,
  parseHead,
} from "./proxy.ts";
import { mapResolver, parseHostsFile } from "./resolve.ts";

Deno.test("an authority is host:port or [v6]:port, nothing else", () => {
  assert.deepEqual(parseAuthority("Example.org:443"), {
    host: "example.org",
    port: 443,
  });
  assert.deepEqual(parseAuthority("[::1]:8080"), { host: "::1", port: 8080 });
  assert.deepEqual(parseAuthority("example.org", 80), {
    host: "example.org",
    port: 80,
  });
  for (
    const bad of [
      "example.org",
      "a@b:1",
      "a:0",
      "a:65536",
      "[zz]:1",
      "a b:1",
      "a:1/x",
      "a:+1",
    ]
  ) {
    assert.equal(parseAuthority(bad), undefined, bad);
  }
});

Deno.test("a plain request is rewritten to origin form without hop-by-hop headers", () => {
  const d = destinationOf(parseHead(
    "GET http://a.test:8080/x?y HTTP/1.1\r\nHost: a.test:8080\r\nProxy-Authorization: secret\r\nConnection: keep-alive, X-Hop\r\nX-Hop: 1\r\nAccept: */*",
  ));
  assert.equal(d.host, "a.test");
  assert.equal(d.port, 8080);
  assert.equal(d.tunnel, false);
  assert.equal(
    d.upstreamHead,
    "GET /x?y HTTP/1.1\r\nhost: a.test:8080\r\naccept: */*\r\nconnection: close\r\n\r\n",
  );
});

Deno.test("a hosts file is ADDRESS NAME... lines; anything else is an error with its line", () => {
  const m = parseHostsFile("# c\n127.0.0.1 a.test B.test\n\n::1 a.test\n", "f");
  assert.deepEqual(m.get("a.test"), [[127, 0, 0, 1], [
    ...Array(15).fill(0),
    1,
  ]]);
  assert.deepEqual(m.get("b.test"), [[127, 0, 0, 1]]);
  assert.throws(
    () => parseHostsFile("a.test 127.0.0.1\n", "f"),
    /^Error: f:1:/,
  );
});

async function request(port: number, raw: string): Promise<string> {
  const c = await Deno.connect({ hostname: "127.0.0.1", port });
  await c.write(new TextEncoder().encode(raw));
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(4096);
  while (true) {
    const n = await c.read(buf).catch(() => null);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  c.close();
  return new TextDecoder().decode(
    new Uint8Array(chunks.flatMap((x) => [...x])),
  );
}

Deno.test("a slow head is closed after the head timeout, an idle tunnel after the idle timeout, and both are counted out", async () => {
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of upstream) held.push(c); // accepts, never answers
  })();
  const events: [string, Record<string, unknown>][] = [];
  const proxy = new EgressProxy(
    parseHostRules([`idle.test:${upstream.addr.port}`]),
    mapResolver(new Map([["idle.test", [[127, 0, 0, 1]]]])),
    (e, f) => events.push([e, f]),
    { ...DEFAULT_LIMITS, headTimeoutMs: 200, idleTimeoutMs: 300 },
  );
  try {
    const slow = await request(proxy.port, "CONNECT idle.test:1 HTTP/1.1\r\n");
    assert.equal(slow, ""); // closed without an answer
    const idle = await request(
      proxy.port,
      `CONNECT idle.test:${upstream.addr.port} HTTP/1.1\r\n\r\n`,
    );
    assert.match(idle, /^HTTP\/1\.1 200 /);
    assert.equal(proxy.active, 0);
    assert.deepEqual(events.map(([e, f]) => [e, f.status ?? f.method]), [
      ["net.deny", 408],
      ["net.allow", "CONNECT"],
    ]);
  } finally {
    await proxy.stop();
    upstream.close();
    held.forEach((c) => c.close());
  }
});

Deno.test("past maxConnections a connection gets 503 at once; stop closes the rest and writes their events", async () => {
  const upstream = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const held: Deno.Conn[] = [];
  (async () => {
    for await (const c of upstream) held.push(c);
  })();
  const events: string[] = [];
  const proxy = new EgressProxy(
    parseHostRules([`x.test:${upstream.addr.port}`]),
    mapResolver(new Map([["x.test", [[127, 0, 0, 1]]]])),
    (e, f) => events.push(`${e} ${f.status ?? f.method}`),
    { ...DEFAULT_LIMITS, maxConnections: 2 },
  );
  const open: Deno.Conn[] = [];
  try {
    for (let i = 0; i < 2; i++) {
      const c = await Deno.connect({ hostname: "127.0.0.1", port: proxy.port });
      await c.write(
        new TextEncoder().encode(
          `CONNECT x.test:${upstream.addr.port} HTTP/1.1\r\n\r\n`,
        ),
      );
      await c.read(new Uint8Array(100)); // the 200
      open.push(c);
    }
    const third = await request(
      proxy.port,
      "CONNECT x.test:1 HTTP/1.1\r\n\r\n",
    );
    assert.match(third, /^HTTP\/1\.1 503 /);
    await proxy.stop();
    assert.deepEqual(events.sort(), [
      "net.allow CONNECT",
      "net.allow CONNECT",
      "net.deny 503",
    ]);
  } finally {
    await proxy.stop();
    open.forEach((c) => c.close());
    upstream.close();
    held.forEach((c) => c.close());
  }
});
