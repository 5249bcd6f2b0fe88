/**
 * What a test needs from its environment, and the `Deno.test` options that
 * skip it visibly (`ignore` with the reason in its name) where that is
 * missing: never an early `return` that reports "ok".
 *
 * @module
 */

import { landlockSupport } from "../sandbox/kernel.ts";

/** The Landlock ABI this run uses: the kernel's, capped by LANDLOCKD_ABI_MAX. */
export const ABI: number = landlockSupport().abi;

function runs(cmd: string, args: string[]): boolean {
  try {
    return new Deno.Command(cmd, { args, stdout: "null", stderr: "null" })
      .outputSync().success;
  } catch {
    return false;
  }
}

/** Each returns why a test cannot run here, or undefined when it can. */
export const needs = {
  root: (): string | undefined =>
    Deno.uid() === 0 ? undefined : "needs root (a second uid to test with)",
  abi: (n: number, what: string): string | undefined =>
    ABI >= n
      ? undefined
      : `needs Landlock ABI ${n} for ${what}; this run has ${ABI}`,
  busybox: (): string | undefined =>
    runs("test", ["-x", "/bin/busybox"])
      ? undefined
      : "needs /bin/busybox (Debian: busybox-static)",
  userns: (): string | undefined =>
    runs("unshare", ["--user", "--map-root-user", "true"]) ||
      runs("setpriv", [
        "--reuid=nobody",
        "--regid=nogroup",
        "--clear-groups",
        "unshare",
        "--user",
        "true",
      ])
      ? undefined
      : "needs user namespaces (unshare --user fails here)",
};

/**
 * `Deno.test` options: ignored, with the first reason in the name, when
 * any of `reasons` is set.
 */
export function requiring(
  name: string,
  ...reasons: (string | undefined)[]
): { name: string; ignore: boolean } {
  const why = reasons.find((r) => r !== undefined);
  return why ? { name: `${name} [ignored: ${why}]`, ignore: true } : {
    name,
    ignore: false,
  };
}

/**
 * `Deno.test(name, fn)` for a test whose policy needs Landlock ABI `abi`
 * (for `what`): ignored, with that reason in its name, on an older kernel
 * or under a lower LANDLOCKD_ABI_MAX, or when one of `also` is set.
 */
export function testAtAbi(
  abi: number,
  what: string,
  name: string,
  fn: () => void | Promise<void>,
  also: (string | undefined)[] = [],
): void {
  Deno.test({ ...requiring(name, needs.abi(abi, what), ...also), fn });
}

/**
 * `Deno.test` for tests whose policies need Landlock ABI `abi` (for
 * example a `[net]` table, which handles TCP: ABI 4): below it the test is
 * ignored with the reason in its name, as `testAtAbi` does, whichever form
 * of `Deno.test` the file uses.
 */
export function testNeedingAbi(
  abi: number,
  what: string,
): (
  t: string | Deno.TestDefinition,
  fn?: () => void | Promise<void>,
) => void {
  const why = needs.abi(abi, what);
  return (t, fn) => {
    const def: Deno.TestDefinition = typeof t === "string"
      ? { name: t, fn: fn! }
      : t;
    const r = requiring(def.name, why);
    Deno.test({
      ...def,
      name: r.name,
      ignore: r.ignore || def.ignore === true,
    });
  };
}
