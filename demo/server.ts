/**
 * The demo's web server: serves one request on the port it is given, then
 * exits. It imports a dependency that has gone bad (./dependency.ts).
 *
 * Usage: deno run --allow-net demo/server.ts PORT BACKDOOR_PORT
 *
 * @module
 */

import { openBackdoor } from "./dependency.ts";

const [port, backdoor] = Deno.args.map(Number);

const server = Deno.serve({
  hostname: "127.0.0.1",
  port,
  onListen: () => {
    console.log(`[server]     listening on port ${port}`);
    openBackdoor(backdoor);
  },
}, () => {
  queueMicrotask(() => server.shutdown());
  return new Response("hello from the sandboxed server\n");
});
await server.finished;
console.log("[server]     served one request and stopped");
