/**
 * Assembles the initramfs the kernel tests boot: busybox as the shell and
 * tools, `init.sh` as /init, this Deno binary and util-linux's setpriv with
 * the shared libraries `ldd` names for them and for liblandlockd.so, and the
 * project (tracked and untracked-but-not-ignored files, node_modules, the
 * built library and probe) under /project. No kernel modules: Debian's cloud
 * kernels build in everything used here (serial console, Landlock, seccomp).
 *
 * @module
 */

import { type CpioEntry, writeCpio } from "./cpio.ts";

/** The repository root. */
export const ROOT = new URL("../../", import.meta.url).pathname;

/** Host programs the image needs, looked up once. */
export interface HostTools {
  busybox: string;
  setpriv: string;
  deno: string;
}

function firstExisting(paths: string[]): string | undefined {
  return paths.find((p) => {
    try {
      return Deno.statSync(p).isFile;
    } catch {
      return false;
    }
  });
}

/** The host tools, or the reason the image cannot be built. */
export function hostTools(): HostTools | string {
  const busybox = firstExisting(["/bin/busybox", "/usr/bin/busybox"]);
  if (!busybox) {
    return "no static busybox (Debian: apt-get install busybox-static)";
  }
  const ldd = new Deno.Command("ldd", { args: [busybox] }).outputSync();
  if (ldd.success && /=>/.test(new TextDecoder().decode(ldd.stdout))) {
    return `${busybox} is dynamically linked: install busybox-static`;
  }
  const setpriv = firstExisting(["/usr/bin/setpriv", "/bin/setpriv"]);
  if (!setpriv) return "no setpriv (Debian: apt-get install util-linux)";
  return { busybox, setpriv, deno: Deno.execPath() };
}

