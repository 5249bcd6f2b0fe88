/**
 * `deno task demo` tells the port story and the kernel plays its part.
 */
import assert from "node:assert/strict";
import { ROOT } from "./helpers.ts";
import { testAtAbi } from "./fresh_needs.ts";

testAtAbi(
  4,
  "bind_tcp",
  "the demo's server works and its dependency's bind is refused with EACCES",
  async () => {
    const out = await new Deno.Command(Deno.execPath(), {
      args: ["run", "--allow-all", `${ROOT}demo/demo.ts`],
      stdout: "piped",
      stderr: "piped",
    }).output();
    const text = new TextDecoder().decode(out.stdout);
    assert.equal(out.code, 0, text + new TextDecoder().decode(out.stderr));
    assert.match(text, /\[dependency\] refused: bind\(2\) failed with EACCES/);
    assert.match(text, /-> hello from the sandboxed server/);
    assert.match(text, /not EPERM/);
    // The policy was derived from the seed's Pod manifest.
    assert.match(text, /\$ landlockd policy from-pod pod\.yaml > web\.toml/);
    assert.match(text, /handled_access_net = \["bind_tcp"\]/);
  },
);
