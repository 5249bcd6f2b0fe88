/**
 * Classic BPF for seccomp: instruction encoding and the constants the
 * filter uses. Pure; `seccomp/filter.ts` builds programs from these.
 *
 * @module
 */

/** One `struct sock_filter`. */
export interface Insn {
  code: number;
  jt: number;
  jf: number;
  k: number;
}

export const BPF_LD_W_ABS = 0x20;
export const BPF_JMP_JEQ_K = 0x15;
export const BPF_JMP_JGE_K = 0x35;
export const BPF_JMP_JA = 0x05;
export const BPF_JMP_JSET_K = 0x45;
export const BPF_ALU_AND_K = 0x54;
export const BPF_RET_K = 0x06;

/** Offsets in `struct seccomp_data`. */
export const DATA = {
  nr: 0,
  arch: 4,
  /** Low 32 bits of argument `i` (little-endian). */
  argLow: (i: number) => 16 + 8 * i,
  /** High 32 bits of argument `i`. */
  argHigh: (i: number) => 20 + 8 * i,
} as const;

export const SECCOMP_RET_KILL_PROCESS = 0x80000000;
export const SECCOMP_RET_ERRNO = 0x00050000;
export const SECCOMP_RET_USER_NOTIF = 0x7fc00000;
export const SECCOMP_RET_ALLOW = 0x7fff0000;

/** `AUDIT_ARCH_*` for the architectures landlockd supports. */
export const AUDIT_ARCH = {
  x86_64: 0xc000003e,
  aarch64: 0xc00000b7,
} as const;

/** On x86_64, numbers with this bit set are the x32 ABI. */
export const X32_SYSCALL_BIT = 0x40000000;

export const load = (offset: number): Insn => ({
  code: BPF_LD_W_ABS,
  jt: 0,
  jf: 0,
  k: offset,
});

export const ret = (k: number): Insn => ({ code: BPF_RET_K, jt: 0, jf: 0, k });

/** `if (A == k) skip jt else skip jf` (offsets count instructions). */
export const jeq = (k: number, jt: number, jf: number): Insn => ({
  code: BPF_JMP_JEQ_K,
  jt,
  jf,
  k: k >>> 0,
});

/** Unconditional jump over `k` instructions. */
export const ja = (k: number): Insn => ({ code: BPF_JMP_JA, jt: 0, jf: 0, k });

export const jge = (k: number, jt: number, jf: number): Insn => ({
  code: BPF_JMP_JGE_K,
  jt,
  jf,
  k: k >>> 0,
});

/** `if (A & k) skip jt else skip jf`. */
export const jset = (k: number, jt: number, jf: number): Insn => ({
  code: BPF_JMP_JSET_K,
  jt,
  jf,
  k: k >>> 0,
});

/** `A &= k`. */
export const and = (k: number): Insn => ({
  code: BPF_ALU_AND_K,
  jt: 0,
  jf: 0,
  k: k >>> 0,
});

/** Encodes instructions as the kernel reads them (8 bytes each, LE). */
export function encode(prog: readonly Insn[]): Uint8Array<ArrayBuffer> {
  const bytes = new Uint8Array(prog.length * 8);
  const view = new DataView(bytes.buffer);
  prog.forEach((insn, i) => {
    if (insn.jt > 255 || insn.jf > 255) {
      throw new RangeError(`BPF jump too far at instruction ${i}`);
    }
    view.setUint16(8 * i, insn.code, true);
    view.setUint8(8 * i + 2, insn.jt);
    view.setUint8(8 * i + 3, insn.jf);
    view.setUint32(8 * i + 4, insn.k >>> 0, true);
  });
  return bytes;
}

/** Runs a program on one `seccomp_data` (for tests): the return value. */
export function evaluate(
  prog: readonly Insn[],
  data: { nr: number; arch: number; args?: readonly bigint[] },
): number {
  const word = (offset: number): number => {
    if (offset === DATA.nr) return data.nr >>> 0;
    if (offset === DATA.arch) return data.arch >>> 0;
    const i = Math.floor((offset - 16) / 8);
    const arg = BigInt.asUintN(64, data.args?.[i] ?? 0n);
    return Number(offset % 8 === 0 ? arg & 0xffffffffn : arg >> 32n);
  };
  let a = 0;
  for (let pc = 0; pc < prog.length;) {
    const insn = prog[pc];
    switch (insn.code) {
      case BPF_LD_W_ABS:
        a = word(insn.k);
        pc++;
        break;
      case BPF_JMP_JEQ_K:
        pc += 1 + (a === insn.k ? insn.jt : insn.jf);
        break;
      case BPF_JMP_JGE_K:
        pc += 1 + (a >= insn.k ? insn.jt : insn.jf);
        break;
      case BPF_JMP_JSET_K:
        pc += 1 + ((a & insn.k) !== 0 ? insn.jt : insn.jf);
        break;
      case BPF_ALU_AND_K:
        a = (a & insn.k) >>> 0;
        pc++;
        break;
      case BPF_JMP_JA:
        pc += 1 + insn.k;
        break;
      case BPF_RET_K:
        return insn.k >>> 0;
      default:
        throw new Error(`unknown BPF code ${insn.code} at ${pc}`);
    }
  }
  throw new Error("BPF program fell off its end");
}
