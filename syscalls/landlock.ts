/**
 * Typed Landlock system calls: `landlock_create_ruleset` and
 * `landlock_add_rule`. (`landlock_restrict_self` runs in the child, inside
 * the C trampoline.)
 *
 * @module
 */

import {
  addressOf,
  cstring,
  landlockNetPortAttr,
  landlockPathBeneathAttr,
  landlockRulesetAttr,
  library,
  NR,
  struct,
} from "../ffi/mod.ts";
import { errnoName, SyscallError } from "./errno.ts";
import { rawSyscall, resultValue, shortRunCalls, unwrap } from "./sys.ts";

const CREATE_RULESET_VERSION = 1;
const RULE_PATH_BENEATH = 1;
const RULE_NET_PORT = 2;

/** What `landlock_create_ruleset(NULL, 0, VERSION)` told us. */
export type AbiProbe =
  | { available: true; abi: number }
  | { available: false; errno: number; reason: string };

/** Asks the kernel for its Landlock ABI version. */
export function probeAbi(): AbiProbe {
  const r = rawSyscall(
    NR.landlock_create_ruleset,
    0,
    0,
    CREATE_RULESET_VERSION,
  );
  if (r >= 0) return { available: true, abi: r };
  const err = -r;
  let reason: string;
  switch (errnoName(err)) {
    case "ENOSYS":
      reason =
        "Landlock is not built into this kernel (CONFIG_SECURITY_LANDLOCK=y is needed, Linux 5.13 or newer)";
      break;
    case "EOPNOTSUPP":
      reason =
        'Landlock is built in but disabled at boot: add "landlock" to the lsm= kernel parameter';
      break;
    default:
      reason = new SyscallError("query the Landlock ABI", err).message;
  }
  return { available: false, errno: err, reason };
}

/** The masks a ruleset handles. */
export interface RulesetAttr {
  handled_access_fs: bigint;
  handled_access_net: bigint;
  scoped: bigint;
}

/** Creates a ruleset and returns its fd (close-on-exec). */
export function createRuleset(attr: RulesetAttr): number {
  const [bytes, view] = struct(landlockRulesetAttr.size);
  const L = landlockRulesetAttr;
  view.setBigUint64(L.handled_access_fs, attr.handled_access_fs, true);
  view.setBigUint64(L.handled_access_net, attr.handled_access_net, true);
  view.setBigUint64(L.scoped, attr.scoped, true);
  // Older kernels take the shorter struct; trailing fields must then be 0.
  const size = attr.scoped
    ? L.size
    : attr.handled_access_net
    ? L.scoped
    : L.handled_access_net;
  const r = rawSyscall(
    NR.landlock_create_ruleset,
    addressOf(bytes),
    size,
    0,
  );
  return unwrap(r, "create a Landlock ruleset");
}

/** Adds a `path_beneath` rule for the object behind `parentFd`. */
export function addPathBeneath(
  rulesetFd: number,
  allowedAccess: bigint,
  parentFd: number,
  path: string,
): void {
  const [bytes, view] = struct(landlockPathBeneathAttr.size);
  view.setBigUint64(
    landlockPathBeneathAttr.allowed_access,
    allowedAccess,
    true,
  );
  view.setInt32(landlockPathBeneathAttr.parent_fd, parentFd, true);
  const r = rawSyscall(
    NR.landlock_add_rule,
    rulesetFd,
    RULE_PATH_BENEATH,
    addressOf(bytes),
    0,
  );
  unwrap(r, "add a Landlock rule for", path);
}

/** Adds a `net_port` rule. */
export function addNetPort(
  rulesetFd: number,
  allowedAccess: bigint,
  port: number,
): void {
  const [bytes, view] = struct(landlockNetPortAttr.size);
  view.setBigUint64(landlockNetPortAttr.allowed_access, allowedAccess, true);
  view.setBigUint64(landlockNetPortAttr.port, BigInt(port), true);
  const r = rawSyscall(
    NR.landlock_add_rule,
    rulesetFd,
    RULE_NET_PORT,
    addressOf(bytes),
    0,
  );
  unwrap(r, "add a Landlock rule for port", String(port));
}

/** One rule of a {@link PathRuleBatch}. */
export interface BatchedPathRule {
  path: string;
  /** The rights if the path is a directory, and if it is anything else. */
  dirMask: bigint;
  fileMask: bigint;
  /** Skipped when the path does not exist. */
  optional: boolean;
}

/** Path rules laid out once for {@link addPathRules}, for every ruleset. */
export interface PathRuleBatch {
  count: number;
  paths: Uint8Array<ArrayBuffer>;
  masks: BigUint64Array<ArrayBuffer>;
  optional: Uint8Array<ArrayBuffer>;
}

/** Lays out `rules` for {@link addPathRules}; throws on a path with a NUL. */
export function pathRuleBatch(
  rules: readonly BatchedPathRule[],
): PathRuleBatch {
  const encoded = rules.map((r) => cstring(r.path));
  const paths = new Uint8Array(encoded.reduce((n, b) => n + b.length, 0));
  let at = 0;
  for (const b of encoded) {
    paths.set(b, at);
    at += b.length;
  }
  return {
    count: rules.length,
    paths,
    masks: new BigUint64Array(rules.flatMap((r) => [r.dirMask, r.fileMask])),
    optional: new Uint8Array(rules.map((r) => r.optional ? 1 : 0)),
  };
}

/** Which step of {@link addPathRules} failed (ll_rule_step). */
const RULE_STEPS = { 1: "open", 2: "statx", 3: "add" } as const;

/** Why {@link addPathRules} stopped. */
export interface PathRuleFailure {
  /** The rule's index in its batch. */
  index: number;
  step: "open" | "statx" | "add";
  errno: number;
}

const ruleOut = new Int32Array(2);

/**
 * Adds a batch's rules to `rulesetFd` in one call: each path is opened
 * (O_PATH) now, so a rule follows what the path names at this moment,
 * its type read, its rule added and the fd closed. Returns the first
 * failure, or undefined; a missing optional path is skipped.
 */
export function addPathRules(
  rulesetFd: number,
  batch: PathRuleBatch,
): PathRuleFailure | undefined {
  const i = shortRunCalls()
    ? resultValue(
      library().ll_add_path_rules_r(
        rulesetFd,
        batch.paths,
        batch.count,
        batch.masks,
        batch.optional,
        ruleOut,
      ),
    )
    : library().ll_add_path_rules(
      rulesetFd,
      batch.paths,
      batch.count,
      batch.masks,
      batch.optional,
      ruleOut,
    );
  if (i === batch.count) return undefined;
  return {
    index: i,
    step: RULE_STEPS[ruleOut[0] as 1 | 2 | 3],
    errno: ruleOut[1],
  };
}
