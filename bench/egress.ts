/**
 * The egress proxy's cost (`[net] allow_hosts`), for `deno task bench`:
 *
 * - throughput of a 100 MB download from a local server with curl, through
 *   the proxy (a CONNECT tunnel, and plain HTTP) against a direct download
 *   that a `[[net.rule]]` port allows, both inside a sandbox; curl's own
 *   `speed_download`, so landlockd's start-up is not in it;
 * - the latency the proxy adds to a small round trip: connect, CONNECT and
 *   its 200, 64 bytes out and back, against the same without the proxy
 *   (bench/egress_rtt.py, timed inside the sandbox).
 *
 * Names map to 127.0.0.1 through LANDLOCKD_TEST_HOSTS: nothing leaves the
 * machine. Run alone: `deno run -A bench/egress.ts --runs 3`.
 *
 * @module
 */

/** One throughput row: MB/s (10^6 bytes) per run. */
export interface ThroughputRow {
  name: string;
  runs: number;
  median_mb_s: number;
  min_mb_s: number;
  max_mb_s: number;
}

/** The egress rows of the benchmark. */
export interface EgressBench {
  bytes: number;
  throughput: ThroughputRow[];
  /** Proxied median over direct median (target: at least 0.8). */
  ratio_tunnel: number;
  ratio_plain: number;
  rtt: {
    n: number;
    direct: { median_us: number; p95_us: number };
    proxy: { median_us: number; p95_us: number };
    added_median_us: number;
  };
}

const BYTES = 100 * 1024 * 1024;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

