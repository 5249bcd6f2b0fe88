/**
 * landlockd as a library: run sandboxed commands through a landlockd
 * daemon (`landlockd serve`) over one persistent Unix-socket connection.
 * Works in Deno and Node; it needs no FFI and no privileges, only access
 * to the daemon's socket.
 *
 * @example
 * ```ts ignore
 * import { connect } from "./mod.ts";
 * const client = await connect("/run/user/1000/landlockd.sock");
 * const policy = await Deno.readTextFile("policies/ci-default.toml");
 * const r = await client.run({ policy, argv: ["make", "test"] });
 * console.log(r.code, new TextDecoder().decode(r.stdout));
 * client.close();
 * ```
 *
 * @module
 */

export {
  Client,
  connect,
  DaemonError,
  type RunOptions,
  type RunOutput,
} from "./daemon/client.ts";
export { LIMITS, PROTOCOL_VERSION } from "./daemon/protocol.ts";
export type { Denial } from "./observe/explain.ts";
