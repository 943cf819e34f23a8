// x86-64 register state as KVM exchanges it (kvm_regs, kvm_sregs, kvm_fpu, MSRs, CPUID, LAPIC).
import { offsetOf, getU64, setU64, LAYOUTS } from '../abi/structs.js';

/** General-purpose registers (struct kvm_regs). Values are 64-bit, as bigint. */
export interface KvmRegs {
  rax: bigint; rbx: bigint; rcx: bigint; rdx: bigint; rsi: bigint; rdi: bigint; rsp: bigint; rbp: bigint;
  r8: bigint; r9: bigint; r10: bigint; r11: bigint; r12: bigint; r13: bigint; r14: bigint; r15: bigint;
  rip: bigint; rflags: bigint;
}

/** A segment register's hidden state (struct kvm_segment). `base` is a guest linear address. */
export interface KvmSegment {
  base: bigint;
  /** Limit in bytes (already scaled by granularity). */
  limit: number;
  selector: number;
  type: number;
  present: number; dpl: number; db: number; s: number; l: number; g: number; avl: number; unusable: number;
}

/** A descriptor table register (struct kvm_dtable): linear base address, limit in bytes. */
export interface KvmDtable { base: bigint; limit: number }

/** Special registers (struct kvm_sregs). */
export interface KvmSregs {
  cs: KvmSegment; ds: KvmSegment; es: KvmSegment; fs: KvmSegment; gs: KvmSegment; ss: KvmSegment;
  tr: KvmSegment; ldt: KvmSegment;
  gdt: KvmDtable; idt: KvmDtable;
  cr0: bigint; cr2: bigint; cr3: bigint; cr4: bigint; cr8: bigint; efer: bigint; apicBase: bigint;
  /** Pending external interrupts, 256 bits as four u64 words. */
  interruptBitmap: bigint[];
}

/** x87/SSE state (struct kvm_fpu). */
export interface KvmFpu {
  /** Eight 16-byte x87 registers (128 bytes). */
  fpr: Uint8Array;
  fcw: number; fsw: number; ftwx: number; lastOpcode: number; lastIp: bigint; lastDp: bigint;
  /** Sixteen 16-byte XMM registers (256 bytes). */
  xmm: Uint8Array;
  mxcsr: number;
}

/** One model-specific register (struct kvm_msr_entry). */
export interface MsrEntry { index: number; data: bigint }

/** One CPUID leaf (struct kvm_cpuid_entry2). */
export interface CpuidEntry {
  function: number; index: number; flags: number; eax: number; ebx: number; ecx: number; edx: number;
}

const REGS = Object.keys(LAYOUTS.kvm_regs.fields) as (keyof typeof LAYOUTS.kvm_regs.fields)[];

export function decodeRegs(dv: DataView): KvmRegs {
  const regs = {} as Record<string, bigint>;
  for (const name of REGS) regs[name] = getU64(dv, offsetOf('kvm_regs', name));
  return regs as unknown as KvmRegs;
}

export function encodeRegs(dv: DataView, regs: KvmRegs): void {
  for (const name of REGS) setU64(dv, offsetOf('kvm_regs', name), regs[name]);
}

const SEGMENTS = ['cs', 'ds', 'es', 'fs', 'gs', 'ss', 'tr', 'ldt'] as const;
const SEGMENT_BYTES = ['type', 'present', 'dpl', 'db', 's', 'l', 'g', 'avl', 'unusable'] as const;
type SregsField = keyof typeof LAYOUTS.kvm_sregs.fields;
const sreg = (name: string): number => offsetOf('kvm_sregs', name as SregsField);

function decodeSegment(dv: DataView, name: string): KvmSegment {
  const segment = {
    base: getU64(dv, sreg(`${name}.base`)),
    limit: dv.getUint32(sreg(`${name}.limit`), true),
    selector: dv.getUint16(sreg(`${name}.selector`), true),
  } as KvmSegment;
  for (const field of SEGMENT_BYTES) segment[field] = dv.getUint8(sreg(`${name}.${field}`));
  return segment;
}

