/**
 * Shared by the udp_* attack tests: a stand-in nameserver on 127.0.0.0/8
 * (udp_dns_server.py) and a policy whose sandbox sees a resolv.conf naming
 * it, bound onto /etc/resolv.conf with [mount].
 *
 * @module
 */

import { policyFile, python3, tempDir } from "../helpers.ts";

const HERE = new URL(".", import.meta.url).pathname;

/**
 * The nameserver the sandbox's resolv.conf names (udp_dns_test.ts; other
 * test files pass their own addresses, so parallel runs do not collide).
 */
export const NAMESERVER = "127.83.0.1";
/** An address that is no nameserver, also listening on port 53. */
export const OTHER = "127.83.0.2";

/** The stand-in servers: NAMESERVER:53, OTHER:53 and NAMESERVER:5353. */
export interface Servers {
  /** Stops them; the datagrams each address received. */
  stop(): Promise<Record<string, number>>;
}

/** Starts the servers (port 53: the tests run as root). */
export async function startServers(
  nameserver = NAMESERVER,
  other = OTHER,
): Promise<Servers> {
  const proc = new Deno.Command(python3(), {
    args: [
      `${HERE}udp_dns_server.py`,
      `${nameserver}:53`,
      `${other}:53`,
      `${nameserver}:5353`,
    ],
    stdin: "piped",
    stdout: "piped",
    stderr: "inherit", // a bind failure shows in the test's output
  }).spawn();
  const reader = proc.stdout.pipeThrough(new TextDecoderStream()).getReader();
  let out = "";
  while (!out.includes("ready\n")) {
    const { value, done } = await reader.read();
    if (done) throw new Error(`nameserver did not start: ${out}`);
    out += value;
  }
  return {
    async stop() {
      await proc.stdin.close();
      for (;;) {
        const { value, done } = await reader.read();
        if (done) break;
        out += value;
      }
      await proc.status;
      return JSON.parse(out.slice(out.indexOf("ready\n") + 6));
    },
  };
}

/**
 * A policy with `[net] udp = MODE` (and `extra` TOML after it, inside
 * [net]) whose sandbox's resolv.conf names NAMESERVER. Its `[net]` sets
 * only udp (and what `extra` adds), so Landlock handles no TCP right and
 * the policy runs at every Landlock ABI.
 */
export function udpPolicy(
  mode: "allow" | "deny" | "dns",
  extra = "",
  tail = "",
  nameserver = NAMESERVER,
): string {
  const dir = tempDir("udp-");
  const resolv = `${dir}/resolv.conf`;
  Deno.writeTextFileSync(
    resolv,
    `# the sandbox's resolver\nnameserver ${nameserver}\noptions attempts:1 timeout:1\n`,
  );
  Deno.chmodSync(resolv, 0o644);
  return policyFile(
    `version = 1
[net]
udp = "${mode}"
${extra}
[mount]
bind = [{ source = "${resolv}", target = "/etc/resolv.conf", read_only = true }]
${tail}`,
    dir,
  );
}

/**
 * What udp_raw_sockets.c reports under `udp = "deny"` and `raw = false`:
 * every datagram, raw and packet socket refused with the policy errno, TCP
 * and unix sockets open, io_uring absent (the baseline).
 */
export const DENY_NO_RAW_OUTCOMES: Readonly<Record<string, string>> = {
  udp: "EPERM",
  udp6: "EPERM",
  udplite: "EPERM",
  ping: "EPERM",
  ping6: "EPERM",
  raw: "EPERM",
  raw6: "EPERM",
  "inet packet": "EPERM",
  packet: "EPERM",
  "packet dgram": "EPERM",
  tcp: "OK",
  "unix dgram": "OK",
  io_uring_setup: "ENOSYS",
};
