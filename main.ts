/**
 * landlockd's command line (cli/main.ts). `landlockd run` loads it from the
 * bundle in dist/run/ when `deno task build` made one from the files as
 * they are now (cli/bundle.ts): the same code in half as many files, with
 * no npm package to resolve, which Deno loads faster. Otherwise, and for
 * every other command, from the sources.
 *
 * @module
 */

import { bundledModule, freshBundle, lazyImport } from "./lazy_import.ts";

type Cli = typeof import("./cli/main.ts");

/** `run --socket`, told apart only to pick the bundle that loads less. */
function socketRun(args: string[]): boolean {
  const end = args.indexOf("--");
  return args.slice(0, end < 0 ? args.length : end).some((a) =>
    a === "--socket" || a.startsWith("--socket=")
  );
}

// Nothing else runs yet: no other thread can have mapped the C library.
const bundle = Deno.args[0] === "run"
  ? await freshBundle(socketRun(Deno.args) ? "socket" : "direct", {
    firstThread: true,
  })
  : undefined;
const cli = bundle
  ? await bundledModule<Cli>(bundle, "cli/main.ts")
  : await lazyImport<Cli>("./cli/main.ts", import.meta.url);
Deno.exit(await cli.main(Deno.args));
