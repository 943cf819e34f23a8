import type { CpuidEntry } from '@virtio/kvm';

const LEAF1_ECX_HYPERVISOR = 1 << 31;
const LEAF1_EDX_HTT = 1 << 28;

/**
 * Adjusts KVM_GET_SUPPORTED_CPUID's leaves for vCPU `apicId` of `cpus`: leaf 1 carries the
 * initial APIC ID (EBX[31:24]), the logical processor count (EBX[23:16]), HTT when cpus > 1
 * and the hypervisor bit (ECX[31]); leaves 0xB/0x1F describe one thread per core and `cpus`
 * cores per package with EDX = x2APIC ID; leaf 4 reports cpus - 1 cores per package;
 * 0x80000008 ECX[7:0] = cpus - 1 and 0x8000001E EAX = APIC ID (AMD). The KVM signature
 * leaves 0x40000000/1 pass through. Returns new objects; the input is not modified.
 */
export function adjustCpuid(supported: readonly CpuidEntry[], apicId: number, cpus: number): CpuidEntry[] {
  const coreBits = Math.ceil(Math.log2(Math.max(1, cpus)));
  return supported.map((src) => {
    const e = { ...src };
    switch (e.function) {
      case 1:
        e.ebx = ((e.ebx & 0xffff) | ((cpus & 0xff) << 16) | ((apicId & 0xff) << 24)) >>> 0;
        e.ecx = (e.ecx | LEAF1_ECX_HYPERVISOR) >>> 0;
        e.edx = (cpus > 1 ? e.edx | LEAF1_EDX_HTT : e.edx & ~LEAF1_EDX_HTT) >>> 0;
        break;
      case 4:
        e.eax = ((e.eax & 0x03ffffff) | (((cpus - 1) & 0x3f) << 26)) >>> 0;
        break;
      case 0xb:
      case 0x1f:
        e.edx = apicId;
        if (e.index === 0) {
          e.eax = 0;
          e.ebx = 1;
          e.ecx = (1 << 8) | 0;
        } else if (e.index === 1) {
          e.eax = coreBits;
          e.ebx = cpus;
          e.ecx = (2 << 8) | 1;
        } else {
          e.eax = 0;
          e.ebx = 0;
          e.ecx = e.index & 0xff;
        }
        break;
      case 0x80000008:
        e.ecx = ((e.ecx & ~0xf0ff) | ((cpus - 1) & 0xff) | (coreBits << 12)) >>> 0;
        break;
      case 0x8000001e:
        e.eax = apicId;
        e.ebx = (e.ebx & ~0xff) | (apicId & 0xff);
        e.ecx = 0;
        break;
    }
    return e;
  });
}
