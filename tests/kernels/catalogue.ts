/**
 * Which Debian kernels the harness boots, and fetching them. The harness
 * keeps its own apt configuration under the cache directory (Debian 12's
 * bookworm, -updates, -security and -backports; the system's sources are
 * neither read nor changed), lists every `linux-image-*-cloud-amd64-unsigned`
 * package there, and takes the newest package of each kernel series (6.1,
 * 6.12, …). A package is fetched with `apt-get download` and unpacked with
 * `dpkg-deb`, never installed; only its vmlinuz and config are kept.
 *
 * The cache is `$LANDLOCKD_KERNEL_CACHE`, else
 * `${XDG_CACHE_HOME:-~/.cache}/landlockd-kernels`; it is never in the repo.
 * Without network, kernels already in the cache are used.
 *
 * @module
 */

import { ABI_VERSIONS } from "../../policy/rights.ts";

/** A kernel ready to boot. */
export interface Kernel {
  /** `6.1`, `6.12`: what Landlock's ABI follows. */
  series: string;
  /** `linux-image-6.1.0-57-cloud-amd64-unsigned` */
  pkg: string;
  /** The package version, `6.1.192-3`. */
  version: string;
  /** `uname -r` of the booted kernel: `6.1.0-57-cloud-amd64`. */
  release: string;
  vmlinuz: string;
  /** The Landlock ABI this series provides (the table in policy/rights.ts). */
  abi: number;
}

/** The kernels found, and a note for each one that could not be had. */
export interface Catalogue {
  kernels: Kernel[];
  skipped: { series: string; reason: string }[];
}

/** The series this project must be proven on, whatever apt says. */
export const REQUIRED_SERIES = ["6.1"];

/** Debian 12's suites the harness looks in. */
const SUITES = [
  ["http://deb.debian.org/debian", "bookworm"],
  ["http://deb.debian.org/debian", "bookworm-updates"],
  ["http://deb.debian.org/debian-security", "bookworm-security"],
  ["http://deb.debian.org/debian", "bookworm-backports"],
];

const KEYRING = "/usr/share/keyrings/debian-archive-keyring.gpg";
const PACKAGE = /^linux-image-((\d+)\.(\d+)\.\S+-cloud-amd64)-unsigned$/;

/** The cache directory (created on first use). */
export function cacheDir(): string {
  const explicit = Deno.env.get("LANDLOCKD_KERNEL_CACHE");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME") ??
    `${Deno.env.get("HOME") ?? "/root"}/.cache`;
  return `${xdg}/landlockd-kernels`;
}

/** The Landlock ABI of a kernel series, from the ABI table. */
export function abiOfSeries(series: string): number {
  const key = (v: string) => v.split(".").map(Number);
  const [maj, min] = key(series);
  let abi = 0;
  for (const v of ABI_VERSIONS) {
    const [vmaj, vmin] = key(v.kernel);
    if (maj > vmaj || (maj === vmaj && min >= vmin)) abi = v.abi;
  }
  return abi;
}

/** Compares release strings by their numbers: 6.1.0-9 < 6.1.0-57. */
export function compareReleases(a: string, b: string): number {
  const na = a.match(/\d+/g)!.map(Number);
  const nb = b.match(/\d+/g)!.map(Number);
  for (let i = 0; i < Math.max(na.length, nb.length); i++) {
    const d = (na[i] ?? -1) - (nb[i] ?? -1);
    if (d !== 0) return d;
  }
  return 0;
}

function exists(path: string): boolean {
  try {
    Deno.statSync(path);
    return true;
  } catch {
    return false;
  }
}

interface Run {
  ok: boolean;
  out: string;
  err: string;
}

function run(cmd: string, args: string[], cwd?: string): Run {
  try {
    const o = new Deno.Command(cmd, { args, cwd, stdin: "null" })
      .outputSync();
    const dec = new TextDecoder();
    return {
      ok: o.success,
      out: dec.decode(o.stdout),
      err: dec.decode(o.stderr).trim() || `exit status ${o.code}`,
    };
  } catch (e) {
    return { ok: false, out: "", err: `${cmd}: ${(e as Error).message}` };
  }
}

/** apt options that point every path apt writes at the harness's cache. */
function aptOptions(cache: string): string[] {
  const apt = `${cache}/apt`;
  for (const d of ["lists/partial", "archives/partial", "cache"]) {
    Deno.mkdirSync(`${apt}/${d}`, { recursive: true });
  }
  Deno.writeTextFileSync(
    `${apt}/sources.list`,
    SUITES.map(([uri, suite]) =>
      `deb [signed-by=${KEYRING}] ${uri} ${suite} main\n`
    ).join(""),
  );
  const opts = {
    "Dir::Etc::sourcelist": `${apt}/sources.list`,
    "Dir::Etc::sourceparts": "-",
    "Dir::State::Lists": `${apt}/lists`,
    "Dir::Cache": `${apt}/cache`,
    "Dir::Cache::archives": `${apt}/archives`,
    "APT::Get::List-Cleanup": "0",
    // As root, apt would drop to _apt, who cannot write a private cache.
    ...(Deno.uid() === 0 ? { "APT::Sandbox::User": "root" } : {}),
  };
  return Object.entries(opts).flatMap(([k, v]) => ["-o", `${k}=${v}`]);
}

