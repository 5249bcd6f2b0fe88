/**
 * `k8s inject` output validated against the real Kubernetes object schemas
 * (kubernetes-models). kubernetes-models is a test-only dependency: this
 * directory has its own deno.json and lock file, so `deno task landlockd`
 * never installs it. Run by `deno task test` as
 * `deno test --allow-all --config tests/testonly/deno.jsonc tests/testonly/`.
 */
import assert from "node:assert/strict";
import { parseAllDocuments } from "yaml";
import { ConfigMap } from "kubernetes-models/v1/ConfigMap";
import { Pod } from "kubernetes-models/v1/Pod";
import { Deployment } from "kubernetes-models/apps/v1/Deployment";
import { StatefulSet } from "kubernetes-models/apps/v1/StatefulSet";
import { DaemonSet } from "kubernetes-models/apps/v1/DaemonSet";
import { Job } from "kubernetes-models/batch/v1/Job";
import { CronJob } from "kubernetes-models/batch/v1/CronJob";
import { Service } from "kubernetes-models/v1/Service";
import { landlockd, policyFile, ROOT } from "../helpers.ts";

const FIX = `${ROOT}tests/fixtures`;

async function lintText(toml: string) {
  return await landlockd(["lint", "--policy-file", policyFile(toml)]);
}

const SCHEMAS: Record<
  string,
  { validate(): void; new (data: unknown): { validate(): void } }
> = {
  // deno-lint-ignore no-explicit-any
  Pod: Pod as any,
  // deno-lint-ignore no-explicit-any
  Deployment: Deployment as any,
  // deno-lint-ignore no-explicit-any
  StatefulSet: StatefulSet as any,
  // deno-lint-ignore no-explicit-any
  DaemonSet: DaemonSet as any,
  // deno-lint-ignore no-explicit-any
  Job: Job as any,
  // deno-lint-ignore no-explicit-any
  CronJob: CronJob as any,
  // deno-lint-ignore no-explicit-any
  ConfigMap: ConfigMap as any,
  // deno-lint-ignore no-explicit-any
  Service: Service as any,
};

// deno-lint-ignore no-explicit-any
function validateAll(yaml: string): any[] {
  const docs = parseAllDocuments(yaml).map((d) => d.toJS());
  for (const doc of docs) {
    const Model = SCHEMAS[doc.kind];
    assert.ok(Model, `unexpected kind ${doc.kind}`);
    new Model(doc).validate(); // throws with the schema path on any error
  }
  return docs;
}

Deno.test("k8s inject output is valid against the Kubernetes schemas, for every workload kind", async () => {
  const r = await landlockd([
    "k8s",
    "inject",
    "-f",
    `${FIX}/workloads.yaml`,
    "--image",
    "registry.example/landlockd:test",
  ]);
  assert.equal(r.code, 0, r.stderr);
  const docs = validateAll(r.stdout);
  assert.deepEqual(docs.map((d) => d.kind), [
    "Deployment",
    "StatefulSet",
    "DaemonSet",
    "Job",
    "CronJob",
    "Service",
    "ConfigMap",
    "ConfigMap",
    "ConfigMap",
    "ConfigMap",
    "ConfigMap",
  ]);
  const api = docs[0].spec.template.spec;
  assert.deepEqual(api.containers[0].command, [
    "/landlockd-bin/landlockd",
    "run",
    "--policy-file",
    "/etc/landlockd/api.toml",
    "--",
    "/app/api",
    "--listen",
    ":8080",
  ]);
  assert.equal(api.containers[0].args, undefined);
  assert.equal(
    api.containers[0].securityContext.allowPrivilegeEscalation,
    false,
  );
  assert.equal(api.initContainers[0].image, "registry.example/landlockd:test");
  assert.deepEqual(api.volumes.map((v: { name: string }) => v.name), [
    "landlockd-bin",
    "landlockd-policy",
  ]);
  const cm = docs.find((d) =>
    d.kind === "ConfigMap" && d.metadata.name === "api-landlockd"
  );
  assert.equal(cm.metadata.namespace, "shop");
  assert.deepEqual(Object.keys(cm.data).sort(), ["api.toml", "proxy.toml"]);
  for (const text of Object.values(cm.data) as string[]) {
    assert.equal((await lintText(text)).code, 0, text);
  }
  assert.match(cm.data["proxy.toml"], /port = 8443/);
  const cron = docs[4].spec.jobTemplate.spec.template.spec;
  assert.equal(cron.containers[0].command[0], "/landlockd-bin/landlockd");
});

Deno.test("k8s inject refuses a container without a command unless --entrypoint is given", async () => {
  const refused = await landlockd([
    "k8s",
    "inject",
    "-f",
    `${FIX}/pod-web.yaml`,
  ]);
  assert.equal(refused.code, 125);
  assert.match(
    refused.stderr,
    /Pod "web", container "web" has no command: its image's entrypoint is unknown here/,
  );
  const given = await landlockd([
    "k8s",
    "inject",
    "-f",
    `${FIX}/pod-web.yaml`,
    "--entrypoint",
    '["/app/server", "--port", "80"]',
  ]);
  assert.equal(given.code, 0, given.stderr);
  const [pod] = validateAll(given.stdout);
  assert.deepEqual(pod.spec.containers[0].command.slice(4), [
    "--",
    "/app/server",
    "--port",
    "80",
  ]);
});
