/**
 * What a relay in the egress proxy's place can reach on this machine: a
 * 100 MB loopback download with curl, directly and through
 *
 * - a C relay that copies with read/write (1 MiB buffer),
 * - a C relay that moves the bytes with splice(2) (socket -> pipe ->
 *   socket, never in userspace),
 * - landlockd's proxy on its Worker (proxy/start.ts), CONNECT tunnel and
 *   plain HTTP,
 *
 * all from one C server (bench/egress_relay.c), outside any sandbox (the
 * sandbox costs nothing per byte: bench/egress.ts measures inside one).
 * Rows are interleaved run by run, every other run in reverse order.
 *
 * `deno run -A bench/egress_relay.ts [--runs 15]` (needs cc and curl);
 * writes bench/results/egress-relay-<date>.json.
 *
 * @module
 */

import { startProxy } from "../proxy/start.ts";
import { TEST_HOSTS_VARIABLE } from "../proxy/resolve.ts";

const BYTES = 100 * 1024 * 1024;
const root = new URL("../", import.meta.url).pathname;
const runs = Number(
  Deno.args[Deno.args.indexOf("--runs") + 1] ?? 15,
) || 15;

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 ? s[m] : (s[m - 1] + s[m]) / 2;
}

const dir = Deno.makeTempDirSync({ prefix: "landlockd-egress-relay-" });
const exe = `${dir}/egress_relay`;
const built = new Deno.Command(Deno.env.get("CC") ?? "cc", {
  args: ["-O2", "-Wall", "-pthread", "-o", exe, `${root}bench/egress_relay.c`],
}).outputSync();
if (!built.success) {
  console.error(new TextDecoder().decode(built.stderr));
  Deno.exit(1);
}

/** Starts the helper; its process and the port it printed. */
async function helper(
  ...args: string[]
): Promise<{ child: Deno.ChildProcess; port: number }> {
  const child = new Deno.Command(exe, { args, stdout: "piped" }).spawn();
  const reader = child.stdout.getReader();
  let text = "";
  while (!text.includes("\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`egress_relay ${args.join(" ")} did not start`);
    text += new TextDecoder().decode(value);
  }
  reader.releaseLock();
  child.stdout.cancel().catch(() => {});
  return { child, port: Number(text.trim()) };
}

const server = await helper("server");
const copy = await helper("copy", String(server.port));
const splice = await helper("splice", String(server.port));
Deno.writeTextFileSync(`${dir}/hosts`, "127.0.0.1 bench.test\n");
Deno.env.set(TEST_HOSTS_VARIABLE, `${dir}/hosts`);
const proxy = await startProxy([`bench.test:${server.port}`], []);
const loadavgStart = Deno.loadavg();

const curl = async (args: string[]): Promise<number> => {
  const out = await new Deno.Command("curl", {
    args: [
      "-sS",
      "-o",
      "/dev/null",
      "-w",
      "%{size_download} %{speed_download}",
      ...args,
    ],
    stdout: "piped",
  }).output();
  const [size, speed] = new TextDecoder().decode(out.stdout).split(" ")
    .map(Number);
  if (!out.success || size !== BYTES) {
    throw new Error(`curl ${args.join(" ")}: got ${size} bytes`);
  }
  return speed / 1e6;
};
const url = (port: number, host = "127.0.0.1") => `http://${host}:${port}/big`;
const viaProxy = ["-x", `http://127.0.0.1:${proxy.port}`];
const cases: [string, string[]][] = [
  ["direct", [url(server.port)]],
  ["C relay, read/write (1 MiB buffer)", [url(copy.port)]],
  ["C relay, splice(2) through a pipe", [url(splice.port)]],
  ["landlockd proxy, CONNECT tunnel", [
    "-p",
    ...viaProxy,
    url(server.port, "bench.test"),
  ]],
  ["landlockd proxy, plain HTTP", [
    ...viaProxy,
    url(server.port, "bench.test"),
  ]],
];

const speeds = new Map<string, number[]>(cases.map(([n]) => [n, []]));
try {
  for (let i = 0; i < runs; i++) {
    for (const [name, args] of i % 2 ? [...cases].reverse() : cases) {
      speeds.get(name)!.push(await curl(args));
    }
  }
} finally {
  await proxy.stop();
  for (const h of [server, copy, splice]) {
    h.child.kill();
    await h.child.status;
  }
  Deno.removeSync(dir, { recursive: true });
}

const direct = median(speeds.get("direct")!);
const rows = cases.map(([name]) => {
  const s = speeds.get(name)!;
  return {
    name,
    median_mb_s: median(s),
    min_mb_s: Math.min(...s),
    max_mb_s: Math.max(...s),
    ratio_direct: median(s) / direct,
    mb_s: s,
  };
});
const f = (n: number) => n.toFixed(0);
console.log(
  [
    `| 100 MB loopback download with curl (${runs} runs, interleaved) | median MB/s | min | max | × direct |`,
    "| --- | ---: | ---: | ---: | ---: |",
    ...rows.map((r) =>
      `| ${r.name} | ${f(r.median_mb_s)} | ${f(r.min_mb_s)} | ${
        f(r.max_mb_s)
      } | ${r.ratio_direct.toFixed(2)} |`
    ),
    "",
    `load average: ${
      loadavgStart.map((x) => x.toFixed(2)).join(", ")
    } at the start, ${
      Deno.loadavg().map((x) => x.toFixed(2)).join(", ")
    } at the end`,
  ].join("\n"),
);
const commit = new TextDecoder().decode(
  new Deno.Command("git", {
    args: ["-C", root, "rev-parse", "HEAD"],
    stdout: "piped",
  }).outputSync().stdout,
).trim();
Deno.mkdirSync(`${root}bench/results`, { recursive: true });
const file = `${root}bench/results/egress-relay-${
  new Date().toISOString().replace(/[:.]/g, "-")
}.json`;
Deno.writeTextFileSync(
  file,
  JSON.stringify(
    {
      date: new Date().toISOString(),
      commit,
      cpus: navigator.hardwareConcurrency,
      kernel: Deno.osRelease(),
      bytes: BYTES,
      runs,
      loadavg_start: loadavgStart,
      loadavg_end: Deno.loadavg(),
      rows,
    },
    null,
    2,
  ) + "\n",
);
console.log(`\nwrote ${file}`);
