/**
 * What a later landlockd start trusts, for this way of running it: its own
 * files, the Deno runtime and cache, the default daemon socket, the policy
 * file and its bases. sandbox/self_write.ts refuses a plan that could
 * write any of them; the client of `run --socket` and the library API send
 * theirs to the daemon. No imports: a `run --socket` client loads this
 * alone.
 *
 * @module
 */

/** Something landlockd trusts on its next start, and what to call it. */
export interface Trusted {
  path: string;
  /** A directory and everything beneath it, or just this object. */
  tree: boolean;
  /** e.g. `landlockd's source tree`. */
  what: string;
  /** What to do about it. */
  hint: string;
}

/**
 * The Deno cache `deno run` uses here, found as Deno finds it: DENO_DIR,
 * else XDG_CACHE_HOME, else HOME, else (HOME unset or empty,
 * as under cron, `env -i` or a system service) the home directory
 * /etc/passwd gives this user (tests/attacks/denodir_nohome_test.ts).
 */
export function denoDir(): string | undefined {
  const explicit = Deno.env.get("DENO_DIR");
  if (explicit) return explicit;
  const xdg = Deno.env.get("XDG_CACHE_HOME");
  if (xdg) return `${xdg}/deno`;
  const home = Deno.env.get("HOME") || passwdHome();
  return home ? `${home}/.cache/deno` : undefined;
}

/**
 * This user's home in /etc/passwd; undefined without an entry there (Deno,
 * asking the system the same, then finds no cache and does not start).
 */
function passwdHome(): string | undefined {
  let text;
  try {
    text = Deno.readTextFileSync("/etc/passwd");
  } catch {
    return undefined;
  }
  const uid = String(Deno.uid());
  for (const line of text.split("\n")) {
    const field = line.split(":");
    if (field[2] === uid && field[5]) return field[5];
  }
  return undefined;
}

/**
 * The daemon socket that `run --socket`, `status`, `stop` and the library
 * use by default: whoever can create it there answers for the daemon.
 */
function defaultSocket(): Trusted[] {
  const dir = Deno.env.get("XDG_RUNTIME_DIR");
  return dir
    ? [{
      path: `${dir}/landlockd.sock`,
      tree: false,
      what: "the default daemon socket",
      hint: "keep $XDG_RUNTIME_DIR out of what the policy may write",
    }]
    : [];
}

/** landlockd's own files and the runtime's, for this way of running it. */
export function trustedFiles(): Trusted[] {
  const exec = Deno.execPath();
  if (Deno.build.standalone) {
    return [{
      path: exec,
      tree: false,
      what: "the landlockd binary",
      hint: "install it where this policy cannot write",
    }, ...defaultSocket()];
  }
  const root = new URL("../", import.meta.url).pathname.replace(/\/$/, "");
  // Loaded from a registry (the library API): its files are in DENO_DIR.
  const local = import.meta.url.startsWith("file:");
  const out: Trusted[] = [
    ...(local
      ? [{
        path: root,
        tree: true,
        what: "landlockd's source tree (its modules and ffi/build/)",
        hint: "run landlockd from a directory this policy cannot write",
      }, {
        path: `${root}/node_modules`,
        tree: true,
        what: "landlockd's node_modules/",
        hint: "run landlockd from a directory this policy cannot write",
      }]
      : []),
    {
      path: exec,
      tree: false,
      what: "the Deno runtime",
      hint: "install Deno where this policy cannot write",
    },
  ];
  const cache = denoDir();
  if (cache) {
    out.push({
      path: cache,
      tree: true,
      what: "Deno's cache (DENO_DIR), which the next start loads code from",
      hint: "set DENO_DIR to a directory this policy cannot write",
    });
  }
  return [...out, ...defaultSocket()];
}

/** The policy file and the files it extends, as things a later run trusts. */
export function policyFiles(
  policyFile: string | undefined,
  bases: readonly string[] = [],
): Trusted[] {
  return [
    ...(policyFile
      ? [{
        path: policyFile,
        tree: false,
        what: "this policy file",
        hint: "keep the policy where the policy itself cannot write",
      }]
      : []),
    ...bases.filter((b) => b !== policyFile).map((path) => ({
      path,
      tree: false,
      what: "a policy file it extends",
      hint: "keep the policy and its bases where the policy cannot write",
    })),
  ];
}

/**
 * What the client of `run --socket` trusts on its next start (its own
 * landlockd, Deno and DENO_DIR, its policy file and bases), sent with the
 * run: the daemon knows only its own files (daemon/server/policies.ts).
 */
export function clientTrusted(
  policyFile: string | undefined,
  bases: readonly string[] = [],
): Trusted[] {
  return [...trustedFiles(), ...policyFiles(policyFile, bases)];
}
