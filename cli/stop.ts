/**
 * `landlockd stop`: stop a daemon, gracefully or at once.
 *
 * @module
 */

import { type OptionSpecs, parseOptions } from "./args.ts";
import { EXIT, UsageError } from "./exit_codes.ts";
import { graceOption, socketPath, withDaemon } from "./socket_option.ts";

const OPTIONS = {
  socket: { type: "string" },
  grace: { type: "string" },
  now: { type: "boolean" },
  help: { type: "boolean", short: "h" },
} as const satisfies OptionSpecs;

/** `landlockd stop --help` */
export const HELP =
  `Usage: landlockd stop [--socket PATH] [--grace SECONDS | --now]

Stop the daemon: it refuses new runs at once, lets active runs finish for
up to --grace seconds (default 10), then kills the rest and exits. --now
kills active runs at once. Returns when the daemon has stopped.

Exit status: 0 stopped; 3 no daemon answers or it refused; 2 usage error.
`;

/** `landlockd stop`; returns the exit code. */
export async function main(args: string[]): Promise<number> {
  const { values } = parseOptions("stop", args, OPTIONS);
  if (values.help) {
    console.log(HELP);
    return EXIT.OK;
  }
  if (values.now && values.grace !== undefined) {
    throw new UsageError("use --grace or --now, not both", "stop");
  }
  const grace = graceOption(values.grace, "stop");
  return await withDaemon(socketPath(values.socket, "stop"), async (client) => {
    const { killed } = await client.stop({ grace, now: values.now ?? false });
    console.error(
      `landlockd: daemon stopped${
        killed > 0 ? `; ${killed} run(s) killed` : ""
      }`,
    );
  });
}
