/**
 * Writes a policy document as TOML in the layout the starter policies use,
 * with comments, for `landlockd policy from-oci` and `from-pod`.
 *
 * @module
 */

import type { z } from "zod";
import type { policySchema } from "./schema.ts";
import { handledNet } from "./net_sockets.ts";

/** A policy as written (defaults not yet applied). */
export type PolicyDocument = z.input<typeof policySchema>;

const str = (s: string) => JSON.stringify(s);
const list = (items: readonly (string | number)[]) =>
  `[${
    items.map((i) => typeof i === "number" ? String(i) : str(i)).join(", ")
  }]`;

function binds(
  items: readonly { source: string; target: string; read_only?: boolean }[],
): string {
  return `[${
    items.map((b) =>
      `{ source = ${str(b.source)}, target = ${str(b.target)}, read_only = ${
        b.read_only ?? false
      } }`
    ).join(", ")
  }]`;
}

/** The document as TOML, preceded by `comments` as `#` lines. */
export function policyToToml(
  doc: PolicyDocument,
  comments: readonly string[] = [],
): string {
  const out: string[] = comments.map((c) => c ? `# ${c}` : "#");
  if (out.length) out.push("");
  out.push(`version = ${doc.version}`);
  if (doc.description) out.push(`description = ${str(doc.description)}`);
  if (doc.compat) out.push(`compat = ${str(doc.compat)}`);
  for (const layer of doc.fs_layer ?? []) {
    out.push(
      "",
      "[[fs_layer]]",
      `handled_access_fs = ${list(layer.handled_access_fs)}`,
    );
    for (const rule of layer.rule ?? []) {
      out.push("", "  [[fs_layer.rule]]", `  path = ${str(rule.path)}`);
      out.push(`  allowed_access = ${list(rule.allowed_access)}`);
      if (rule.optional) out.push("  optional = true");
    }
  }
  if (doc.net) {
    out.push("", "[net]");
    // Written out as the run takes it (none for a [net] of udp/raw only).
    const handled = handledNet(doc.net);
    if (handled.length) out.push(`handled_access_net = ${list(handled)}`);
    if (doc.net.udp !== undefined) out.push(`udp = ${str(doc.net.udp)}`);
    if (doc.net.raw !== undefined) out.push(`raw = ${doc.net.raw}`);
    if (doc.net.allow_hosts) {
      out.push(`allow_hosts = ${list(doc.net.allow_hosts)}`);
    }
    for (const rule of doc.net.rule ?? []) {
      out.push("", "  [[net.rule]]", `  port = ${rule.port}`);
      out.push(`  allowed_access = ${list(rule.allowed_access)}`);
    }
  }
  if (doc.scope) {
    out.push("", "[scope]");
    for (const [k, v] of Object.entries(doc.scope)) out.push(`${k} = ${v}`);
  }
  if (doc.seccomp) {
    out.push("", "[seccomp]");
    if (doc.seccomp.deny) out.push(`deny = ${list(doc.seccomp.deny)}`);
    if (doc.seccomp.errno !== undefined) {
      out.push(`errno = ${doc.seccomp.errno}`);
    }
    if (doc.seccomp.allow?.length) {
      out.push(`allow = ${list(doc.seccomp.allow)}`);
    }
    if (doc.seccomp.memfd_exec !== undefined) {
      out.push(`memfd_exec = ${doc.seccomp.memfd_exec}`);
    }
  }
  if (doc.broker) {
    out.push("", "[broker]");
    for (
      const key of [
        "allow_read",
        "allow_write",
        "scratch",
        "export",
        "mount_tmpfs",
      ] as const
    ) {
      const v = doc.broker[key];
      if (v) out.push(`${key} = ${list(v)}`);
    }
    if (doc.broker.mount_bind) {
      out.push(`mount_bind = ${binds(doc.broker.mount_bind)}`);
    }
    if (doc.broker.mount_object) {
      const objects = doc.broker.mount_object.map((o) =>
        `{ name = ${str(o.name)}, fs_type = ${str(o.fs_type)}, attach = ${
          list(o.attach)
        }, attrs = ${list(o.attrs ?? [])} }`
      );
      out.push(`mount_object = [${objects.join(", ")}]`);
    }
    for (const r of doc.broker.addfd ?? []) {
      out.push("", "  [[broker.addfd]]", `  action = ${str(r.action)}`);
      out.push(`  target = ${str(r.target)}`);
      if (r.mode) out.push(`  mode = ${str(r.mode)}`);
    }
  }
  if (doc.mount) {
    out.push("", "[mount]");
    if (doc.mount.tmpfs) out.push(`tmpfs = ${list(doc.mount.tmpfs)}`);
    if (doc.mount.proc) out.push(`proc = ${list(doc.mount.proc)}`);
    if (doc.mount.bind) out.push(`bind = ${binds(doc.mount.bind)}`);
  }
  if (doc.env) {
    out.push("", "[env]");
    if (doc.env.clear) out.push("clear = true");
    if (doc.env.keep?.length) out.push(`keep = ${list(doc.env.keep)}`);
    if (doc.env.unset?.length) out.push(`unset = ${list(doc.env.unset)}`);
    const set = Object.entries(doc.env.set ?? {});
    if (set.length) {
      out.push(
        `set = { ${set.map(([k, v]) => `${k} = ${str(v)}`).join(", ")} }`,
      );
    }
  }
  if (doc.runtime) {
    out.push("", "[runtime]");
    if (doc.runtime.root) out.push(`root = ${str(doc.runtime.root)}`);
    if (doc.runtime.cwd) out.push(`cwd = ${str(doc.runtime.cwd)}`);
  }
  return out.join("\n") + "\n";
}
