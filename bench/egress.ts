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
 * Rows and round trips are interleaved run by run, so a change in the
 * machine's load hits every row alike; the load average is recorded.
 * `--baseline DIR` adds the proxy rows of another checkout of landlockd
 * (e.g. `git worktree add /var/tmp/base <commit>`, then `deno task build`
 * there), interleaved the same way, for a before/after under one load.
 *
 * Names map to 127.0.0.1 through LANDLOCKD_TEST_HOSTS: nothing leaves the
 * machine. Run alone: `deno run -A bench/egress.ts --runs 5 [--rtt 500]
 * [--baseline DIR]`; it writes bench/results/egress-<date>.json.
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
  /** Each run's MB/s, in run order. */
  mb_s: number[];
}

/** A round trip's timing: medians over runs of each run's median, p95. */
export interface RttRow {
  median_us: number;
  p95_us: number;
  /** Each run's median. */
  runs_median_us: number[];
}

/** The egress rows of the benchmark. */
export interface EgressBench {
  bytes: number;
  runs: number;
  loadavg_start: number[];
  loadavg_end: number[];
  throughput: ThroughputRow[];
  /** Proxied median over direct median (target: at least 0.8). */
  ratio_tunnel: number;
  ratio_plain: number;
  rtt: {
    n: number;
    direct: RttRow;
    proxy: RttRow;
    added_median_us: number;
  };
  /** The same proxy rows from another checkout (`--baseline`). */
  baseline?: {
    root: string;
    ratio_tunnel: number;
    ratio_plain: number;
    rtt_proxy: RttRow;
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
  baseline?: string,
): Promise<EgressBench> {
  const loadavgStart = Deno.loadavg();
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
  const sandboxed = async (policy: string, script: string, from = root) => {
    const out = await new Deno.Command(deno, {
      args: [
        "run",
        "--allow-all",
        `${from}main.ts`,
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
    const tunnel = curl("-p", "bench.test");
    const plain = curl("", "bench.test");
    const cases: [string, string, string, string][] = [
      ["direct (a [[net.rule]] port)", direct, curl("", "127.0.0.1"), root],
      ["through the proxy, CONNECT tunnel", proxied, tunnel, root],
      ["through the proxy, plain HTTP", proxied, plain, root],
    ];
    if (baseline) {
      cases.push(
        [
          "baseline: through the proxy, CONNECT tunnel",
          proxied,
          tunnel,
          baseline,
        ],
        ["baseline: through the proxy, plain HTTP", proxied, plain, baseline],
      );
    }
    const rttScript = `${root}bench/egress_rtt.py`;
    const python = "/usr/bin/python3";
    const parse = (text: string) => {
      const m = /median_us=([\d.]+) p95_us=([\d.]+)/.exec(text)!;
      return { median_us: Number(m[1]), p95_us: Number(m[2]) };
    };
    const rttCases: [string, string, string, string][] = [
      [
        "direct",
        direct,
        `${python} ${rttScript} direct bench.test ${ep} ${rttN}`,
        root,
      ],
      [
        "proxy",
        proxied,
        `${python} ${rttScript} proxy bench.test ${ep} ${rttN}`,
        root,
      ],
    ];
    if (baseline) {
      rttCases.push(["baseline", proxied, rttCases[1][2], baseline]);
    }
    const speeds = new Map<string, number[]>(cases.map(([n]) => [n, []]));
    const rtts = new Map<string, { median_us: number; p95_us: number }[]>(
      rttCases.map(([n]) => [n, []]),
    );
    // Interleaved, so a change in the machine's load hits every row alike;
    // every other run in the reverse order.
    for (let i = 0; i < runs; i++) {
      const order = i % 2 ? [...cases].reverse() : cases;
      for (const [name, policy, script, from] of order) {
        const [size, speed] = (await sandboxed(policy, script, from)).trim()
          .split(" ").map(Number);
        if (size !== BYTES) {
          throw new Error(`egress bench: ${name}: got ${size} bytes`);
        }
        speeds.get(name)!.push(speed / 1e6);
      }
      const rttOrder = i % 2 ? [...rttCases].reverse() : rttCases;
      for (const [name, policy, script, from] of rttOrder) {
        rtts.get(name)!.push(parse(await sandboxed(policy, script, from)));
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
        mb_s: s,
      };
    });
    const rttRow = (name: string): RttRow => {
      const r = rtts.get(name)!;
      return {
        median_us: median(r.map((x) => x.median_us)),
        p95_us: median(r.map((x) => x.p95_us)),
        runs_median_us: r.map((x) => x.median_us),
      };
    };
    const rttDirect = rttRow("direct");
    const rttProxy = rttRow("proxy");
    const ratio = (i: number) =>
      throughput[i].median_mb_s / throughput[0].median_mb_s;
    const base = baseline ? rttRow("baseline") : undefined;
    return {
      bytes: BYTES,
      runs,
      loadavg_start: loadavgStart,
      loadavg_end: Deno.loadavg(),
      throughput,
      ratio_tunnel: ratio(1),
      ratio_plain: ratio(2),
      rtt: {
        n: rttN,
        direct: rttDirect,
        proxy: rttProxy,
        added_median_us: rttProxy.median_us - rttDirect.median_us,
      },
      ...(baseline && base
        ? {
          baseline: {
            root: baseline,
            ratio_tunnel: ratio(3),
            ratio_plain: ratio(4),
            rtt_proxy: base,
            added_median_us: base.median_us - rttDirect.median_us,
          },
        }
        : {}),
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
  const ratios = [
    undefined,
    e.ratio_tunnel,
    e.ratio_plain,
    e.baseline?.ratio_tunnel,
    e.baseline?.ratio_plain,
  ];
  const lines = [
    `| 100 MB download with curl, in a sandbox (${e.runs} runs, interleaved) | median MB/s | min | max | × direct |`,
    "| --- | ---: | ---: | ---: | ---: |",
    ...e.throughput.map((r, i) =>
      `| ${r.name} | ${f(r.median_mb_s)} | ${f(r.min_mb_s)} | ${
        f(r.max_mb_s)
      } | ${ratios[i] === undefined ? "–" : ratios[i]!.toFixed(2)} |`
    ),
    "",
    `| small round trip (connect, 64 bytes out and back), ${e.rtt.n} in one process, median of ${e.runs} runs | median µs | p95 µs | added µs |`,
    "| --- | ---: | ---: | ---: |",
    `| direct | ${f(e.rtt.direct.median_us)} | ${f(e.rtt.direct.p95_us)} | – |`,
    `| through the proxy (CONNECT, 200, then the same) | ${
      f(e.rtt.proxy.median_us)
    } | ${f(e.rtt.proxy.p95_us)} | ${f(e.rtt.added_median_us)} |`,
    ...(e.baseline
      ? [
        `| baseline: through the proxy | ${
          f(e.baseline.rtt_proxy.median_us)
        } | ${f(e.baseline.rtt_proxy.p95_us)} | ${
          f(e.baseline.added_median_us)
        } |`,
      ]
      : []),
    "",
    `load average (1, 5, 15 min): ${
      e.loadavg_start.map((x) => x.toFixed(2)).join(", ")
    } at the start, ${
      e.loadavg_end.map((x) => x.toFixed(2)).join(", ")
    } at the end`,
  ];
  return lines.join("\n");
}

if (import.meta.main) {
  const opt = (name: string) => {
    const i = Deno.args.indexOf(`--${name}`);
    return i >= 0 ? Deno.args[i + 1] : undefined;
  };
  const runs = Number(opt("runs") ?? 5);
  const rttN = Number(opt("rtt") ?? 500);
  const baseline = opt("baseline")?.replace(/\/?$/, "/");
  const root = new URL("../", import.meta.url).pathname;
  const e = await egressBench(root, runs, rttN, baseline);
  console.log(egressTable(e));
  Deno.mkdirSync(`${root}bench/results`, { recursive: true });
  const file = `${root}bench/results/egress-${
    new Date().toISOString().replace(/[:.]/g, "-")
  }.json`;
  const commit = (dir: string) =>
    new TextDecoder().decode(
      new Deno.Command("git", {
        args: ["-C", dir, "rev-parse", "HEAD"],
        stdout: "piped",
        stderr: "null",
      }).outputSync().stdout,
    ).trim() || undefined;
  Deno.writeTextFileSync(
    file,
    JSON.stringify(
      {
        date: new Date().toISOString(),
        commit: commit(root),
        baseline_commit: baseline ? commit(baseline) : undefined,
        cpus: navigator.hardwareConcurrency,
        egress: e,
      },
      null,
      2,
    ) + "\n",
  );
  console.log(`\nwrote ${file}`);
}
