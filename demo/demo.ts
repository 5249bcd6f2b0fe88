/**
 * `deno task demo`: the port story from the seed essay, on this kernel.
 *
 * A web server may only bind its own port. A dependency it imports tries to
 * open a second listener; Landlock refuses the bind with EACCES while the
 * server keeps working. Root uses the essay's ports 80 and 100; other users
 * use 8080 and 8100, since binding below 1024 is EACCES for them anyway and
 * would hide what Landlock does.
 *
 * @module
 */

const here = new URL(".", import.meta.url).pathname;
const root = new URL("../", import.meta.url).pathname;

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

const policy = `${
  Deno.makeTempDirSync({ prefix: "landlockd-demo-" })
}/web.toml`;
Deno.writeTextFileSync(
  policy,
  `# "This process may only bind to port ${port}."
version = 1

[net]
handled_access_net = ["bind_tcp"]

  [[net.rule]]
  port = ${port}
  allowed_access = ["bind_tcp"]
`,
);

const say = (s = "") => console.log(s);
say(`landlockd demo: "this web server may only bind port ${port}"`);
say();
say(`Policy (${policy}):`);
say(`  [net] handled_access_net = ["bind_tcp"], one rule: port ${port}`);
say();
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
say(`$ landlockd ${argv.join(" ")}`);

const server = new Deno.Command(Deno.execPath(), {
  args: ["run", "--allow-all", `${root}main.ts`, ...argv],
  stdout: "piped",
  stderr: "inherit",
}).spawn();

// Echo the server's lines and wait until it is listening.
const lines = server.stdout.pipeThrough(new TextDecoderStream()).getReader();
let output = "";
let buffer = "";
while (
  !output.includes("[dependency] refused") && !output.includes("backdoor open")
) {
  const { value, done } = await lines.read();
  if (done) break;
  buffer += value;
  output += value;
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

say();
const refused = /refused: bind\(2\) failed with EACCES/.test(output);
if (refused && status.code === 0 && reply.startsWith("hello")) {
  say("What happened:");
  say(
    `  - The server bound port ${port}, which the policy allows, and answered.`,
  );
  say(
    `  - Its dependency tried to bind port ${backdoor}; the kernel refused with`,
  );
  say("    EACCES (Permission denied). Landlock's network denials are EACCES,");
  say("    not EPERM as the essay says.");
  say(
    "  - The application was not changed: the policy was applied from outside.",
  );
} else {
  say("Unexpected: the demo did not go as described (see the output above).");
  Deno.exit(1);
}
