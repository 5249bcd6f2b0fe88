/**
 * What the checks use inside the virtual machine: run landlockd as root or
 * as nobody, build a fresh directory tree with the probe, write a policy.
 * Only `probeResults` is also used on the host. tests/helpers.ts is the
 * host suite's counterpart; it is not imported because it probes the host
 * (setpriv, a copy of the repository) when it loads.
 *
 * @module
 */

/** The project inside the image (the host's checkout, copied). */
export const PROJECT = new URL("../../", import.meta.url).pathname;

/** The static probe built by `deno task build`. */
export const PROBE = `${PROJECT}ffi/build/probe`;

/** Who runs landlockd inside the VM. */
export type As = "root" | "nobody";

/** Both, so unprivileged use is proven on every kernel too. */
export const USERS: readonly As[] = ["root", "nobody"];

/** One finished landlockd run, with how long it took in the VM. */
export interface Outcome {
  code: number;
  stdout: string;
  stderr: string;
  ms: number;
}

const NOBODY = 65534;
const NOBODY_HOME = "/var/lib/nobody";

/** `deno run --allow-all main.ts ARGS` as `as`, with a clean environment. */
export async function landlockd(
  args: string[],
  as: As,
  extraEnv: Record<string, string> = {},
): Promise<Outcome> {
  const home = as === "root" ? "/root" : NOBODY_HOME;
  if (as === "nobody") {
    Deno.mkdirSync(`${NOBODY_HOME}/deno`, { recursive: true });
    Deno.chownSync(NOBODY_HOME, NOBODY, NOBODY);
    Deno.chownSync(`${NOBODY_HOME}/deno`, NOBODY, NOBODY);
  }
  const deno = [Deno.execPath(), "run", "--allow-all", `${PROJECT}main.ts`];
  const argv = as === "root" ? deno : [
    "/usr/bin/setpriv",
    `--reuid=${NOBODY}`,
    `--regid=${NOBODY}`,
    "--clear-groups",
    "--",
    ...deno,
  ];
  const start = performance.now();
  const out = await new Deno.Command(argv[0], {
    args: [...argv.slice(1), ...args],
    env: {
      PATH: "/usr/bin:/bin",
      HOME: home,
      DENO_DIR: `${home}/deno`,
      NO_COLOR: "1",
      ...extraEnv,
    },
    clearEnv: true,
    cwd: "/",
    stdin: "null",
  }).output();
  const dec = new TextDecoder();
  return {
    code: out.code,
    stdout: dec.decode(out.stdout),
    stderr: dec.decode(out.stderr),
    ms: Math.round(performance.now() - start),
  };
}

/**
 * A fresh tree under /tmp/llk, owned by `as`: allowed/file, denied/file,
 * denied/other, empty a/, b/ and mnt/, and bin/probe.
 */
export function tree(as: As): string {
  Deno.mkdirSync("/tmp/llk", { recursive: true, mode: 0o755 });
  const dir = Deno.makeTempDirSync({ dir: "/tmp/llk", prefix: `${as}-` });
  Deno.chmodSync(dir, 0o755);
  for (const d of ["allowed", "denied", "a", "b", "mnt", "bin"]) {
    Deno.mkdirSync(`${dir}/${d}`);
  }
  for (const f of ["allowed/file", "denied/file", "denied/other"]) {
    Deno.writeTextFileSync(`${dir}/${f}`, "content\n");
  }
  Deno.copyFileSync(PROBE, `${dir}/bin/probe`);
  Deno.chmodSync(`${dir}/bin/probe`, 0o755);
  if (as === "nobody") chownTree(dir);
  return dir;
}

function chownTree(path: string): void {
  Deno.chownSync(path, NOBODY, NOBODY);
  if (!Deno.statSync(path).isDirectory) return;
  for (const e of Deno.readDirSync(path)) chownTree(`${path}/${e.name}`);
}

/** Writes `toml` as DIR/policy.toml and returns its path. */
export function policy(dir: string, toml: string): string {
  const path = `${dir}/policy.toml`;
  Deno.writeTextFileSync(path, toml);
  Deno.chmodSync(path, 0o644);
  return path;
}

/** Probe output lines as `{ "read /x": "OK", "bind 80": "EACCES" }`. */
export function probeResults(stdout: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of stdout.split("\n")) {
    const m = /^(.+): (OK|E[A-Z0-9]+)$/.exec(line);
    if (m) out[m[1]] = m[2];
  }
  return out;
}
