/**
 * `landlockd k8s inject -f FILE`: print the manifests with landlockd
 * wrapped around every container.
 *
 * @module
 */

import { inject, toYaml } from "../k8s/inject.ts";
import { ManifestError, readManifests } from "../k8s/pod.ts";
import { VERSION } from "../version.ts";
import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { printError } from "./output.ts";
import { readBase } from "./policy.ts";

const OPTIONS = {
  file: { type: "string", short: "f" },
  image: { type: "string" },
  entrypoint: { type: "string" },
  base: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** The default image carrying the static binary at /landlockd. */
export const DEFAULT_IMAGE = `ghcr.io/landlockd/landlockd:${VERSION}`;

export const HELP =
  `Usage: landlockd k8s inject -f MANIFEST.yaml [--image IMAGE] [--entrypoint CMD] [--base POLICY]

Print the manifests with every container wrapped in "landlockd run" under a
policy that lets it bind only its declared TCP containerPorts. Adds, per
workload, an emptyDir and an init container that copies landlockd from
IMAGE (default ${DEFAULT_IMAGE}; it must hold /landlockd and cp), and a
ConfigMap with the policies; sets allowPrivilegeEscalation: false.

Options:
  -f, --file FILE      the manifests (multi-document YAML; - for stdin)
  --image IMAGE        image with the landlockd binary at /landlockd
  --entrypoint CMD     the command for containers that declare none
                       (a JSON array, or words separated by spaces)
  --base POLICY        merge every container's policy into this one
`;

function parseEntrypoint(s: string): string[] {
  if (s.trim().startsWith("[")) {
    const v = JSON.parse(s);
    if (Array.isArray(v) && v.every((x) => typeof x === "string")) return v;
    throw new UsageError(
      "--entrypoint: expected a JSON array of strings",
      "k8s inject",
    );
  }
  return s.split(/\s+/).filter((w) => w !== "");
}

/** `landlockd k8s …`; returns the exit code. */
export function main(args: string[]): number {
  const [sub, ...rest] = args;
  if (sub === undefined || sub === "--help" || sub === "-h") {
    console.log(HELP);
    return sub === undefined ? EXIT.USAGE : EXIT.OK;
  }
  if (sub !== "inject") {
    throw new UsageError(`unknown subcommand "${sub}": use inject`, "k8s");
  }
  const { values } = parseOptions("k8s inject", rest, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (!values.file) {
    throw new UsageError("a manifest is needed: -f FILE", "k8s inject");
  }
  try {
    const text = values.file === "-"
      ? new TextDecoder().decode(readAllStdin())
      : Deno.readTextFileSync(values.file);
    const docs = inject(readManifests(text), {
      image: values.image ?? DEFAULT_IMAGE,
      entrypoint: values.entrypoint === undefined
        ? undefined
        : parseEntrypoint(values.entrypoint),
      base: values.base === undefined ? undefined : readBase(values.base),
    });
    console.log(toYaml(docs));
    return EXIT.OK;
  } catch (e) {
    if (e instanceof ManifestError || e instanceof Deno.errors.NotFound) {
      printError(`${values.file}: ${(e as Error).message}`);
      return EXIT.POLICY;
    }
    throw e;
  }
}

function readAllStdin(): Uint8Array {
  const chunks: Uint8Array[] = [];
  const buf = new Uint8Array(65536);
  for (;;) {
    const n = Deno.stdin.readSync(buf);
    if (n === null) break;
    chunks.push(buf.slice(0, n));
  }
  const out = new Uint8Array(chunks.reduce((a, c) => a + c.length, 0));
  let o = 0;
  for (const c of chunks) {
    out.set(c, o);
    o += c.length;
  }
  return out;
}
