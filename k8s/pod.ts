/**
 * Policies from Kubernetes manifests: a Pod, or the pod template of a
 * Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob. Each TCP
 * `containerPort` becomes a `bind_tcp` rule under
 * `handled_access_net = ["bind_tcp"]`: "this container may only bind the
 * ports it declares". Connecting stays unrestricted.
 *
 * @module
 */

import { parseAllDocuments } from "yaml";
import type { PolicyDocument } from "../policy/toml_out.ts";
import { handledNet } from "../policy/net_sockets.ts";

/** Extra listeners operators did not declare as ports (metrics, admin). */
export const EXTRA_PORTS_ANNOTATION = "landlockd/extra-bind-ports";

/** A manifest problem, with where it is. */
export class ManifestError extends Error {
  override name = "ManifestError";
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** One manifest document and where its pod spec is. */
export interface Workload {
  doc: Json;
  index: number;
  kind: string;
  name: string;
  /** The object holding `metadata` and `spec` of the pod (template). */
  pod: Json;
}

const TEMPLATE_KINDS = [
  "Deployment",
  "StatefulSet",
  "DaemonSet",
  "ReplicaSet",
  "Job",
];

/** Parses every document of a multi-document YAML text. */
export function readManifests(text: string): Json[] {
  const docs = parseAllDocuments(text);
  const out: Json[] = [];
  docs.forEach((d, i) => {
    if (d.errors.length) {
      const e = d.errors[0];
      const line = e.linePos?.[0]?.line;
      throw new ManifestError(
        `document ${i + 1}${line ? `, line ${line}` : ""}: ${
          e.message.split("\n")[0]
        }`,
      );
    }
    const v = d.toJS();
    if (v !== null && v !== undefined) out.push(v);
  });
  return out;
}

/** The workloads among the documents; others are passed over. */
export function workloads(docs: Json[]): Workload[] {
  const out: Workload[] = [];
  docs.forEach((doc, index) => {
    const kind = doc?.kind;
    const name = doc?.metadata?.name ?? `document ${index + 1}`;
    let pod: Json;
    if (kind === "Pod") pod = doc;
    else if (TEMPLATE_KINDS.includes(kind)) pod = doc?.spec?.template;
    else if (kind === "CronJob") pod = doc?.spec?.jobTemplate?.spec?.template;
    else return;
    if (!pod?.spec || !Array.isArray(pod.spec.containers)) {
      throw new ManifestError(`${kind} "${name}": no pod spec with containers`);
    }
    out.push({ doc, index, kind, name, pod });
  });
  return out;
}

/** Picks the container: by name, or the only one. */
export function pickContainer(w: Workload, name?: string): Json {
  const containers: Json[] = w.pod.spec.containers;
  if (name !== undefined) {
    const c = containers.find((c) => c.name === name);
    if (!c) {
      throw new ManifestError(
        `${w.kind} "${w.name}" has no container "${name}" (it has: ${
          containers.map((c) => c.name).join(", ")
        })`,
      );
    }
    return c;
  }
  if (containers.length !== 1) {
    throw new ManifestError(
      `${w.kind} "${w.name}" has ${containers.length} containers (${
        containers.map((c) => c.name).join(", ")
      }): choose one with --container`,
    );
  }
  return containers[0];
}

function parsePorts(value: string, where: string): number[] {
  return value.split(/[\s,]+/).filter((p) => p !== "").map((p) => {
    if (!/^\d+$/.test(p) || Number(p) > 65535) {
      throw new ManifestError(`${where}: "${p}" is not a port number`);
    }
    return Number(p);
  });
}

/** The ports one container may bind, and what Landlock cannot enforce. */
export function bindPorts(w: Workload, container: Json): {
  tcp: number[];
  unenforceable: string[];
} {
  const tcp: number[] = [];
  const unenforceable: string[] = [];
  const hostNetwork = w.pod.spec.hostNetwork === true;
  (container.ports ?? []).forEach((p: Json, i: number) => {
    const where = `container "${container.name}" ports[${i}]`;
    const port = p?.containerPort;
    if (!Number.isInteger(port) || port < 1 || port > 65535) {
      throw new ManifestError(
        `${where}.containerPort: expected an integer from 1 to 65535, got ${
          JSON.stringify(port)
        }`,
      );
    }
    const protocol = p.protocol ?? "TCP";
    if (protocol !== "TCP") {
      unenforceable.push(
        `${protocol} port ${port}${p.name ? ` (${p.name})` : ""}`,
      );
      return;
    }
    tcp.push(port);
    // hostPort matters only when the pod shares the host's network.
    if (hostNetwork && Number.isInteger(p.hostPort)) tcp.push(p.hostPort);
  });
  const annotations = w.pod.metadata?.annotations ?? {};
  for (
    const key of [
      EXTRA_PORTS_ANNOTATION,
      `${EXTRA_PORTS_ANNOTATION}.${container.name}`,
    ]
  ) {
    if (typeof annotations[key] === "string") {
      tcp.push(...parsePorts(annotations[key], `annotation ${key}`));
    }
  }
  return { tcp: [...new Set(tcp)].sort((a, b) => a - b), unenforceable };
}

/** Merges the bind rules into `base` (a filesystem policy, say), or a new policy. */
export function podPolicy(
  w: Workload,
  container: Json,
  base?: PolicyDocument,
): { document: PolicyDocument; notes: string[] } {
  const { tcp, unenforceable } = bindPorts(w, container);
  const document: PolicyDocument = structuredClone(base ?? { version: 1 });
  document.version = 1;
  document.description =
    `${w.kind} "${w.name}", container "${container.name}": bind only its declared ports`;
  const net = document.net ?? { handled_access_net: [], rule: [] };
  net.handled_access_net = [
    ...new Set([...handledNet(net), "bind_tcp" as const]),
  ];
  net.rule = [
    ...(net.rule ?? []),
    ...tcp.map((port) => ({ port, allowed_access: ["bind_tcp" as const] })),
  ];
  document.net = net;
  const notes = [
    `From ${w.kind} "${w.name}", container "${container.name}".`,
    tcp.length
      ? `May bind TCP ports: ${
        tcp.join(", ")
      }; any other bind fails with EACCES.`
      : "Declares no TCP port: every bind fails with EACCES.",
    ...unenforceable.map((u) =>
      `Not enforceable by Landlock, left open: ${u}.`
    ),
    "listen() on a socket that was never bound takes an ephemeral port unchecked.",
  ];
  return { document, notes };
}
