/**
 * How the egress proxy turns a host name into addresses: the system's
 * resolver (getaddrinfo, through `node:dns` `lookup`: /etc/hosts, then
 * DNS, as every other program on the host resolves), or, for tests only,
 * a hosts file named by `LANDLOCKD_TEST_HOSTS` in landlockd's own
 * environment.
 *
 * @module
 */

import { lookup } from "node:dns/promises";
import { parseIp } from "../policy/hosts.ts";

/** Resolves a name to addresses (4 or 16 bytes each); empty: no such name. */
export type Resolver = (name: string) => Promise<number[][]>;

/**
 * The variable naming the test hosts file. Read only from landlockd's own
 * environment (the daemon's, for runs through the daemon), never from the
 * command's; landlockd's `LANDLOCKD_*` variables never reach the command.
 */
export const TEST_HOSTS_VARIABLE = "LANDLOCKD_TEST_HOSTS";

/**
 * Parses hosts-file text (`ADDRESS NAME [NAME…]`, `#` comments) into a
 * map from lowercase name to addresses. Malformed lines are errors: a
 * testing aid should not guess.
 */
export function parseHostsFile(
  text: string,
  file: string,
): Map<string, number[][]> {
  const out = new Map<string, number[][]>();
  text.split("\n").forEach((raw, i) => {
    const line = raw.replace(/#.*/, "").trim();
    if (!line) return;
    const [addr, ...names] = line.split(/\s+/);
    const bytes = parseIp(addr);
    if (!bytes || !names.length) {
      throw new Error(
        `${file}:${
          i + 1
        }: expected "ADDRESS NAME [NAME...]", got "${raw.trim()}"`,
      );
    }
    for (const n of names) {
      const key = n.toLowerCase();
      out.set(key, [...(out.get(key) ?? []), bytes]);
    }
  });
  return out;
}

/** A resolver that answers from a map only (tests: no DNS at all). */
export function mapResolver(hosts: Map<string, number[][]>): Resolver {
  return (name) => Promise.resolve(hosts.get(name.toLowerCase()) ?? []);
}

/** The system resolver (getaddrinfo); an unknown name gives []. */
export const systemResolver: Resolver = async (name) => {
  try {
    const found = await lookup(name, { all: true, verbatim: true });
    return found.flatMap((a) => {
      const ip = parseIp(a.address);
      return ip ? [ip] : [];
    });
  } catch (e) {
    const code = (e as { code?: string }).code;
    if (code === "ENOTFOUND" || code === "ENODATA" || code === "EAI_NONAME") {
      return [];
    }
    throw e;
  }
};

/**
 * The test hosts file's entries when `LANDLOCKD_TEST_HOSTS` is set in
 * `env` (landlockd's own environment), read now; undefined otherwise.
 */
export function testHosts(
  env: { get(name: string): string | undefined } = Deno.env,
): [string, number[][]][] | undefined {
  const file = env.get(TEST_HOSTS_VARIABLE);
  if (!file) return undefined;
  return [...parseHostsFile(Deno.readTextFileSync(file), file)];
}
