// Struct layouts of the KVM ABI (x86-64, include/uapi/linux/kvm.h and asm/kvm.h), defined once.
// Each layout maps a C member designator (as accepted by offsetof) to its byte offset; the
// layout test compiles these same tables against the installed kernel headers.

/** A C struct's size in bytes (null: varies between kernel versions) and member offsets in bytes. */
export interface StructLayout {
  readonly size: number | null;
  readonly fields: Readonly<Record<string, number>>;
}

const segment = (base: number, name: string): Record<string, number> => ({
  [`${name}.base`]: base,
  [`${name}.limit`]: base + 8,
  [`${name}.selector`]: base + 12,
  [`${name}.type`]: base + 14,
  [`${name}.present`]: base + 15,
  [`${name}.dpl`]: base + 16,
  [`${name}.db`]: base + 17,
  [`${name}.s`]: base + 18,
  [`${name}.l`]: base + 19,
  [`${name}.g`]: base + 20,
  [`${name}.avl`]: base + 21,
  [`${name}.unusable`]: base + 22,
});

/** Every layout this package encodes, keyed by C struct name. */
export const LAYOUTS = {
  kvm_run: {
    size: null,
    fields: {
      request_interrupt_window: 0,
      immediate_exit: 1,
      exit_reason: 8,
      ready_for_interrupt_injection: 12,
      if_flag: 13,
      flags: 14,
      cr8: 16,
      apic_base: 24,
      'hw.hardware_exit_reason': 32,
      'fail_entry.hardware_entry_failure_reason': 32,
      'fail_entry.cpu': 40,
      'ex.exception': 32,
      'ex.error_code': 36,
      'io.direction': 32,
      'io.size': 33,
      'io.port': 34,
      'io.count': 36,
      'io.data_offset': 40,
      'mmio.phys_addr': 32,
      'mmio.data': 40,
      'mmio.len': 48,
      'mmio.is_write': 52,
      'internal.suberror': 32,
      'internal.ndata': 36,
      'internal.data': 40,
      'system_event.type': 32,
      'system_event.ndata': 36,
      'system_event.data': 40,
    },
  },
  kvm_userspace_memory_region: {
    size: 32,
    fields: { slot: 0, flags: 4, guest_phys_addr: 8, memory_size: 16, userspace_addr: 24 },
  },
  kvm_regs: {
    size: 144,
    fields: {
      rax: 0, rbx: 8, rcx: 16, rdx: 24, rsi: 32, rdi: 40, rsp: 48, rbp: 56,
      r8: 64, r9: 72, r10: 80, r11: 88, r12: 96, r13: 104, r14: 112, r15: 120,
      rip: 128, rflags: 136,
    },
  },
  kvm_sregs: {
    size: 312,
    fields: {
      ...segment(0, 'cs'), ...segment(24, 'ds'), ...segment(48, 'es'), ...segment(72, 'fs'),
      ...segment(96, 'gs'), ...segment(120, 'ss'), ...segment(144, 'tr'), ...segment(168, 'ldt'),
      'gdt.base': 192, 'gdt.limit': 200, 'idt.base': 208, 'idt.limit': 216,
      cr0: 224, cr2: 232, cr3: 240, cr4: 248, cr8: 256, efer: 264, apic_base: 272, interrupt_bitmap: 280,
    },
  },
  kvm_fpu: {
    size: 416,
    fields: { fpr: 0, fcw: 128, fsw: 130, ftwx: 132, last_opcode: 134, last_ip: 136, last_dp: 144, xmm: 152, mxcsr: 408 },
  },
  kvm_msrs: { size: 8, fields: { nmsrs: 0, entries: 8 } },
  kvm_msr_entry: { size: 16, fields: { index: 0, data: 8 } },
  kvm_cpuid2: { size: 8, fields: { nent: 0, entries: 8 } },
  kvm_cpuid_entry2: { size: 40, fields: { function: 0, index: 4, flags: 8, eax: 12, ebx: 16, ecx: 20, edx: 24 } },
  kvm_lapic_state: { size: 1024, fields: { regs: 0 } },
  kvm_mp_state: { size: 4, fields: { mp_state: 0 } },
  kvm_irq_level: { size: 8, fields: { irq: 0, level: 4 } },
  kvm_irqfd: { size: 32, fields: { fd: 0, gsi: 4, flags: 8, resamplefd: 12 } },
  kvm_ioeventfd: { size: 64, fields: { datamatch: 0, addr: 8, len: 16, fd: 20, flags: 24 } },
  kvm_msi: { size: 32, fields: { address_lo: 0, address_hi: 4, data: 8, flags: 12, devid: 16 } },
  kvm_irq_routing: { size: 8, fields: { nr: 0, flags: 4, entries: 8 } },
  kvm_irq_routing_entry: {
    size: 48,
    fields: {
      gsi: 0, type: 4, flags: 8,
      'u.irqchip.irqchip': 16, 'u.irqchip.pin': 20,
      'u.msi.address_lo': 16, 'u.msi.address_hi': 20, 'u.msi.data': 24, 'u.msi.devid': 28,
    },
  },
  kvm_pit_config: { size: 64, fields: { flags: 0 } },
  kvm_enable_cap: { size: 104, fields: { cap: 0, flags: 4, args: 8 } },
  // libc (glibc, x86-64) structs used by the signal and poll helpers.
  sigaction: { size: 152, fields: { sa_handler: 0, sa_mask: 8, sa_flags: 136, sa_restorer: 144 } },
  pollfd: { size: 8, fields: { fd: 0, events: 4, revents: 6 } },
} as const satisfies Record<string, StructLayout>;

type Layouts = typeof LAYOUTS;

/** sizeof of each fixed-size layout, in bytes. */
export const SIZES = Object.fromEntries(Object.entries(LAYOUTS).map(([k, v]) => [k, v.size ?? 0])) as {
  readonly [K in keyof Layouts]: number;
};

/** The offset of a member, typed so a misspelt member name fails to compile. */
export function offsetOf<S extends keyof Layouts>(struct: S, member: keyof Layouts[S]['fields']): number {
  return (LAYOUTS[struct].fields as Record<PropertyKey, number>)[member];
}

/** Reads a little-endian u64 as a bigint. */
export function getU64(dv: DataView, offset: number): bigint {
  return dv.getBigUint64(offset, true);
}

/** Writes a bigint or non-negative safe integer as a little-endian u64. */
export function setU64(dv: DataView, offset: number, value: bigint | number): void {
  dv.setBigUint64(offset, BigInt.asUintN(64, BigInt(value)), true);
}