/** What kernel.json keeps beside each unpacked vmlinuz. */
type Meta = Pick<Kernel, "series" | "pkg" | "version" | "release">;

/** The kernel unpacked in `dir`, if that finished. */
function readCached(dir: string): Kernel | undefined {
  try {
    const meta: Meta = JSON.parse(Deno.readTextFileSync(`${dir}/kernel.json`));
    const vmlinuz = `${dir}/vmlinuz`;
    Deno.statSync(vmlinuz);
    return { ...meta, vmlinuz, abi: abiOfSeries(meta.series) };
  } catch {
    return undefined;
  }
}

/** Kernels unpacked by an earlier run, newest first. */
function cachedKernels(cache: string): Kernel[] {
  const found: Kernel[] = [];
  try {
    for (const e of Deno.readDirSync(`${cache}/kernels`)) {
      const k = readCached(`${cache}/kernels/${e.name}`);
      if (k) found.push(k);
    }
  } catch {
    // no cache yet
  }
  return found.sort((a, b) => compareReleases(b.release, a.release));
}

/** Removes the cached kernels of `k`'s series that `k` supersedes. */
function pruneOlder(cache: string, k: Kernel): void {
  for (const old of cachedKernels(cache)) {
    if (old.series === k.series && old.release !== k.release) {
      Deno.removeSync(`${cache}/kernels/${old.release}`, { recursive: true });
    }
  }
}

/** Downloads and unpacks one package into the cache; returns its kernel. */
function fetchKernel(
  cache: string,
  apt: string[],
  pkg: string,
  release: string,
  series: string,
): Kernel | string {
  const dir = `${cache}/kernels/${release}`;
  const cached = readCached(dir);
  if (cached) return cached;
  const work = Deno.makeTempDirSync({ dir: cache, prefix: "download-" });
  try {
    const dl = run("apt-get", [...apt, "-qq", "download", pkg], work);
    const deb = [...Deno.readDirSync(work)].find((e) =>
      e.name.endsWith(".deb")
    );
    if (!dl.ok || !deb) return `apt-get download ${pkg} failed: ${dl.err}`;
    const version = decodeURIComponent(deb.name.split("_")[1]);
    const x = run("dpkg-deb", ["-x", `${work}/${deb.name}`, `${work}/root`]);
    if (!x.ok) return `dpkg-deb -x ${deb.name} failed: ${x.err}`;
    Deno.mkdirSync(dir, { recursive: true });
    Deno.renameSync(`${work}/root/boot/vmlinuz-${release}`, `${dir}/vmlinuz`);
    Deno.renameSync(`${work}/root/boot/config-${release}`, `${dir}/config`);
    const meta: Meta = { series, pkg, version, release };
    Deno.writeTextFileSync(`${dir}/kernel.json`, JSON.stringify(meta));
    return readCached(dir) ?? `unpacking ${deb.name} left no kernel`;
  } finally {
    Deno.removeSync(work, { recursive: true });
  }
}

/**
 * The newest cloud kernel of every series Debian 12's suites offer, fetched
 * into the cache; falls back to the cache when apt cannot be reached.
 */
export function catalogue(): Catalogue {
  const cache = cacheDir();
  Deno.mkdirSync(cache, { recursive: true });
  const kernels: Kernel[] = [];
  const skipped: Catalogue["skipped"] = [];
  const problems: string[] = [];

  const newest = new Map<string, { pkg: string; release: string }>();
  let apt: string[] = [];
  if (!exists(KEYRING)) {
    problems.push(`no ${KEYRING} (apt-get install debian-archive-keyring)`);
  } else {
    apt = aptOptions(cache);
    const update = run("apt-get", [...apt, "-qq", "update"]);
    if (!update.ok) problems.push(`apt-get update failed: ${update.err}`);
    const search = run("apt-cache", [
      ...apt,
      "search",
      "--names-only",
      "^linux-image-.*-cloud-amd64-unsigned$",
    ]);
    for (const line of search.out.split("\n")) {
      const m = PACKAGE.exec(line.split(" ")[0]);
      if (!m) continue;
      const [pkg, release, maj, min] = m;
      const series = `${maj}.${min}`;
      const prev = newest.get(series);
      if (!prev || compareReleases(release, prev.release) > 0) {
        newest.set(series, { pkg, release });
      }
    }
    if (!search.ok) problems.push(`apt-cache search failed: ${search.err}`);
  }

  for (const [series, { pkg, release }] of newest) {
    const k = fetchKernel(cache, apt, pkg, release, series);
    if (typeof k === "string") problems.push(k);
    else {
      kernels.push(k);
      pruneOlder(cache, k);
    }
  }
  // Offline, or a download failed: whatever series the cache still has.
  for (const k of cachedKernels(cache)) {
    if (!kernels.some((have) => have.series === k.series)) kernels.push(k);
  }
  kernels.sort((a, b) => compareReleases(a.release, b.release));
  for (const series of REQUIRED_SERIES) {
    if (!kernels.some((k) => k.series === series)) {
      skipped.push({
        series,
        reason: `no linux-image-${series}.*-cloud-amd64-unsigned package${
          problems.length
            ? `: ${problems.join("; ")}`
            : " in Debian 12's suites"
        }`,
      });
    }
  }
  return { kernels, skipped };
}
