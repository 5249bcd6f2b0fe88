import assert from "node:assert/strict";
import { denoDir } from "./self_write.ts";

/** `denoDir()` with exactly these variables set (the rest unset). */
function withEnv(vars: Record<string, string>): string | undefined {
  const names = ["DENO_DIR", "XDG_CACHE_HOME", "HOME"];
  const was = names.map((n) => Deno.env.get(n));
  try {
    for (const n of names) {
      if (n in vars) Deno.env.set(n, vars[n]);
      else Deno.env.delete(n);
    }
    return denoDir();
  } finally {
    names.forEach((n, i) =>
      was[i] === undefined ? Deno.env.delete(n) : Deno.env.set(n, was[i]!)
    );
  }
}

function passwdHome(): string {
  const uid = String(Deno.uid());
  const line = Deno.readTextFileSync("/etc/passwd").split("\n")
    .find((l) => l.split(":")[2] === uid);
  return line!.split(":")[5];
}

Deno.test("denoDir finds Deno's cache as Deno does", () => {
  assert.equal(withEnv({ DENO_DIR: "/d", HOME: "/h" }), "/d");
  assert.equal(withEnv({ XDG_CACHE_HOME: "/x", HOME: "/h" }), "/x/deno");
  // Relative: Deno takes it from the working directory, as a path check does.
  assert.equal(withEnv({ XDG_CACHE_HOME: "x", HOME: "/h" }), "x/deno");
  assert.equal(withEnv({ HOME: "/h" }), "/h/.cache/deno");
  // No HOME, or an empty one: the home /etc/passwd gives this user.
  const home = `${passwdHome()}/.cache/deno`;
  assert.equal(withEnv({}), home);
  assert.equal(withEnv({ HOME: "" }), home);
});
