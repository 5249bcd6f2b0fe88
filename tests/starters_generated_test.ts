/**
 * policy/starters.generated.ts (`deno task starters`): the starter policies
 * as shipped, parsed at build time. It must be what the task writes from
 * policies/*.toml now, and a run must load the same policy from it as from
 * parsing the text.
 */
import assert from "node:assert/strict";
import { STARTER_DOCUMENTS } from "../policy/starters.generated.ts";
import { startersModule } from "../policy/write_starters.ts";
import { parseDocument } from "../policy/toml_parse.ts";
import { loadPolicy } from "../policy/load.ts";
import { ROOT } from "./helpers.ts";

const STARTERS = [...Deno.readDirSync(`${ROOT}policies`)]
  .filter((e) => e.name.endsWith(".toml")).map((e) => e.name).sort();

Deno.test("policy/starters.generated.ts is what deno task starters writes now", () => {
  assert.equal(
    Deno.readTextFileSync(`${ROOT}policy/starters.generated.ts`),
    startersModule(),
    "run deno task starters",
  );
  assert.equal(STARTER_DOCUMENTS.size, STARTERS.length);
});

Deno.test("each starter's stored document is the one smol-toml parses", () => {
  for (const name of STARTERS) {
    const text = Deno.readTextFileSync(`${ROOT}policies/${name}`);
    const stored = STARTER_DOCUMENTS.get(text);
    assert.ok(stored !== undefined, name);
    assert.deepStrictEqual(
      JSON.parse(stored),
      parseDocument({ name, text }).doc,
    );
  }
});

/** The policy `loadPolicy` returns, or the message it throws. */
async function outcome(name: string, text: string): Promise<unknown> {
  try {
    return await loadPolicy({ name, text });
  } catch (e) {
    return (e as Error).message;
  }
}

Deno.test("a starter loads the same policy, or error, stored or parsed", async () => {
  // Unset, the prepared-root policies fail on ${LANDLOCKD_ROOTFS} (with
  // line numbers); set, they load.
  for (const rootfs of [undefined, "/"]) {
    if (rootfs === undefined) Deno.env.delete("LANDLOCKD_ROOTFS");
    else Deno.env.set("LANDLOCKD_ROOTFS", rootfs);
    for (const name of STARTERS) {
      const text = Deno.readTextFileSync(`${ROOT}policies/${name}`);
      // A comment line more at the end: not the stored text, so parsed.
      assert.deepStrictEqual(
        await outcome(name, text),
        await outcome(name, `${text}\n# edited\n`),
        name,
      );
    }
  }
  Deno.env.delete("LANDLOCKD_ROOTFS");
});
