/**
 * Starts and stops a run's egress proxy on its own thread (proxy/worker.ts).
 *
 * @module
 */

import type { ProxyJob } from "./worker.ts";
import { proxyEnvironment, type ProxyLimits } from "./proxy.ts";
import { TEST_HOSTS_VARIABLE, testHosts } from "./resolve.ts";
import type { ProxyDecisions } from "./record.ts";
export type { ProxyDecision, ProxyDecisions } from "./record.ts";

const WORKER_URL = new URL("./worker.ts", import.meta.url).href;

/** A running proxy. */
export interface ProxyHandle {
  port: number;
  /** The variables that point the command at it (HTTPS_PROXY, …). */
  env: Record<string, string>;
  /**
   * Closes every connection; resolves when their events are written, with
   * the decisions when the proxy was started with `record` (undefined if
   * it did not stop in time).
   */
  stop(): Promise<ProxyDecisions | undefined>;
}

/** What the proxy's thread answers. */
interface Reply {
  type: string;
  port?: number;
  message?: string;
  decisions?: ProxyDecisions;
}

/** The proxy could not start. */
export class ProxyError extends Error {
  override name = "ProxyError";
}

/** How long a stop may take before the thread is ended regardless. */
const STOP_GRACE_MS = 2000;

/**
 * Starts a proxy for `allowHosts`, writing `net.*` events to `auditFds`.
 * `LANDLOCKD_TEST_HOSTS` is read here, from landlockd's own environment.
 */
export async function startProxy(
  allowHosts: readonly string[],
  auditFds: readonly number[],
  jobId?: string,
  limits?: Partial<ProxyLimits>,
  /** Keep the decisions (`run --explain`); `stop` returns them. */
  record = false,
): Promise<ProxyHandle> {
  let hosts;
  try {
    hosts = testHosts();
  } catch (e) {
    throw new ProxyError(`LANDLOCKD_TEST_HOSTS: ${(e as Error).message}`);
  }
  if (hosts) {
    console.error(
      `landlockd: ${TEST_HOSTS_VARIABLE} is set: the egress proxy resolves names from "${
        Deno.env.get(TEST_HOSTS_VARIABLE)
      }" only (a testing aid)`,
    );
  }
  const worker = new Worker(WORKER_URL, { type: "module" });
  const replies: ((m: Reply) => void)[] = [];
  const next = () => new Promise<Reply>((r) => replies.push(r));
  worker.onmessage = (e) => replies.shift()?.(e.data);
  worker.onerror = (e) => {
    e.preventDefault();
    replies.shift()?.({ type: "failed", message: e.message });
  };
  const job: ProxyJob = {
    type: "start",
    allowHosts: [...allowHosts],
    auditFds: [...auditFds],
    ...(jobId ? { jobId } : {}),
    ...(hosts ? { testHosts: hosts } : {}),
    ...(limits ? { limits } : {}),
    ...(record ? { record } : {}),
  };
  const started = next();
  worker.postMessage(job);
  const reply = await started;
  if (reply.type !== "listening" || !reply.port) {
    worker.terminate();
    throw new ProxyError(
      `cannot start the egress proxy: ${reply.message ?? reply.type}`,
    );
  }
  let stopped: Promise<ProxyDecisions | undefined> | undefined;
  return {
    port: reply.port,
    env: proxyEnvironment(reply.port),
    stop() {
      stopped ??= (async () => {
        const done = next();
        worker.postMessage({ type: "stop" });
        let timer: ReturnType<typeof setTimeout> | undefined;
        const reply = await Promise.race([
          done,
          new Promise<undefined>((r) =>
            timer = setTimeout(() => r(undefined), STOP_GRACE_MS)
          ),
        ]);
        clearTimeout(timer);
        worker.terminate();
        return reply?.decisions;
      })();
      return stopped;
    },
  };
}
