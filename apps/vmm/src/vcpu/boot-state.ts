import type { KvmFpu, KvmRegs, KvmSegment, KvmSregs, MsrEntry } from '@virtio/kvm';
import { BOOT_CS, BOOT_DS, BOOT_TSS, segmentFromGdt } from '../boot/gdt.js';
import { BOOT_STACK_ADDR } from '../boot/layout.js';

export const CR0_PE = 0x1n;
export const CR0_ET = 0x10n;
export const CR0_PG = 0x8000_0000n;
export const CR4_PAE = 0x20n;
export const EFER_LME = 0x100n;
export const EFER_LMA = 0x400n;

/** Where the BSP starts: all guest-physical addresses (identity mapped). */
export interface BootEntry {
  readonly entry: number;
  readonly bootParamsAddr: number;
  readonly pml4Addr: number;
  readonly gdtAddr: number;
  readonly gdtLimit: number;
}

function segment(gdtIndex: number): KvmSegment {
  const s = segmentFromGdt(gdtIndex);
  return { ...s, base: BigInt(s.base), unusable: 0 };
}

/**
 * The BSP's special registers for the 64-bit boot protocol: long mode (CR0.PE|PG, CR4.PAE,
 * EFER.LME|LMA), CR3 at the identity page tables, CS = __BOOT_CS (0x10, 64-bit), data
 * segments = __BOOT_DS (0x18), TR a busy TSS, the boot GDT and an empty IDT. `current` is
 * KVM_GET_SREGS's answer (apic_base and the interrupt bitmap are kept).
 */
export function bootSregs(current: KvmSregs, boot: BootEntry): KvmSregs {
  const data = segment(BOOT_DS / 8);
  return {
    ...current,
    cs: segment(BOOT_CS / 8),
    ds: data,
    es: data,
    fs: data,
    gs: data,
    ss: data,
    tr: segment(BOOT_TSS / 8),
    gdt: { base: BigInt(boot.gdtAddr), limit: boot.gdtLimit },
    idt: { base: 0n, limit: 0 },
    cr0: CR0_PE | CR0_ET | CR0_PG,
    cr3: BigInt(boot.pml4Addr),
    cr4: CR4_PAE,
    efer: EFER_LME | EFER_LMA,
  };
}

/** The BSP's general registers: RIP = 64-bit entry, RSI = boot_params, RFLAGS = 2 (reserved bit). */
export function bootRegs(boot: BootEntry): KvmRegs {
  const z = 0n;
  return {
    rax: z, rbx: z, rcx: z, rdx: z, rdi: z, r8: z, r9: z, r10: z, r11: z, r12: z, r13: z, r14: z, r15: z,
    rsi: BigInt(boot.bootParamsAddr),
    rsp: BigInt(BOOT_STACK_ADDR),
    rbp: BigInt(BOOT_STACK_ADDR),
    rip: BigInt(boot.entry),
    rflags: 2n,
  };
}

/** x87 control word 0x37F and MXCSR 0x1F80 (the reset values the kernel expects). */
export function bootFpu(current: KvmFpu): KvmFpu {
  return { ...current, fcw: 0x37f, mxcsr: 0x1f80 };
}

/** MSR indices set at boot. */
export const MSR = {
  IA32_TSC: 0x10,
  IA32_SYSENTER_CS: 0x174,
  IA32_SYSENTER_ESP: 0x175,
  IA32_SYSENTER_EIP: 0x176,
  IA32_MISC_ENABLE: 0x1a0,
  MTRR_DEF_TYPE: 0x2ff,
  STAR: 0xc0000081,
  LSTAR: 0xc0000082,
  CSTAR: 0xc0000083,
  SYSCALL_MASK: 0xc0000084,
  KERNEL_GS_BASE: 0xc0000102,
} as const;

/**
 * Initial MSRs for every vCPU: SYSENTER/SYSCALL MSRs and TSC zero, IA32_MISC_ENABLE with
 * fast strings, MTRRs enabled with write-back as the default memory type.
 */
export function bootMsrs(): MsrEntry[] {
  return [
    { index: MSR.IA32_SYSENTER_CS, data: 0n },
    { index: MSR.IA32_SYSENTER_ESP, data: 0n },
    { index: MSR.IA32_SYSENTER_EIP, data: 0n },
    { index: MSR.STAR, data: 0n },
    { index: MSR.LSTAR, data: 0n },
    { index: MSR.CSTAR, data: 0n },
    { index: MSR.SYSCALL_MASK, data: 0n },
    { index: MSR.KERNEL_GS_BASE, data: 0n },
    { index: MSR.IA32_TSC, data: 0n },
    { index: MSR.IA32_MISC_ENABLE, data: 1n },
    { index: MSR.MTRR_DEF_TYPE, data: (1n << 11n) | 6n },
  ];
}

/** Local APIC register offsets of LINT0 and LINT1, and their delivery modes. */
export const APIC_LVT0 = 0x350;
export const APIC_LVT1 = 0x360;
const DELIVERY_EXTINT = 7 << 8;
const DELIVERY_NMI = 4 << 8;

/**
 * Wires the local APIC's LINT0 to ExtINT (the 8259 PIC) and LINT1 to NMI, as a PC's firmware
 * does; `lapic` is KVM_GET_LAPIC's 1024-byte page, modified in place and returned.
 */
export function configureLapicLints(lapic: Uint8Array): Uint8Array {
  const dv = new DataView(lapic.buffer, lapic.byteOffset, lapic.byteLength);
  dv.setUint32(APIC_LVT0, (dv.getUint32(APIC_LVT0, true) & ~0x700) | DELIVERY_EXTINT, true);
  dv.setUint32(APIC_LVT1, (dv.getUint32(APIC_LVT1, true) & ~0x700) | DELIVERY_NMI, true);
  return lapic;
}