/** Runs the egress benchmark; `root` is the repository. */
export async function egressBench(
  root: string,
  runs: number,
  rttN = 500,
): Promise<EgressBench> {
  const deno = Deno.execPath();
  const dir = Deno.makeTempDirSync({ prefix: "landlockd-bench-egress-" });
  // A bare HTTP/1.1 server (big writes, no framework), so the server is
  // not what limits the direct download.
  const chunk = new Uint8Array(1 << 20).map((_, i) => (i * 31) & 0xff);
  const http = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  const serveOne = async (c: Deno.Conn) => {
    const buf = new Uint8Array(16384);
    let head = "";
    while (!head.includes("\r\n\r\n")) {
      const n = await c.read(buf);
      if (n === null) return c.close();
      head += new TextDecoder().decode(buf.subarray(0, n));
    }
    const w = async (b: Uint8Array) => {
      for (let off = 0; off < b.length;) off += await c.write(b.subarray(off));
    };
    await w(new TextEncoder().encode(
      `HTTP/1.1 200 OK\r\nContent-Length: ${BYTES}\r\nConnection: close\r\n\r\n`,
    ));
    for (let sent = 0; sent < BYTES; sent += chunk.length) await w(chunk);
    c.close();
  };
  (async () => {
    for await (const c of http) serveOne(c).catch(() => {});
  })();
  const echo = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for await (const c of echo) {
      c.setNoDelay(true);
      c.readable.pipeTo(c.writable).catch(() => {});
    }
  })();
  const hp = (http.addr as Deno.NetAddr).port;
  const ep = echo.addr.port;
  const hosts = `${dir}/hosts`;
  Deno.writeTextFileSync(hosts, "127.0.0.1 bench.test\n");
  const direct = `${dir}/direct.toml`;
  Deno.writeTextFileSync(
    direct,
    `version = 1
[net]
handled_access_net = ["connect_tcp"]
  [[net.rule]]
  port = ${hp}
  allowed_access = ["connect_tcp"]
  [[net.rule]]
  port = ${ep}
  allowed_access = ["connect_tcp"]
`,
  );
  const proxied = `${dir}/proxied.toml`;
  Deno.writeTextFileSync(
    proxied,
    `version = 1
[net]
allow_hosts = ["bench.test:${hp}", "bench.test:${ep}"]
`,
  );
  const sandboxed = async (policy: string, script: string) => {
    const out = await new Deno.Command(deno, {
      args: [
        "run",
        "--allow-all",
        `${root}main.ts`,
        "run",
        "--policy-file",
        policy,
        "--",
        "sh",
        "-c",
        script,
      ],
      env: { LANDLOCKD_TEST_HOSTS: hosts },
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    if (!out.success) {
      throw new Error(
        `egress bench: ${script}: ${new TextDecoder().decode(out.stderr)}`,
      );
    }
    return text;
  };
  try {
    const curl = (flags: string, host: string) =>
      `curl -sS ${flags} -o /dev/null -w '%{size_download} %{speed_download}\\n' http://${host}:${hp}/big`;
    const cases: [string, string, string][] = [
      ["direct (a [[net.rule]] port)", direct, curl("", "127.0.0.1")],
      ["through the proxy, CONNECT tunnel", proxied, curl("-p", "bench.test")],
      ["through the proxy, plain HTTP", proxied, curl("", "bench.test")],
    ];
    const speeds = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    // Interleaved, so a change in the machine's load hits every row alike.
    for (let i = 0; i < runs; i++) {
      for (const [name, policy, script] of cases) {
        const [size, speed] = (await sandboxed(policy, script)).trim().split(
          " ",
        ).map(Number);
        if (size !== BYTES) {
          throw new Error(`egress bench: ${name}: got ${size} bytes`);
        }
        speeds.get(name)!.push(speed / 1e6);
      }
    }
    const throughput = cases.map(([name]) => {
      const s = speeds.get(name)!;
      return {
        name,
        runs,
        median_mb_s: median(s),
        min_mb_s: Math.min(...s),
        max_mb_s: Math.max(...s),
      };
    });
    const rttScript = `${root}bench/egress_rtt.py`;
    const python = "/usr/bin/python3";
    const parse = (text: string) => {
      const m = /median_us=([\d.]+) p95_us=([\d.]+)/.exec(text)!;
      return { median_us: Number(m[1]), p95_us: Number(m[2]) };
    };
    const rttDirect = parse(
      await sandboxed(
        direct,
        `${python} ${rttScript} direct bench.test ${ep} ${rttN}`,
      ),
    );
    const rttProxy = parse(
      await sandboxed(
        proxied,
        `${python} ${rttScript} proxy bench.test ${ep} ${rttN}`,
      ),
    );
    return {
      bytes: BYTES,
      throughput,
      ratio_tunnel: throughput[1].median_mb_s / throughput[0].median_mb_s,
      ratio_plain: throughput[2].median_mb_s / throughput[0].median_mb_s,
      rtt: {
        n: rttN,
        direct: rttDirect,
        proxy: rttProxy,
        added_median_us: rttProxy.median_us - rttDirect.median_us,
      },
    };
  } finally {
    http.close();
    echo.close();
    Deno.removeSync(dir, { recursive: true });
  }
}

/** The rows as Markdown. */
export function egressTable(e: EgressBench): string {
  const f = (n: number) => n.toFixed(0);
  const lines = [
    `| 100 MB download with curl, in a sandbox | median MB/s | min | max | × direct |`,
    "| --- | ---: | ---: | ---: | ---: |",
    ...e.throughput.map((r, i) =>
      `| ${r.name} | ${f(r.median_mb_s)} | ${f(r.min_mb_s)} | ${
        f(r.max_mb_s)
      } | ${
        i === 0 ? "–" : (i === 1 ? e.ratio_tunnel : e.ratio_plain).toFixed(2)
      } |`
    ),
    "",
    `| small round trip (connect, 64 bytes out and back), ${e.rtt.n} in one process | median µs | p95 µs |`,
    "| --- | ---: | ---: |",
    `| direct | ${e.rtt.direct.median_us.toFixed(0)} | ${
      e.rtt.direct.p95_us.toFixed(0)
    } |`,
    `| through the proxy (CONNECT, 200, then the same) | ${
      e.rtt.proxy.median_us.toFixed(0)
    } | ${e.rtt.proxy.p95_us.toFixed(0)} |`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const i = Deno.args.indexOf("--runs");
  const runs = i >= 0 ? Number(Deno.args[i + 1]) : 5;
  const root = new URL("../", import.meta.url).pathname;
  const e = await egressBench(root, runs);
  console.log(egressTable(e));
  console.log(JSON.stringify(e, null, 2));
}
