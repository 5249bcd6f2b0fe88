/**
 * One copy of a directory per `deno test` process, shared by its test
 * modules (they run as workers of one process, so `Deno.pid` names the run).
 *
 * landlockd refuses a policy under which the command could change its own
 * code or Deno's cache, and the starter policies write /tmp and /var/tmp. A
 * checkout or a DENO_DIR there (a fresh clone in /tmp, `DENO_DIR=$(mktemp
 * -d)`) is therefore copied once to a place those policies cannot write, and
 * the tests run landlockd from the copy.
 *
 * @module
 */

/** Directories the starter policies let a command write. */
const STARTER_WRITABLE = ["/tmp", "/var/tmp"];

/** Whether a starter policy (ci-default) could write `path`. */
export function starterWritable(path: string): boolean {
  const real = (() => {
    try {
      return Deno.realPathSync(path);
    } catch {
      return path;
    }
  })();
  return STARTER_WRITABLE.some((d) => real === d || real.startsWith(`${d}/`));
}

function base(): string {
  if (Deno.uid() === 0) return "/var/lib";
  const home = Deno.env.get("HOME");
  if (!home || starterWritable(home)) {
    throw new Error(
      "the tests need a HOME outside /tmp and /var/tmp to copy landlockd to",
    );
  }
  return home;
}

function alive(pid: number): boolean {
  try {
    Deno.statSync(`/proc/${pid}`);
    return true;
  } catch {
    return false;
  }
}

/** Removes copies left by `deno test` processes that are gone. */
function removeStale(dir: string, prefix: string): void {
  for (const e of Deno.readDirSync(dir)) {
    const m = new RegExp(`^${prefix}(\\d+)`).exec(e.name);
    if (!m || alive(Number(m[1]))) continue;
    try {
      Deno.removeSync(`${dir}/${e.name}`, { recursive: true });
    } catch {
      // another worker got there first
    }
  }
}

/**
 * `cp -a source dest`, tried again when a file vanished mid-copy (Deno
 * creates and removes lock files in node_modules/ while other tests run).
 */
export function copyTree(source: string, dest: string): void {
  let why = "";
  for (let attempt = 0; attempt < 5; attempt++) {
    const r = new Deno.Command("cp", { args: ["-a", source, dest] })
      .outputSync();
    if (r.success) return;
    why = new TextDecoder().decode(r.stderr);
    if (!/No such file or directory/.test(why)) break;
  }
  throw new Error(`cp -a ${source} ${dest}: ${why}`);
}

function sleepSync(ms: number): void {
  Atomics.wait(new Int32Array(new SharedArrayBuffer(4)), 0, 0, ms);
}

/**
 * A world-readable copy of `source` (ending in "/"), made once for this
 * test process by whichever module asks first; the others wait for it.
 */
export function sharedCopy(name: string, source: string): string {
  const dir = base();
  const prefix = `landlockd-test-${name}-`;
  const copy = `${dir}/${prefix}${Deno.pid}/`;
  const lock = `${dir}/${prefix}${Deno.pid}.lock`;
  try {
    Deno.mkdirSync(lock);
  } catch (e) {
    if (!(e instanceof Deno.errors.AlreadyExists)) throw e;
    for (let i = 0; i < 6000; i++) {
      try {
        Deno.statSync(copy);
        return copy;
      } catch {
        sleepSync(50);
      }
    }
    throw new Error(`timed out waiting for another test to copy ${source}`);
  }
  removeStale(dir, prefix);
  const partial = `${dir}/${prefix}${Deno.pid}.partial`;
  Deno.mkdirSync(partial, { mode: 0o755 });
  Deno.chmodSync(partial, 0o755);
  copyTree(`${source}.`, partial);
  const r = new Deno.Command("chmod", { args: ["-R", "a+rX", partial] })
    .outputSync();
  if (!r.success) {
    throw new Error(
      `chmod -R a+rX ${partial}: ${new TextDecoder().decode(r.stderr)}`,
    );
  }
  Deno.renameSync(partial, copy.slice(0, -1));
  return copy;
}
