/**
 * The least a Deno client of `run --socket` can do: `dlopen` landlockd's C
 * library (passing stdin, stdout and stderr with SCM_RIGHTS needs it),
 * connect to the daemon, send one precomputed run frame with fds 0, 1 and
 * 2, and wait for the exit frame. No policy file, no trust list, no signal
 * relay, no module: this file imports nothing, and the C functions are
 * bound `nonblocking` (off the JS thread), as the real client binds them.
 *
 * bench/floors.ts writes FRAME: the run frame `landlockd run --socket`
 * sends for the same policy and command (daemon/protocol.ts, stdio "fds").
 *
 * Usage: deno run -A bench/floor_socket.ts LIBRARY SOCKET FRAME
 * Exits with the command's exit code.
 *
 * @module
 */

const [library, socket, framePath] = Deno.args;
const frame = Deno.readFileSync(framePath);
const lib = Deno.dlopen(library, {
  ll_sock_connect: { parameters: ["buffer"], result: "i32", nonblocking: true },
  ll_sock_send: {
    parameters: ["i32", "buffer", "u64", "buffer", "u32", "i32"],
    result: "i64",
    nonblocking: true,
  },
  ll_sock_recv: {
    parameters: ["i32", "buffer", "u64", "buffer", "buffer", "i32"],
    result: "i64",
    nonblocking: true,
  },
}).symbols;

const fd = await lib.ll_sock_connect(new TextEncoder().encode(socket + "\0"));
if (fd < 0) throw new Error(`connect ${socket}: errno ${-fd}`);
let fds: Int32Array<ArrayBuffer> | null = Int32Array.of(0, 1, 2);
for (let at = 0; at < frame.length;) {
  const chunk = frame.subarray(at);
  const n = Number(
    await lib.ll_sock_send(fd, chunk, BigInt(chunk.length), fds, 3, 0),
  );
  if (n <= 0) throw new Error(`send: ${n}`);
  at += n;
  fds = null;
}

// Frames: u32 header length, u32 body length (little-endian), JSON, body.
const buf = new Uint8Array(64 << 10);
const got = new Int32Array(8);
const nfds = new Int32Array(1);
let pending = new Uint8Array(0);
for (;;) {
  const n = Number(
    await lib.ll_sock_recv(fd, buf, BigInt(buf.length), got, nfds, 0),
  );
  if (n <= 0) throw new Error(`the daemon closed the connection (${n})`);
  const all = new Uint8Array(pending.length + n);
  all.set(pending);
  all.set(buf.subarray(0, n), pending.length);
  let at = 0;
  const view = new DataView(all.buffer);
  while (all.length - at >= 8) {
    const head = view.getUint32(at, true);
    const size = 8 + head + view.getUint32(at + 4, true);
    if (all.length - at < size) break;
    const header = JSON.parse(
      new TextDecoder().decode(all.subarray(at + 8, at + 8 + head)),
    );
    if (header.type === "exit") Deno.exit(header.code);
    if (header.type === "error") throw new Error(header.message);
    at += size;
  }
  pending = all.slice(at);
}
