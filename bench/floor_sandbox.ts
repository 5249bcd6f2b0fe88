/**
 * The least a Deno program can do to run a command under a policy with
 * landlockd's C library: `dlopen` it, create the policy's Landlock rulesets
 * (open each rule path, add the rule), and start the command through
 * `ll_spawn` (the library's real spawn: no_new_privs, the rulesets, the
 * seccomp program, execve), then `ll_wait`. No TOML, no validation, no
 * plan, and no module: this file imports nothing.
 *
 * Everything policy-shaped comes precomputed in SPEC, a JSON file that
 * bench/floors.ts writes from a policy's real plan: the library's path,
 * the rulesets (masks and rule paths, already fitted to each path's kind),
 * the seccomp program's bytes and flags, the syscall numbers and the
 * `struct ll_spawn_req` layout (ffi/layout.ts).
 *
 * Usage:
 *   deno run -A bench/floor_sandbox.ts SPEC            one run: exits with the command's status
 *   deno run -A bench/floor_sandbox.ts SPEC --loop N   N runs in this process (rulesets made per
 *                                                      run, as the daemon must): JSON of the times
 *
 * @module
 */

/** What bench/floors.ts writes (see `FloorSpec` there). */
interface Spec {
  library: string;
  argv: string[];
  nr: { openat: number; close: number; create: number; add: number };
  layers: {
    attr: string; // struct landlock_ruleset_attr, hex
    attr_size: number;
    rules: { path: string; access: string }[];
  }[];
  seccomp: string; // BPF, hex
  seccomp_flags: number;
  no_new_privs: number;
  layout: Record<string, number>;
}

const [specPath, mode, count] = Deno.args;
const spec: Spec = JSON.parse(Deno.readTextFileSync(specPath));
const L = spec.layout;

const lib = Deno.dlopen(spec.library, {
  ll_spawn: { parameters: ["buffer", "buffer"], result: "i32" },
  ll_wait: { parameters: ["i32"], result: "i32" },
  ll_syscall: {
    parameters: ["i64", "i64", "i64", "i64", "i64", "i64", "i64"],
    result: "i64",
  },
}).symbols;

const hex = (s: string) =>
  Uint8Array.from(s.match(/../g) ?? [], (b) => parseInt(b, 16));
const addr = (b: BufferSource) =>
  BigInt(Deno.UnsafePointer.value(Deno.UnsafePointer.of(b)));
const enc = new TextEncoder();
const sys = (nr: bigint, a = 0n, b = 0n, c = 0n) =>
  Number(lib.ll_syscall(nr, a, b, c, 0n, 0n, 0n));
const NR = {
  openat: BigInt(spec.nr.openat),
  close: BigInt(spec.nr.close),
  create: BigInt(spec.nr.create),
  add: BigInt(spec.nr.add),
};

/** NUL-terminated strings and the NULL-terminated pointer array to them. */
function cstrings(
  items: string[],
): { bytes: Uint8Array<ArrayBuffer>; ptrs: BigUint64Array<ArrayBuffer> } {
  const bytes = enc.encode(items.join("\0") + "\0");
  const base = addr(bytes);
  const ptrs = new BigUint64Array(items.length + 1);
  for (let i = 0, at = 0; i < items.length; i++) {
    ptrs[i] = base + BigInt(at);
    at = bytes.indexOf(0, at) + 1;
  }
  return { bytes, ptrs };
}

// Made once: the request, every buffer it points at, each rule's path and
// its `struct landlock_path_beneath_attr` (the fd is written per run).
const AT_FDCWD = -100n;
const O_PATH_CLOEXEC = BigInt(0o10000000 | 0o2000000);
const layers = spec.layers.map((l) => ({
  attr: hex(l.attr),
  size: BigInt(l.attr_size),
  rules: l.rules.map((r) => {
    const attr = new Uint8Array(12); // packed: u64 allowed_access, s32 fd
    const view = new DataView(attr.buffer);
    view.setBigUint64(0, BigInt(r.access), true);
    const path = enc.encode(r.path + "\0");
    return { path, pathAddr: addr(path), attr, attrAddr: addr(attr), view };
  }),
}));
const filter = hex(spec.seccomp);
const prog = new Uint8Array(16); // struct sock_fprog
new DataView(prog.buffer).setUint16(0, filter.length / 8, true);
new DataView(prog.buffer).setBigUint64(8, addr(filter), true);
const argv = cstrings(spec.argv);
const paths = cstrings([spec.argv[0]]);
const layerFds = new Int32Array(Math.max(1, layers.length));
const req = new Uint8Array(L.size);
const rv = new DataView(req.buffer);
rv.setBigUint64(L.paths, addr(paths.ptrs), true);
rv.setBigUint64(L.argv, addr(argv.ptrs), true);
rv.setBigUint64(L.layer_fds, addr(layerFds), true);
rv.setUint32(L.n_layers, layers.length, true);
for (let i = 0; i < 3; i++) rv.setInt32(L.stdio + 4 * i, -1, true);
rv.setUint32(L.flags, spec.no_new_privs, true);
if (filter.length) rv.setBigUint64(L.seccomp_prog, addr(prog), true);
rv.setUint32(L.seccomp_flags, spec.seccomp_flags, true);
const out = new Int32Array(L.out_length);
/** What C reads through the request: exported, so it stays reachable. */
export const keep = [argv, paths, filter, prog, layerFds, layers];

/** One run: the rulesets, the spawn, the wait. Returns the exit status. */
function once(): number {
  layers.forEach((l, i) => {
    const fd = sys(NR.create, addr(l.attr), l.size);
    if (fd < 0) throw new Error(`landlock_create_ruleset: errno ${-fd}`);
    layerFds[i] = fd;
    for (const r of l.rules) {
      const parent = sys(NR.openat, AT_FDCWD, r.pathAddr, O_PATH_CLOEXEC);
      if (parent < 0) throw new Error(`open ${r.path}: errno ${-parent}`);
      r.view.setInt32(8, parent, true);
      const added = sys(NR.add, BigInt(fd), 1n, r.attrAddr);
      sys(NR.close, BigInt(parent));
      if (added < 0) throw new Error(`landlock_add_rule: errno ${-added}`);
    }
  });
  const r = lib.ll_spawn(req, out);
  for (let i = 0; i < layers.length; i++) {
    sys(NR.close, BigInt(layerFds[i]));
  }
  if (r !== 0) {
    throw new Error(
      `ll_spawn: ${r} (step ${out[L.out_step]}, errno ${out[L.out_errno]})`,
    );
  }
  const status = lib.ll_wait(out[L.out_pidfd]);
  sys(NR.close, BigInt(out[L.out_pidfd]));
  return status;
}

if (mode !== "--loop") Deno.exit(once());

const runs = Number(count);
for (let i = 0; i < 20; i++) once(); // warm-up
const times: number[] = [];
const t0 = performance.now();
for (let i = 0; i < runs; i++) {
  const t = performance.now();
  if (once() !== 0) throw new Error(`${spec.argv[0]} failed`);
  times.push(performance.now() - t);
}
const total = performance.now() - t0;
times.sort((a, b) => a - b);
console.log(JSON.stringify({
  runs,
  mean_ms: times.reduce((a, b) => a + b, 0) / runs,
  median_ms: times[runs >> 1],
  p95_ms: times[Math.min(runs - 1, Math.floor(runs * 0.95))],
  runs_per_s: runs / (total / 1000),
}));