function encodeSegment(dv: DataView, name: string, segment: KvmSegment): void {
  setU64(dv, sreg(`${name}.base`), segment.base);
  dv.setUint32(sreg(`${name}.limit`), segment.limit >>> 0, true);
  dv.setUint16(sreg(`${name}.selector`), segment.selector & 0xffff, true);
  for (const field of SEGMENT_BYTES) dv.setUint8(sreg(`${name}.${field}`), segment[field] & 0xff);
}

const CONTROL = { cr0: 'cr0', cr2: 'cr2', cr3: 'cr3', cr4: 'cr4', cr8: 'cr8', efer: 'efer', apicBase: 'apic_base' } as const;

export function decodeSregs(dv: DataView): KvmSregs {
  const sregs = {} as KvmSregs;
  for (const name of SEGMENTS) sregs[name] = decodeSegment(dv, name);
  for (const table of ['gdt', 'idt'] as const) {
    sregs[table] = { base: getU64(dv, sreg(`${table}.base`)), limit: dv.getUint16(sreg(`${table}.limit`), true) };
  }
  for (const [key, field] of Object.entries(CONTROL)) sregs[key as keyof typeof CONTROL] = getU64(dv, sreg(field));
  const bitmap = sreg('interrupt_bitmap');
  sregs.interruptBitmap = [0, 1, 2, 3].map((i) => getU64(dv, bitmap + 8 * i));
  return sregs;
}

export function encodeSregs(dv: DataView, sregs: KvmSregs): void {
  for (const name of SEGMENTS) encodeSegment(dv, name, sregs[name]);
  for (const table of ['gdt', 'idt'] as const) {
    setU64(dv, sreg(`${table}.base`), sregs[table].base);
    dv.setUint16(sreg(`${table}.limit`), sregs[table].limit & 0xffff, true);
  }
  for (const [key, field] of Object.entries(CONTROL)) setU64(dv, sreg(field), sregs[key as keyof typeof CONTROL]);
  const bitmap = sreg('interrupt_bitmap');
  for (let i = 0; i < 4; i++) setU64(dv, bitmap + 8 * i, sregs.interruptBitmap[i] ?? 0n);
}

export function decodeFpu(bytes: Uint8Array, dv: DataView): KvmFpu {
  const fpr = offsetOf('kvm_fpu', 'fpr');
  const xmm = offsetOf('kvm_fpu', 'xmm');
  return {
    fpr: bytes.slice(fpr, fpr + 128),
    fcw: dv.getUint16(offsetOf('kvm_fpu', 'fcw'), true),
    fsw: dv.getUint16(offsetOf('kvm_fpu', 'fsw'), true),
    ftwx: dv.getUint8(offsetOf('kvm_fpu', 'ftwx')),
    lastOpcode: dv.getUint16(offsetOf('kvm_fpu', 'last_opcode'), true),
    lastIp: getU64(dv, offsetOf('kvm_fpu', 'last_ip')),
    lastDp: getU64(dv, offsetOf('kvm_fpu', 'last_dp')),
    xmm: bytes.slice(xmm, xmm + 256),
    mxcsr: dv.getUint32(offsetOf('kvm_fpu', 'mxcsr'), true),
  };
}

