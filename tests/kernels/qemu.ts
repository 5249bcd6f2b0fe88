/**
 * Boots a kernel and the test initramfs under QEMU's TCG accelerator (KVM
 * is not usable on these machines) and reads back the guest's results.
 * The first serial port is the kernel console, the second the results, each
 * written to a file; the VM powers itself off when the guest is done.
 *
 * @module
 */

import { MARKER } from "./guest.ts";
import type { Observations } from "./checks.ts";

/** The QEMU binary on PATH, if any. */
export function qemuBinary(): string | undefined {
  for (const dir of (Deno.env.get("PATH") ?? "/usr/bin:/bin").split(":")) {
    const p = `${dir}/qemu-system-x86_64`;
    try {
      if (Deno.statSync(p).isFile) return p;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** How to boot. */
export interface BootOptions {
  qemu: string;
  vmlinuz: string;
  initrd: string;
  /** Where the console and results logs go. */
  workDir: string;
  memoryMiB: number;
  cpus: number;
  /** The VM is killed after this long. */
  timeoutMs: number;
}

/** One check's result line. */
export interface GuestResult {
  name: string;
  obs: Observations;
  ms: number;
}

/** What came back from one boot. */
export interface Boot {
  /** `uname -r` the guest reported, if it got that far. */
  release?: string;
  results: Map<string, GuestResult>;
  /** Whether the guest wrote its last line. */
  done: boolean;
  timedOut: boolean;
  /** Host wall-clock time from QEMU start to exit. */
  ms: number;
  /** The end of the kernel console, for failure messages. */
  consoleTail: string;
}

/** Boots once and collects the guest's result lines. */
export async function boot(o: BootOptions): Promise<Boot> {
  const consoleLog = `${o.workDir}/console.log`;
  const resultsLog = `${o.workDir}/results.log`;
  const args = [
    ...["-accel", "tcg", "-cpu", "max"],
    ...["-m", String(o.memoryMiB), "-smp", String(o.cpus)],
    ...["-nodefaults", "-display", "none", "-no-reboot", "-nic", "none"],
    ...["-serial", `file:${consoleLog}`, "-serial", `file:${resultsLog}`],
    ...["-kernel", o.vmlinuz, "-initrd", o.initrd],
    ...["-append", "console=ttyS0 quiet panic=-1 rdinit=/init"],
  ];
  const start = performance.now();
  const child = new Deno.Command(o.qemu, {
    args,
    stdin: "null",
    stdout: "piped",
    stderr: "piped",
  }).spawn();
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    child.kill("SIGKILL");
  }, o.timeoutMs);
  const status = await child.output();
  clearTimeout(timer);
  const ms = Math.round(performance.now() - start);

  const read = (p: string) => {
    try {
      return Deno.readTextFileSync(p);
    } catch {
      return "";
    }
  };
  const results = new Map<string, GuestResult>();
  let release: string | undefined;
  let done = false;
  for (const raw of read(resultsLog).split("\n")) {
    const line = raw.replace(/\r$/, "");
    if (line.startsWith(`${MARKER}-start `)) {
      release = JSON.parse(line.slice(MARKER.length + 7)).release;
    } else if (line.startsWith(`${MARKER} `)) {
      const r = JSON.parse(line.slice(MARKER.length + 1)) as GuestResult;
      results.set(r.name, r);
    } else if (line === `${MARKER}-done`) done = true;
  }
  const qemuErr = new TextDecoder().decode(status.stderr).trim();
  const consoleTail = [
    read(consoleLog).split("\n").slice(-25).join("\n"),
    qemuErr ? `qemu: ${qemuErr}` : "",
  ].join("\n").trim();
  return { release, results, done, timedOut, ms, consoleTail };
}
