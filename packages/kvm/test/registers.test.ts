// Register state round trips through KVM, and guests that observe it.
import { afterEach, expect, it } from 'vitest';
import { Cap, MpState } from '../src/index.js';
import { asm, describeKvm, realModeGuest, REPORT_PORT, type Guest } from './helpers/guest.js';

let guest: Guest | null = null;
afterEach(() => {
  guest?.close();
  guest = null;
});

const MSR_IA32_SYSENTER_CS = 0x174;
const MSR_IA32_SYSENTER_ESP = 0x175;

describeKvm('vCPU registers', () => {
  it('round-trips all kvm_regs fields as 64-bit values', () => {
    guest = realModeGuest(asm.hlt);
    const regs = guest.vcpu.getRegs();
    const names = Object.keys(regs) as (keyof typeof regs)[];
    expect(names).toHaveLength(18);
    names.forEach((name, i) => {
      if (name !== 'rip' && name !== 'rflags') regs[name] = 0x1122_3344_5566_0000n + BigInt(i);
    });
    guest.vcpu.setRegs(regs);
    expect(guest.vcpu.getRegs()).toEqual(regs);
  });

  it('starts the guest with the registers set: al reaches the report port', () => {
    guest = realModeGuest([...asm.outImmAl(REPORT_PORT), ...asm.hlt]);
    guest.vcpu.setRegs({ ...guest.vcpu.getRegs(), rax: 0x41n });
    expect(guest.vcpu.run().io.value).toBe(0x41);
  });

  it('round-trips kvm_sregs and the guest sees a segment base set through it', () => {
    // mov al, [es:0x10] ; out 0x10, al ; hlt   (26 = ES segment override)
    guest = realModeGuest([0x26, ...asm.movAlMem(0x10), ...asm.outImmAl(REPORT_PORT), ...asm.hlt]);
    const sregs = guest.vcpu.getSregs();
    sregs.es.base = 0x5000n;
    sregs.es.selector = 0x500;
    sregs.cr2 = 0xdead_b000n;
    sregs.idt = { base: 0n, limit: 0x3ff };
    guest.vcpu.setSregs(sregs);
    expect(guest.vcpu.getSregs()).toEqual(sregs);
    guest.ram.bytes()[0x5010] = 0x3c;
    expect(guest.vcpu.run().io.value).toBe(0x3c);
  });

  // mxcsr is not checked: this host's KVM (kvm-pvm) reports 0 for it even from C.
  it('round-trips kvm_fpu', () => {
    guest = realModeGuest(asm.hlt);
    const fpu = guest.vcpu.getFpu();
    expect(fpu.fpr.byteLength).toBe(128);
    expect(fpu.xmm.byteLength).toBe(256);
    fpu.fcw = 0x27f;
    fpu.xmm[17] = 0xa5;
    guest.vcpu.setFpu(fpu);
    const back = guest.vcpu.getFpu();
    expect(back.fcw).toBe(0x27f);
    expect(back.xmm[17]).toBe(0xa5);
  });

  it('sets and reads MSRs', () => {
    guest = realModeGuest(asm.hlt);
    guest.vcpu.setMsrs([
      { index: MSR_IA32_SYSENTER_CS, data: 0x10n },
      { index: MSR_IA32_SYSENTER_ESP, data: 0xffff_8000_1234_5000n },
    ]);
    expect(guest.vcpu.getMsrs([MSR_IA32_SYSENTER_CS, MSR_IA32_SYSENTER_ESP])).toEqual([
      { index: MSR_IA32_SYSENTER_CS, data: 0x10n },
      { index: MSR_IA32_SYSENTER_ESP, data: 0xffff_8000_1234_5000n },
    ]);
  });

  it('reports the supported CPUID leaves and accepts them for the vCPU', () => {
    guest = realModeGuest(asm.hlt);
    const cpuid = guest.kvm.supportedCpuid();
    const leaf0 = cpuid.find((entry) => entry.function === 0);
    expect(leaf0).toBeDefined();
    expect(leaf0!.eax).toBeGreaterThan(0);
    guest.vcpu.setCpuid2(cpuid);
  });

  it('round-trips the local APIC page and the MP state with the in-kernel irqchip', () => {
    guest = realModeGuest(asm.hlt, { irqchip: true });
    expect(guest.vm.checkExtension(Cap.IRQCHIP)).toBeGreaterThan(0);
    const lapic = guest.vcpu.getLapic();
    expect(lapic.byteLength).toBe(1024);
    lapic[0x80] = 0x20; // task priority register
    guest.vcpu.setLapic(lapic);
    expect(guest.vcpu.getLapic()[0x80]).toBe(0x20);
    expect(() => guest!.vcpu.setLapic(new Uint8Array(16))).toThrow(RangeError);
    expect(guest.vcpu.getMpState()).toBe(MpState.RUNNABLE);
    guest.vcpu.setMpState(MpState.HALTED);
    expect(guest.vcpu.getMpState()).toBe(MpState.HALTED);
  });
});
