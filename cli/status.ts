/**
 * `landlockd status`: what a daemon is doing, as JSON.
 *
 * @module
 */

import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT } from "./exit_codes.ts";
import { stableJson } from "./output.ts";
import { socketPath, withDaemon } from "./socket_option.ts";

const OPTIONS = {
  socket: { type: "string" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** `landlockd status --help` */
export const HELP = `Usage: landlockd status [--socket PATH]

Print the daemon's state as JSON: pid, version, uptime, Landlock ABI,
active runs (pid, policy, argv0, start time), totals, policy cache.

Exit status: 0; 125 no daemon answers, or a usage error.
`;

/** `landlockd status`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseOptions("status", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  return await withDaemon(
    socketPath(values.socket, "status"),
    async (client) => console.log(stableJson(await client.status())),
  );
}
