/**
 * `landlockd k8s inject`: the same manifests, with every container of every
 * workload wrapped in `landlockd run` under a policy derived from its ports.
 *
 * Per workload: an `emptyDir` for the landlockd binary, an init container
 * that copies it there from `image`, a ConfigMap with one policy per
 * container, and per container: the command wrapped as
 * `[landlockd, run, --policy-file, …, --] + command + args`, and
 * `allowPrivilegeEscalation: false`.
 *
 * @module
 */

import { stringify } from "yaml";
import { type PolicyDocument, policyToToml } from "../policy/toml_out.ts";
import { ManifestError, podPolicy, workloads } from "./pod.ts";

/** Where things go inside the pod. */
export const BIN_DIR = "/landlockd-bin";
export const POLICY_DIR = "/etc/landlockd";
const BIN_VOLUME = "landlockd-bin";
const POLICY_VOLUME = "landlockd-policy";

/** How to inject. */
export interface InjectOptions {
  /** Image holding the static landlockd binary at /landlockd, and `cp`. */
  image: string;
  /** Command for containers that have none (their image's entrypoint). */
  entrypoint?: string[];
  /** A policy whose other sections (filesystem, say) every container gets. */
  base?: PolicyDocument;
}

// deno-lint-ignore no-explicit-any
type Json = any;

/** Returns the documents with landlockd injected, plus one ConfigMap per workload. */
export function inject(docs: Json[], opts: InjectOptions): Json[] {
  const out: Json[] = structuredClone(docs);
  const found = workloads(out);
  if (!found.length) {
    throw new ManifestError(
      "no Pod, Deployment, StatefulSet, DaemonSet, ReplicaSet, Job or CronJob in the input",
    );
  }
  for (const w of found) {
    const spec = w.pod.spec;
    const configMap = `${w.name}-landlockd`;
    const data: Record<string, string> = {};
    for (const c of spec.containers) {
      const command: string[] | undefined = c.command ?? opts.entrypoint;
      if (!command?.length) {
        throw new ManifestError(
          `${w.kind} "${w.name}", container "${c.name}" has no command: its image's entrypoint is unknown here, so it cannot be wrapped; give it a command, or pass --entrypoint`,
        );
      }
      const { document, notes } = podPolicy(w, c, opts.base);
      data[`${c.name}.toml`] = policyToToml(document, notes);
      c.command = [
        `${BIN_DIR}/landlockd`,
        "run",
        "--policy-file",
        `${POLICY_DIR}/${c.name}.toml`,
        "--",
        ...command,
        ...(c.args ?? []),
      ];
      delete c.args;
      c.volumeMounts = [
        ...(c.volumeMounts ?? []),
        { name: BIN_VOLUME, mountPath: BIN_DIR, readOnly: true },
        { name: POLICY_VOLUME, mountPath: POLICY_DIR, readOnly: true },
      ];
      c.securityContext = {
        ...c.securityContext,
        allowPrivilegeEscalation: false,
      };
    }
    spec.volumes = [
      ...(spec.volumes ?? []),
      { name: BIN_VOLUME, emptyDir: {} },
      { name: POLICY_VOLUME, configMap: { name: configMap } },
    ];
    spec.initContainers = [
      {
        name: "landlockd-install",
        image: opts.image,
        command: ["cp", "/landlockd", `${BIN_DIR}/landlockd`],
        volumeMounts: [{ name: BIN_VOLUME, mountPath: BIN_DIR }],
        securityContext: { allowPrivilegeEscalation: false },
      },
      ...(spec.initContainers ?? []),
    ];
    out.push({
      apiVersion: "v1",
      kind: "ConfigMap",
      metadata: {
        name: configMap,
        ...(w.doc.metadata?.namespace
          ? { namespace: w.doc.metadata.namespace }
          : {}),
        labels: { "app.kubernetes.io/managed-by": "landlockd" },
      },
      data,
    });
  }
  return out;
}

/** Documents as multi-document YAML. */
export function toYaml(docs: Json[]): string {
  return docs.map((d) => stringify(d, { lineWidth: 0 })).join("---\n");
}
