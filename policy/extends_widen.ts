/**
 * `[[fs_rule]]` and `[[net_rule]]`: how a file that extends others widens
 * the layers and `[net]` its bases define (rule 3 in policy/extends.ts).
 *
 * @module
 */

import type { z } from "zod";
import type { Source } from "./diagnostic.ts";
import { expandFsRights, type FsRightOrGroup } from "./groups.ts";
import type { KeyPath } from "./locate.ts";
import { describeOrigin, keyOf, nearest, type Origins } from "./origins.ts";
import type { NetRight } from "./rights.ts";
import type { extendingKeys } from "./schema.ts";

type Doc = Record<string, unknown>;

const isTable = (v: unknown): v is Doc =>
  v !== null && typeof v === "object" && !Array.isArray(v) &&
  !(v instanceof Date);

/** Applies `[[fs_rule]]` and `[[net_rule]]` to the merged bases. */
export function widen(
  acc: Doc,
  origins: Origins,
  rules: z.output<typeof extendingKeys>,
  src: Source,
  fail: (path: KeyPath, message: string) => void,
): boolean {
  let ok = true;
  const bad = (path: KeyPath, message: string) => {
    fail(path, message);
    ok = false;
  };
  const layers = Array.isArray(acc.fs_layer) ? acc.fs_layer as Doc[] : [];
  const handledBy = (layer: Doc) =>
    expandFsRights(
      (Array.isArray(layer.handled_access_fs)
        ? layer.handled_access_fs
        : []) as FsRightOrGroup[],
    );
  (rules.fs_rule ?? []).forEach((rule, k) => {
    const at = ["fs_rule", k];
    if (!layers.length) {
      bad(
        at,
        "the policies this one extends have no [[fs_layer]] to add the rule to; write an [[fs_layer]] instead",
      );
      return;
    }
    if (rule.layer !== undefined && rule.layer >= layers.length) {
      bad(
        [...at, "layer"],
        `expected a base layer from 0 to ${
          layers.length - 1
        } (the bases define ${layers.length}), got ${rule.layer}`,
      );
      return;
    }
    const targets = rule.layer === undefined
      ? layers.map((_, i) => i)
      : [rule.layer];
    let added = 0;
    for (const i of targets) {
      const handled = handledBy(layers[i]);
      const allowed = rule.allowed_access.filter((r) => handled.includes(r));
      const missing = rule.allowed_access.filter((r) => !handled.includes(r));
      if (rule.layer !== undefined && missing.length) {
        bad(
          [...at, "allowed_access"],
          `base layer ${i} (${
            describeOrigin(nearest(origins, ["fs_layer", i]))
          }) does not handle ${
            missing.map((r) => `"${r}"`).join(", ")
          }; a rule can only allow rights its layer handles`,
        );
        return;
      }
      if (!allowed.length) continue;
      const layer = layers[i];
      if (!Array.isArray(layer.rule)) layer.rule = [];
      const list = layer.rule as unknown[];
      const m = ["fs_layer", i, "rule", list.length];
      const entry: Doc = { path: rule.path, allowed_access: allowed };
      if (rule.optional) entry.optional = true;
      list.push(entry);
      for (const sub of [[], ["path"], ["allowed_access"], ["optional"]]) {
        origins.set(keyOf([...m, ...sub]), {
          source: src,
          path: [...at, ...sub],
        });
      }
      added++;
    }
    if (!added) {
      bad(
        [...at, "allowed_access"],
        "no layer of the policies this one extends handles these rights, so they are allowed already; remove the rule",
      );
    }
  });
  (rules.net_rule ?? []).forEach((rule, k) => {
    const at = ["net_rule", k];
    const net = acc.net;
    const handled = isTable(net) && Array.isArray(net.handled_access_net)
      ? net.handled_access_net as NetRight[]
      : [];
    const allowed = rule.allowed_access.filter((r) => handled.includes(r));
    if (!isTable(net) || !allowed.length) {
      bad(
        [...at, "allowed_access"],
        "the policies this one extends do not restrict these TCP operations ([net] handled_access_net), so they are allowed already; remove the rule",
      );
      return;
    }
    if (!Array.isArray(net.rule)) net.rule = [];
    const list = net.rule as unknown[];
    const m = ["net", "rule", list.length];
    list.push({ port: rule.port, allowed_access: allowed });
    for (const sub of [[], ["port"], ["allowed_access"]]) {
      origins.set(keyOf([...m, ...sub]), {
        source: src,
        path: [...at, ...sub],
      });
    }
  });
  return ok;
}