/** The libraries and loader `ldd` lists for a dynamic executable or .so. */
function sharedLibraries(binary: string): string[] {
  const out = new Deno.Command("ldd", { args: [binary] }).outputSync();
  const text = new TextDecoder().decode(out.stdout);
  const libs: string[] = [];
  for (const line of text.split("\n")) {
    const m = /=>\s*(\/\S+)/.exec(line) ?? /^\s*(\/\S+)\s+\(/.exec(line);
    if (m) libs.push(m[1]);
  }
  return libs;
}

function gitFiles(): string[] {
  const out = new Deno.Command("git", {
    args: ["ls-files", "-z", "--cached", "--others", "--exclude-standard"],
    cwd: ROOT,
  }).outputSync();
  if (!out.success) {
    throw new Error(`Cannot list the project's files: git ls-files failed`);
  }
  return new TextDecoder().decode(out.stdout).split("\0").filter((f) => f);
}

/** Archive entries, parents made on demand, in insertion order per path. */
class Image {
  readonly entries = new Map<string, CpioEntry>();

  dir(path: string, mode = 0o755): void {
    const parts = path.split("/");
    for (let i = 1; i <= parts.length; i++) {
      const p = parts.slice(0, i).join("/");
      if (!this.entries.has(p)) {
        this.entries.set(p, { kind: "dir", path: p, mode });
      }
    }
  }

  private parent(path: string): void {
    const i = path.lastIndexOf("/");
    if (i > 0) this.dir(path.slice(0, i));
  }

  /** A host file (symlinks followed), readable by everyone in the VM. */
  file(path: string, from: string, mode?: number): void {
    this.parent(path);
    const m = mode ?? ((Deno.statSync(from).mode ?? 0o644) & 0o777) | 0o444;
    this.entries.set(path, { kind: "file", path, from, mode: m });
  }

  text(path: string, text: string, mode = 0o644): void {
    this.parent(path);
    const data = new TextEncoder().encode(text);
    this.entries.set(path, { kind: "data", path, mode, data });
  }

  /** A host tree with its symlinks kept (node_modules is made of them). */
  tree(path: string, from: string): void {
    this.dir(path);
    for (const e of Deno.readDirSync(from)) {
      const src = `${from}/${e.name}`;
      const dst = `${path}/${e.name}`;
      if (e.isSymlink) {
        this.parent(dst);
        this.entries.set(dst, {
          kind: "symlink",
          path: dst,
          target: Deno.readLinkSync(src),
        });
      } else if (e.isDirectory) this.tree(dst, src);
      else if (e.isFile) this.file(dst, src);
    }
  }
}

/**
 * The host's cached npm metadata (`registry.json`) for each package in
 * node_modules, as a machine that has run the project once has it. Without
 * it, Deno in the offline VM tries to fetch smol-toml's and zod's metadata
 * whenever `run` loads them through a computed specifier, and prints
 * `Download …` into landlockd's stderr (issue 11, part 1).
 */
function packuments(): Map<string, string> {
  const info = new Deno.Command(Deno.execPath(), { args: ["info", "--json"] })
    .outputSync();
  const found = new Map<string, string>();
  if (!info.success) return found;
  const cache = JSON.parse(new TextDecoder().decode(info.stdout)).npmCache;
  for (const e of Deno.readDirSync(`${ROOT}node_modules/.deno`)) {
    // "zod@4.1.12", "@scope+name@1.0.0"
    const at = e.name.lastIndexOf("@");
    if (at <= 0) continue;
    const name = e.name.slice(0, at).replace("+", "/");
    const file = `${cache}/registry.npmjs.org/${name}/registry.json`;
    try {
      Deno.statSync(file);
      found.set(name, file);
    } catch {
      // not cached on this host: Deno may try to fetch it in the VM
    }
  }
  return found;
}

/** Files the image must carry from the build; their absence is an error. */
const BUILT = ["ffi/build/liblandlockd.so", "ffi/build/probe"];

/**
 * Writes the initramfs to `out`; returns its size in bytes. Throws naming
 * what is missing when the project is not built (`deno task build`).
 */
export async function buildInitramfs(
  out: string,
  tools: HostTools,
): Promise<number> {
  for (const f of [...BUILT, "node_modules"]) {
    try {
      Deno.statSync(`${ROOT}${f}`);
    } catch {
      throw new Error(
        `Cannot build the kernel-test image: "${ROOT}${f}" is missing (run deno task build)`,
      );
    }
  }
  const img = new Image();
  for (const d of ["dev", "proc", "sys", "run", "root", "etc", "usr/bin"]) {
    img.dir(d);
  }
  img.dir("tmp", 0o1777);
  img.dir("var/tmp", 0o1777);
  img.file("init", `${ROOT}tests/kernels/init.sh`, 0o755);
  img.file("bin/busybox", tools.busybox, 0o755);
  img.file("bin/deno", tools.deno, 0o755);
  img.file("usr/bin/setpriv", tools.setpriv, 0o755);
  img.text(
    "etc/passwd",
    "root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n",
  );
  img.text("etc/group", "root:x:0:\nnogroup:x:65534:\n");
  const dynamic = [
    tools.deno,
    tools.setpriv,
    `${ROOT}ffi/build/liblandlockd.so`,
  ];
  for (const lib of new Set(dynamic.flatMap(sharedLibraries))) {
    img.file(lib.slice(1), lib, 0o755);
  }
  for (const f of gitFiles()) {
    try {
      img.file(`project/${f}`, `${ROOT}${f}`);
    } catch (e) {
      // A tracked file deleted in the working tree is simply not there.
      if (!(e instanceof Deno.errors.NotFound)) throw e;
    }
  }
  for (const f of BUILT) img.file(`project/${f}`, `${ROOT}${f}`);
  img.tree("project/node_modules", `${ROOT}node_modules`);
  for (const [name, file] of packuments()) {
    img.file(`root/deno/npm/registry.npmjs.org/${name}/registry.json`, file);
  }
  return await writeCpio(out, [...img.entries.values()]);
}
