// KVM ABI numbers: ioctl requests, capabilities, exit reasons (include/uapi/linux/kvm.h, x86-64).
import { SIZES } from './structs.js';

const KVMIO = 0xae;
const ioc = (dir: number, nr: number, size: number): number => ((dir << 30) | (size << 16) | (KVMIO << 8) | nr) >>> 0;
const io = (nr: number): number => ioc(0, nr, 0);
const iow = (nr: number, size: number): number => ioc(1, nr, size);
const ior = (nr: number, size: number): number => ioc(2, nr, size);
const iowr = (nr: number, size: number): number => ioc(3, nr, size);

/** ioctl request numbers, named as in linux/kvm.h without the `KVM_` prefix. */
export const IOCTL = {
  GET_API_VERSION: io(0x00),
  CREATE_VM: io(0x01),
  CHECK_EXTENSION: io(0x03),
  GET_VCPU_MMAP_SIZE: io(0x04),
  GET_SUPPORTED_CPUID: iowr(0x05, SIZES.kvm_cpuid2),
  CREATE_VCPU: io(0x41),
  SET_USER_MEMORY_REGION: iow(0x46, SIZES.kvm_userspace_memory_region),
  SET_TSS_ADDR: io(0x47),
  SET_IDENTITY_MAP_ADDR: iow(0x48, 8),
  CREATE_IRQCHIP: io(0x60),
  IRQ_LINE: iow(0x61, SIZES.kvm_irq_level),
  SET_GSI_ROUTING: iow(0x6a, SIZES.kvm_irq_routing),
  IRQFD: iow(0x76, SIZES.kvm_irqfd),
  CREATE_PIT2: iow(0x77, SIZES.kvm_pit_config),
  IOEVENTFD: iow(0x79, SIZES.kvm_ioeventfd),
  ENABLE_CAP: iow(0xa3, SIZES.kvm_enable_cap),
  SIGNAL_MSI: iow(0xa5, SIZES.kvm_msi),
  RUN: io(0x80),
  GET_REGS: ior(0x81, SIZES.kvm_regs),
  SET_REGS: iow(0x82, SIZES.kvm_regs),
  GET_SREGS: ior(0x83, SIZES.kvm_sregs),
  SET_SREGS: iow(0x84, SIZES.kvm_sregs),
  GET_MSRS: iowr(0x88, SIZES.kvm_msrs),
  SET_MSRS: iow(0x89, SIZES.kvm_msrs),
  GET_FPU: ior(0x8c, SIZES.kvm_fpu),
  SET_FPU: iow(0x8d, SIZES.kvm_fpu),
  GET_LAPIC: ior(0x8e, SIZES.kvm_lapic_state),
  SET_LAPIC: iow(0x8f, SIZES.kvm_lapic_state),
  SET_CPUID2: iow(0x90, SIZES.kvm_cpuid2),
  GET_MP_STATE: ior(0x98, SIZES.kvm_mp_state),
  SET_MP_STATE: iow(0x99, SIZES.kvm_mp_state),
} as const;

/** The KVM API version this package speaks (KVM_GET_API_VERSION must return it). */
export const KVM_API_VERSION = 12;

/** Capability numbers for {@link Kvm.checkExtension} (`KVM_CAP_*`). */
export const Cap = {
  IRQCHIP: 0,
  HLT: 1,
  USER_MEMORY: 3,
  SET_TSS_ADDR: 4,
  EXT_CPUID: 7,
  NR_VCPUS: 9,
  NR_MEMSLOTS: 10,
  MP_STATE: 14,
  IRQ_ROUTING: 25,
  MAX_VCPUS: 66,
  IRQFD: 32,
  PIT2: 33,
  IOEVENTFD: 36,
  SET_IDENTITY_MAP_ADDR: 37,
  SIGNAL_MSI: 77,
  IMMEDIATE_EXIT: 136,
} as const;

/** Capabilities {@link Kvm.open} requires; opening fails with a KvmError naming the first missing one. */
export const REQUIRED_CAPS = ['USER_MEMORY', 'IRQCHIP', 'IOEVENTFD', 'IRQFD', 'SIGNAL_MSI', 'IMMEDIATE_EXIT'] as const;

/** kvm_run.exit_reason values (`KVM_EXIT_*`), plus INTERRUPTED for a KVM_RUN that returned EINTR. */
export const ExitReason = {
  /** Not a kernel value: KVM_RUN returned EINTR (a kick() or another signal). */
  INTERRUPTED: -1,
  UNKNOWN: 0,
  EXCEPTION: 1,
  IO: 2,
  HYPERCALL: 3,
  DEBUG: 4,
  HLT: 5,
  MMIO: 6,
  IRQ_WINDOW_OPEN: 7,
  SHUTDOWN: 8,
  FAIL_ENTRY: 9,
  INTR: 10,
  SET_TPR: 11,
  TPR_ACCESS: 12,
  NMI: 16,
  INTERNAL_ERROR: 17,
  SYSTEM_EVENT: 24,
} as const;

/** kvm_run.system_event.type values (`KVM_SYSTEM_EVENT_*`). */
export const SystemEvent = { SHUTDOWN: 1, RESET: 2, CRASH: 3, WAKEUP: 4, SUSPEND: 5, SEV_TERM: 6 } as const;

/** kvm_mp_state values (`KVM_MP_STATE_*`). */
export const MpState = { RUNNABLE: 0, UNINITIALIZED: 1, INIT_RECEIVED: 2, HALTED: 3, SIPI_RECEIVED: 4 } as const;

/** Flags of {@link Vm.setUserMemoryRegion} (`KVM_MEM_*`). */
export const MemFlags = { LOG_DIRTY_PAGES: 1, READONLY: 2 } as const;

export const IOEVENTFD_FLAG_DATAMATCH = 1;
export const IOEVENTFD_FLAG_PIO = 2;
export const IOEVENTFD_FLAG_DEASSIGN = 4;
export const IRQFD_FLAG_DEASSIGN = 1;
export const IRQFD_FLAG_RESAMPLE = 2;
export const IRQ_ROUTING_IRQCHIP = 1;
export const IRQ_ROUTING_MSI = 2;
export const PIT_SPEAKER_DUMMY = 1;
