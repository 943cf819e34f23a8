import type { CpuidEntry, KvmSegment, KvmSregs } from '@virtio/kvm';
import { describe, expect, it } from 'vitest';
import { APIC_LVT0, APIC_LVT1, bootMsrs, bootRegs, bootSregs, configureLapicLints, MSR } from '../src/vcpu/boot-state.js';
import { adjustCpuid } from '../src/vcpu/cpuid.js';

const entry = (fn: number, index = 0, regs: Partial<CpuidEntry> = {}): CpuidEntry => ({ function: fn, index, flags: 0, eax: 0, ebx: 0, ecx: 0, edx: 0, ...regs });
const supported = [entry(1, 0, { ebx: 0xff00_0800, ecx: 0x1, edx: 0x1000_0001 }), entry(0xb, 0), entry(0xb, 1), entry(0xb, 2), entry(0x4000_0000, 0, { ebx: 0x4b4d564b }), entry(0x8000_001e)];

describe('CPUID', () => {
  it('sets the APIC ID, the logical count, HTT and the hypervisor bit in leaf 1', () => {
    const l1 = adjustCpuid(supported, 3, 4).find((e) => e.function === 1)!;
    expect(l1.ebx >>> 24).toBe(3);
    expect((l1.ebx >>> 16) & 0xff).toBe(4);
    expect(l1.ebx & 0xffff).toBe(0x0800);
    expect(l1.ecx >>> 31).toBe(1);
    expect((l1.edx >>> 28) & 1).toBe(1);
    const single = adjustCpuid(supported, 0, 1).find((e) => e.function === 1)!;
    expect((single.edx >>> 28) & 1).toBe(0);
  });

  it('describes the topology in leaf 0xB with the x2APIC ID in EDX', () => {
    const b = adjustCpuid(supported, 2, 3).filter((e) => e.function === 0xb);
    expect(b.map((e) => [e.eax, e.ebx, e.ecx, e.edx])).toEqual([
      [0, 1, 0x100, 2],
      [2, 3, 0x201, 2],
      [0, 0, 2, 2],
    ]);
  });

  it('keeps the KVM signature leaf and does not modify its input', () => {
    const out = adjustCpuid(supported, 1, 2);
    expect(out.find((e) => e.function === 0x4000_0000)?.ebx).toBe(0x4b4d564b);
    expect(out.find((e) => e.function === 0x8000_001e)?.eax).toBe(1);
    expect(supported[0].ebx).toBe(0xff00_0800);
  });
});

describe('boot registers', () => {
  const boot = { entry: 0x100200, bootParamsAddr: 0x7000, pml4Addr: 0x9000, gdtAddr: 0x500, gdtLimit: 39 };
  const seg: KvmSegment = { base: 0n, limit: 0xffff, selector: 0, type: 3, present: 1, dpl: 0, db: 0, s: 1, l: 0, g: 0, avl: 0, unusable: 0 };
  const reset: KvmSregs = { cs: seg, ds: seg, es: seg, fs: seg, gs: seg, ss: seg, tr: seg, ldt: seg, gdt: { base: 0n, limit: 0xffff }, idt: { base: 0n, limit: 0xffff }, cr0: 0x60000010n, cr2: 0n, cr3: 0n, cr4: 0n, cr8: 0n, efer: 0n, apicBase: 0xfee00900n, interruptBitmap: [0n, 0n, 0n, 0n] };

  it('enters long mode with paging at the identity tables and 64-bit __BOOT_CS', () => {
    const s = bootSregs(reset, boot);
    expect(s.cr0 & 0x80000001n).toBe(0x80000001n);
    expect(s.cr4 & 0x20n).toBe(0x20n);
    expect(s.efer).toBe(0x500n);
    expect(s.cr3).toBe(0x9000n);
    expect(s.cs).toMatchObject({ selector: 0x10, l: 1, db: 0, present: 1, base: 0n });
    expect(s.ss).toMatchObject({ selector: 0x18, present: 1 });
    expect(s.gdt).toEqual({ base: 0x500n, limit: 39 });
    expect(s.apicBase).toBe(0xfee00900n);
  });

  it('starts at the 64-bit entry with RSI pointing at boot_params', () => {
    const r = bootRegs(boot);
    expect([r.rip, r.rsi, r.rflags]).toEqual([0x100200n, 0x7000n, 2n]);
  });

  it('enables fast strings and write-back MTRRs', () => {
    const m = new Map(bootMsrs().map((e) => [e.index, e.data]));
    expect(m.get(MSR.IA32_MISC_ENABLE)).toBe(1n);
    expect(m.get(MSR.MTRR_DEF_TYPE)).toBe(0x806n);
  });

  it('wires LINT0 to ExtINT and LINT1 to NMI', () => {
    const page = new Uint8Array(1024);
    const dv = new DataView(page.buffer);
    dv.setUint32(APIC_LVT0, 0x10000 | 0x200, true);
    configureLapicLints(page);
    expect(dv.getUint32(APIC_LVT0, true)).toBe(0x10700);
    expect(dv.getUint32(APIC_LVT1, true)).toBe(0x400);
  });
});