export function encodeFpu(bytes: Uint8Array, dv: DataView, fpu: KvmFpu): void {
  bytes.fill(0, 0, LAYOUTS.kvm_fpu.size);
  bytes.set(fpu.fpr.subarray(0, 128), offsetOf('kvm_fpu', 'fpr'));
  dv.setUint16(offsetOf('kvm_fpu', 'fcw'), fpu.fcw, true);
  dv.setUint16(offsetOf('kvm_fpu', 'fsw'), fpu.fsw, true);
  dv.setUint8(offsetOf('kvm_fpu', 'ftwx'), fpu.ftwx);
  dv.setUint16(offsetOf('kvm_fpu', 'last_opcode'), fpu.lastOpcode, true);
  setU64(dv, offsetOf('kvm_fpu', 'last_ip'), fpu.lastIp);
  setU64(dv, offsetOf('kvm_fpu', 'last_dp'), fpu.lastDp);
  bytes.set(fpu.xmm.subarray(0, 256), offsetOf('kvm_fpu', 'xmm'));
  dv.setUint32(offsetOf('kvm_fpu', 'mxcsr'), fpu.mxcsr >>> 0, true);
}

/** Builds a kvm_cpuid2 buffer holding `entries` (or room for `entries` when a number). */
export function encodeCpuid(entries: readonly CpuidEntry[] | number): Uint8Array {
  const count = typeof entries === 'number' ? entries : entries.length;
  const esize = LAYOUTS.kvm_cpuid_entry2.size;
  const bytes = new Uint8Array(LAYOUTS.kvm_cpuid2.size + count * esize);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(offsetOf('kvm_cpuid2', 'nent'), count, true);
  if (typeof entries !== 'number') {
    entries.forEach((entry, i) => {
      const base = offsetOf('kvm_cpuid2', 'entries') + i * esize;
      for (const field of CPUID_FIELDS) dv.setUint32(base + offsetOf('kvm_cpuid_entry2', field), entry[field] >>> 0, true);
    });
  }
  return bytes;
}

const CPUID_FIELDS = ['function', 'index', 'flags', 'eax', 'ebx', 'ecx', 'edx'] as const;

/** Reads the entries of a kvm_cpuid2 buffer (nent as the kernel left it). */
export function decodeCpuid(bytes: Uint8Array): CpuidEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const esize = LAYOUTS.kvm_cpuid_entry2.size;
  const max = Math.floor((bytes.byteLength - LAYOUTS.kvm_cpuid2.size) / esize);
  const count = Math.min(dv.getUint32(offsetOf('kvm_cpuid2', 'nent'), true), max);
  const entries: CpuidEntry[] = [];
  for (let i = 0; i < count; i++) {
    const base = offsetOf('kvm_cpuid2', 'entries') + i * esize;
    const entry = {} as CpuidEntry;
    for (const field of CPUID_FIELDS) entry[field] = dv.getUint32(base + offsetOf('kvm_cpuid_entry2', field), true);
    entries.push(entry);
  }
  return entries;
}

/** Builds a kvm_msrs buffer for `entries` (data ignored for KVM_GET_MSRS). */
export function encodeMsrs(entries: readonly MsrEntry[]): Uint8Array {
  const esize = LAYOUTS.kvm_msr_entry.size;
  const bytes = new Uint8Array(LAYOUTS.kvm_msrs.size + entries.length * esize);
  const dv = new DataView(bytes.buffer);
  dv.setUint32(offsetOf('kvm_msrs', 'nmsrs'), entries.length, true);
  entries.forEach((entry, i) => {
    const base = offsetOf('kvm_msrs', 'entries') + i * esize;
    dv.setUint32(base + offsetOf('kvm_msr_entry', 'index'), entry.index >>> 0, true);
    setU64(dv, base + offsetOf('kvm_msr_entry', 'data'), entry.data);
  });
  return bytes;
}

/** Reads the first `count` entries of a kvm_msrs buffer. */
export function decodeMsrs(bytes: Uint8Array, count: number): MsrEntry[] {
  const dv = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  const esize = LAYOUTS.kvm_msr_entry.size;
  const entries: MsrEntry[] = [];
  for (let i = 0; i < count; i++) {
    const base = offsetOf('kvm_msrs', 'entries') + i * esize;
    entries.push({
      index: dv.getUint32(base + offsetOf('kvm_msr_entry', 'index'), true),
      data: getU64(dv, base + offsetOf('kvm_msr_entry', 'data')),
    });
  }
  return entries;
}
