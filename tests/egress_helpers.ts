/**
 * Local servers and a test hosts file for the egress proxy's tests. Every
 * name maps to 127.0.0.1 (LANDLOCKD_TEST_HOSTS): no test contacts any
 * other address, and none reaches DNS.
 *
 * @module
 */

import { assertDocumented } from "./audit_schema.ts";
import { type As, policyFile, tempDir } from "./helpers.ts";

/** Bytes of the large download. */
export const BIG = 100 * 1024 * 1024;

/** The large download's repeating block (its bytes depend on position). */
const BLOCK = (() => {
  const b = new Uint8Array(64 * 1024);
  for (let i = 0; i < b.length; i++) b[i] = (i * 31 + (i >> 8)) & 0xff;
  return b;
})();

/** The SHA-256 (hex) of the large download. */
export async function bigSha256(): Promise<string> {
  const all = new Uint8Array(BIG);
  for (let off = 0; off < BIG; off += BLOCK.length) all.set(BLOCK, off);
  const d = await crypto.subtle.digest("SHA-256", all);
  return [...new Uint8Array(d)].map((x) => x.toString(16).padStart(2, "0"))
    .join("");
}

/** An HTTP server on 127.0.0.1: /hello, /big (100 MB), /slow (500 ms). */
export interface LocalServer {
  port: number;
  /** Requests it received, as "METHOD path host". */
  seen: string[];
  close(): Promise<void>;
}

/** Starts a {@link LocalServer} named `name` (it says so in /hello). */
export function localServer(name: string): LocalServer {
  const seen: string[] = [];
  const server = Deno.serve(
    { hostname: "127.0.0.1", port: 0, onListen() {} },
    async (req) => {
      const url = new URL(req.url);
      seen.push(`${req.method} ${url.pathname} ${req.headers.get("host")}`);
      if (url.pathname === "/big") {
        let sent = 0;
        const body = new ReadableStream<Uint8Array>({
          pull(c) {
            if (sent >= BIG) return c.close();
            c.enqueue(BLOCK.slice());
            sent += BLOCK.length;
          },
        }, { highWaterMark: 4 });
        return new Response(body, {
          headers: { "content-length": String(BIG) },
        });
      }
      if (url.pathname === "/slow") {
        await new Promise((r) => setTimeout(r, 500));
      }
      return new Response(`hello from ${name}\n`);
    },
  );
  return {
    port: server.addr.port,
    seen,
    close: () => server.shutdown(),
  };
}

/** A hosts file (readable by nobody) mapping these names to 127.0.0.1. */
export function hostsFile(
  names = ["allowed.test", "denied.test", "a.wild.test", "b.wild.test"],
): string {
  const f = `${tempDir("hosts-")}/hosts`;
  Deno.writeTextFileSync(f, names.map((n) => `127.0.0.1 ${n}\n`).join(""));
  Deno.chmodSync(f, 0o644);
  return f;
}

/** A policy with only `[net] allow_hosts` (TCP connects confined). */
export function hostsPolicy(hosts: string[], extra = ""): string {
  return policyFile(`version = 1
[net]
allow_hosts = ${JSON.stringify(hosts)}
${extra}`);
}

/** The `net.*` events of an audit file, each checked against the docs. */
export function netEvents(audit: string): Record<string, unknown>[] {
  let text = "";
  try {
    text = Deno.readTextFileSync(audit);
  } catch {
    return [];
  }
  const events = text.split("\n").filter((l) => l).map((l) => JSON.parse(l));
  events.forEach(assertDocumented);
  return events.filter((e) => String(e.event).startsWith("net."));
}

/** A fresh audit file path in a directory `as` may write. */
export function auditPath(as: As = "root"): string {
  const d = tempDir("audit-");
  if (as === "nobody") Deno.chownSync(d, 65534, 65534);
  return `${d}/audit.jsonl`;
}
