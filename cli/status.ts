/**
 * `landlockd status`: what a daemon is doing, as JSON.
 *
 * @module
 */

import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT } from "./exit_codes.ts";
import { printError, stableJson } from "./output.ts";
import { connectFailure, socketPath } from "./socket_option.ts";
import { connect } from "../daemon/client.ts";

const OPTIONS = {
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** `landlockd status --help` */
export const HELP = `Usage: landlockd status [--socket PATH]

Print the daemon's state as JSON: pid, version, uptime, Landlock ABI,
active runs (pid, policy, argv0, start time), totals, policy cache.

Exit status: 0; 3 no daemon answers; 2 usage error.
`;

/** `landlockd status`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseOptions("status", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  const path = socketPath(values.socket, "status");
  let client;
  try {
    client = await connect(path);
  } catch (e) {
    printError(connectFailure(path, e));
    return EXIT.DAEMON;
  }
  try {
    console.log(stableJson(await client.status()));
    return EXIT.OK;
  } catch (e) {
    printError((e as Error).message);
    return EXIT.DAEMON;
  } finally {
    client.close();
  }
}
