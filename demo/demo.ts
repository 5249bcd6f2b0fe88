/**
 * `deno task demo`: the port story from the seed essay, on this kernel.
 *
 * The seed's Pod declares containerPort 80; `landlockd policy from-pod`
 * turns that into "may only bind port 80". The web server binds it; a
 * dependency it imports tries to open a second listener, and Landlock
 * refuses that bind with EACCES while the server keeps working. Root uses
 * the essay's ports 80 and 100; other users use 8080 and 8100, since
 * binding below 1024 is EACCES for them anyway and would hide what Landlock
 * does.
 *
 * @module
 */

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../", import.meta.url).pathname;
const say = (s = "") => console.log(s);

function free(port: number): boolean {
  try {
    Deno.listen({ hostname: "127.0.0.1", port }).close();
    return true;
  } catch {
    return false;
  }
}

const [port, backdoor] = Deno.uid() === 0 && free(80) && free(100)
  ? [80, 100]
  : [8080, 8100];
const tmp = Deno.makeTempDirSync({ prefix: "landlockd-demo-" });
const landlockd = (args: string[]) =>
  new Deno.Command(Deno.execPath(), {
    args: ["run", "--cached-only", "--allow-all", `${root}main.ts`, ...args],
    stdout: "piped",
    stderr: "inherit",
  });

// 1. What the operator already declared: the seed essay's Pod.
let manifest = Deno.readTextFileSync(`${here}pod.yaml`);
if (port !== 80) {
  manifest = manifest.replace("containerPort: 80", `containerPort: ${port}`);
}
Deno.writeTextFileSync(`${tmp}/pod.yaml`, manifest);
say(`landlockd demo: "this web server may only bind port ${port}"`);
say();
say(
  `The Pod manifest (demo/pod.yaml${
    port !== 80 ? `, with port ${port} for a non-root user` : ""
  }) declares:`,
);
for (const l of manifest.split("\n")) {
  if (/image:|containerPort:/.test(l)) say(`  ${l.trim()}`);
}
say();

// 2. The policy derived from it.
const policy = `${tmp}/web.toml`;
const derived = landlockd(["policy", "from-pod", `${tmp}/pod.yaml`])
  .outputSync();
if (!derived.success) Deno.exit(1);
Deno.writeTextFileSync(policy, new TextDecoder().decode(derived.stdout));
say("$ landlockd policy from-pod pod.yaml > web.toml");
for (const l of Deno.readTextFileSync(policy).split("\n")) {
  if (/^(\[net\]|handled_access_net| {2}port| {2}allowed_access)/.test(l)) {
    say(`  ${l}`);
  }
}
say();

// 3. The server under that policy, unchanged.
const argv = [
  "run",
  "--policy-file",
  policy,
  "--",
  Deno.execPath(),
  "run",
  "--allow-net",
  `${here}server.ts`,
  String(port),
  String(backdoor),
];
say(
  `$ landlockd run --policy-file web.toml -- deno run --allow-net demo/server.ts ${port} ${backdoor}`,
);
const server = landlockd(argv).spawn();
const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let output = "";
let buffer = "";
while (
  !output.includes("[dependency] refused") && !output.includes("backdoor open")
) {
  const { value, done } = await lines.read();
  if (done) break;
  output += value;
  buffer += value;
  const parts = buffer.split("\n");
  buffer = parts.pop()!;
  parts.forEach((l) => say(`  ${l}`));
}
const reply = await fetch(`http://127.0.0.1:${port}/`).then((r) => r.text())
  .catch((e) => `(no answer: ${e})`);
say(`  [demo]       GET http://127.0.0.1:${port}/ -> ${reply.trim()}`);
for (;;) {
  const { value, done } = await lines.read();
  if (done) break;
  output += value;
  value.split("\n").filter((l) => l).forEach((l) => say(`  ${l}`));
}
const status = await server.status;
Deno.removeSync(tmp, { recursive: true });

say();
const refused = /refused: bind\(2\) failed with EACCES/.test(output);
if (refused && status.code === 0 && reply.startsWith("hello")) {
  say("What happened:");
  say(`  - The Pod declared port ${port}; landlockd turned that into the only`);
  say("    port the container may bind.");
  say(`  - The server bound port ${port} and answered.`);
  say(
    `  - Its dependency tried to bind port ${backdoor}; the kernel refused with`,
  );
  say("    EACCES (Permission denied). Landlock's network denials are EACCES,");
  say("    not EPERM as the essay says.");
  say("  - Nothing in the application changed: the kernel enforced the");
  say("    operator's declaration from outside.");
} else {
  say("Unexpected: the demo did not go as described (see the output above).");
  Deno.exit(1);
}
