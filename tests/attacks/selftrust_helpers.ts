/**
 * Policies for the self-trust attacks (selftrust_self_test.ts, directly;
 * daemon_selftrust_test.ts, through the daemon).
 *
 * @module
 */

import { policyFile, tempDir } from "../helpers.ts";

/** Every filesystem write right. */
export const ALL_WRITE =
  `"write_file", "remove_dir", "remove_file", "make_char", "make_dir", "make_reg", "make_sock", "make_fifo", "make_block", "make_sym", "refer"`;

/** Reads and executes anywhere; writes only beneath `writable`. */
export function writesOnly(writable: string, dir = tempDir()): string {
  return policyFile(
    `version = 1
[[fs_layer]]
handled_access_fs = ["execute", "read_file", "read_dir", ${ALL_WRITE}]
  [[fs_layer.rule]]
  path = "/"
  allowed_access = ["execute", "read_file", "read_dir"]
  [[fs_layer.rule]]
  path = "${writable}"
  allowed_access = [${ALL_WRITE}]
  [[fs_layer.rule]]
  path = "/dev/null"
  allowed_access = ["write_file"]
`,
    dir,
  );
}
