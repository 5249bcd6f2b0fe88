/**
 * `deno task test:kernels`: boots each Debian cloud kernel the catalogue
 * finds (Debian 12's 6.1, and every newer series its suites offer) under
 * QEMU, runs the checks in checks.ts inside it, and asserts each check's
 * results as one test per check per kernel. The file is not named
 * `*_test.ts`, so `deno task test` does not pick it up.
 *
 * Environment: LANDLOCKD_KERNEL_CACHE (where kernels are kept),
 * LANDLOCKD_KERNEL_SERIES (only these series, comma-separated: `6.1`),
 * LANDLOCKD_KERNEL_VM_CPUS (default 2), LANDLOCKD_KERNEL_VM_MIB (default
 * 2048), LANDLOCKD_KERNEL_VM_TIMEOUT_S (per boot, default 600),
 * LANDLOCKD_KERNEL_KEEP=1 (keep the image and the serial logs, and say where).
 *
 * @module
 */

import assert from "node:assert/strict";
import { catalogue, type Kernel } from "./catalogue.ts";
import { CHECKS } from "./checks.ts";
import { buildInitramfs, hostTools } from "./initramfs.ts";
import { type Boot, boot, qemuBinary } from "./qemu.ts";

const env = (name: string, fallback: number) =>
  Number(Deno.env.get(name) ?? fallback);

const qemu = qemuBinary();
const tools = hostTools();
const cannotBoot = !qemu
  ? "qemu-system-x86_64 not found (run tests/kernels/setup.sh, or apt-get install qemu-system-x86)"
  : typeof tools === "string"
  ? tools
  : undefined;
const only = Deno.env.get("LANDLOCKD_KERNEL_SERIES")?.split(",");
const found = catalogue();
const kernels = found.kernels.filter((k) => !only || only.includes(k.series));
const skipped = found.skipped.filter((s) => !only || only.includes(s.series));

let workDir: string | undefined;
let image: Promise<string> | undefined;

/** The initramfs, built once for every kernel. */
function initramfs(): Promise<string> {
  image ??= (async () => {
    workDir = Deno.makeTempDirSync({ prefix: "landlockd-kernels-" });
    const out = `${workDir}/initramfs.cpio`;
    const t0 = performance.now();
    const bytes = await buildInitramfs(
      out,
      tools as Exclude<typeof tools, string>,
    );
    console.log(
      `initramfs: ${(bytes / 2 ** 20).toFixed(0)} MiB in ${
        Math.round(performance.now() - t0)
      } ms`,
    );
    return out;
  })();
  return image;
}

globalThis.addEventListener("unload", () => {
  if (!workDir) return;
  if (Deno.env.get("LANDLOCKD_KERNEL_KEEP") === "1") {
    console.log(`kept the image and serial logs in ${workDir}`);
  } else Deno.removeSync(workDir, { recursive: true });
});

const boots = new Map<string, Promise<Boot>>();

/** Boots `k` once; every test of that kernel shares the result. */
function booted(k: Kernel): Promise<Boot> {
  let b = boots.get(k.release);
  if (!b) {
    b = (async () => {
      const initrd = await initramfs();
      const dir = Deno.makeTempDirSync({ dir: workDir, prefix: k.release });
      const r = await boot({
        qemu: qemu!,
        vmlinuz: k.vmlinuz,
        initrd,
        workDir: dir,
        memoryMiB: env("LANDLOCKD_KERNEL_VM_MIB", 2048),
        cpus: env("LANDLOCKD_KERNEL_VM_CPUS", 2),
        timeoutMs: env("LANDLOCKD_KERNEL_VM_TIMEOUT_S", 600) * 1000,
      });
      const inVm = [...r.results.values()].reduce((s, x) => s + x.ms, 0);
      console.log(
        `${k.release}: VM ran ${r.ms} ms (checks ${inVm} ms in the guest)`,
      );
      for (const x of r.results.values()) {
        console.log(`  ${(x.ms / 1000).toFixed(1)} s  ${x.name.slice(0, 70)}`);
      }
      return r;
    })();
    boots.set(k.release, b);
  }
  return b;
}

function describe(r: Boot): string {
  return `\n--- console tail ---\n${r.consoleTail}`;
}

for (const k of kernels) {
  const title =
    `Linux ${k.series} (${k.pkg} ${k.version}, Landlock ABI ${k.abi})`;
  const ignore = cannotBoot !== undefined;
  const why = ignore ? ` (skipped: ${cannotBoot})` : "";

  Deno.test({
    name: `${title}: boots, runs the guest and returns every check${why}`,
    ignore,
    async fn() {
      const r = await booted(k);
      assert.ok(!r.timedOut, `the VM did not finish in time${describe(r)}`);
      assert.equal(r.release, k.release, `wrong kernel booted${describe(r)}`);
      assert.ok(r.done, `the guest did not finish${describe(r)}`);
      assert.equal(r.results.size, CHECKS.length, describe(r));
    },
  });

  for (const check of CHECKS) {
    Deno.test({
      name: `${title}: ${check.name}${why}`,
      ignore,
      async fn() {
        const r = await booted(k);
        const got = r.results.get(check.name);
        assert.ok(got, `no result from the guest${describe(r)}`);
        assert.equal(got.obs.error, undefined, String(got.obs.error));
        check.verify(got.obs, k.abi);
      },
    });
  }
}

for (const s of skipped) {
  Deno.test({
    name: `Linux ${s.series}: every check (skipped: ${s.reason})`,
    ignore: true,
    fn() {},
  });
}
