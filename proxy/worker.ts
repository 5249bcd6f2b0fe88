/**
 * The egress proxy's thread: a run's main thread blocks in synchronous
 * calls (the broker, the wait), so the proxy's event loop runs here.
 * Messages: `start` (→ `listening` with the port, or `failed`), `stop`
 * (→ `stopped`, after every connection's event is written, with the
 * decisions recorded when `record` was set: proxy/record.ts).
 *
 * @module
 */

import { teeAudit } from "../daemon/server/audit.ts";
import { auditToFd } from "../audit/audit.ts";
import { parseHostRules } from "../policy/hosts.ts";
import { DEFAULT_LIMITS, EgressProxy, type ProxyLimits } from "./proxy.ts";
import { mapResolver, systemResolver } from "./resolve.ts";
import { DecisionRecord } from "./record.ts";

/** What the main thread sends to start the proxy. */
export interface ProxyJob {
  type: "start";
  allowHosts: string[];
  auditFds: number[];
  jobId?: string;
  /** The test hosts file's entries, read from landlockd's environment. */
  testHosts?: [string, number[][]][];
  limits?: Partial<ProxyLimits>;
  /** Keep the decisions for `run --explain` (returned with `stopped`). */
  record?: boolean;
}

declare const self: Worker & typeof globalThis;

let proxy: EgressProxy | undefined;
let record: DecisionRecord | undefined;

self.onmessage = async (e: MessageEvent<ProxyJob | { type: "stop" }>) => {
  const msg = e.data;
  if (msg.type === "start") {
    try {
      const audit = msg.auditFds.length
        ? teeAudit(msg.auditFds.map(auditToFd), msg.jobId)
        : undefined;
      record = msg.record ? new DecisionRecord() : undefined;
      proxy = new EgressProxy(
        parseHostRules(msg.allowHosts),
        msg.testHosts ? mapResolver(new Map(msg.testHosts)) : systemResolver,
        (event, fields) => {
          record?.add(event, fields);
          audit?.emit("proxy", event, fields);
        },
        { ...DEFAULT_LIMITS, ...msg.limits },
      );
      self.postMessage({ type: "listening", port: proxy.port });
    } catch (err) {
      self.postMessage({ type: "failed", message: (err as Error).message });
    }
  } else if (msg.type === "stop") {
    await proxy?.stop();
    self.postMessage({
      type: "stopped",
      ...(record ? { decisions: record.result() } : {}),
    });
  }
};
