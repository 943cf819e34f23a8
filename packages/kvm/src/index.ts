// Public exports of @virtio/kvm: Linux KVM bindings for Node through koffi.
export { KvmError, errnoName } from './errors.js';
export { Cap, ExitReason, IOCTL, KVM_API_VERSION, MemFlags, MpState, REQUIRED_CAPS, SystemEvent } from './abi.js';
export { LAYOUTS, type StructLayout } from './structs.js';
export { Kvm } from './kvm.js';
export { Vm, type GsiRoute, type IoEventFdBinding, type IrqFdBinding, type MemoryRegion, type Msi } from './vm.js';
export { Vcpu } from './vcpu.js';
export { IoExit, MmioExit, VcpuExit, type ExitKind } from './exit.js';
export type { CpuidEntry, KvmDtable, KvmFpu, KvmRegs, KvmSegment, KvmSregs, MsrEntry } from './registers.js';
export { GUEST_RAM_CHUNK, GuestRam, allocateGuestRam } from './memory.js';
export { EventFd, Poller, poll, type EventFdOptions } from './eventfd.js';
export { KICK_SIGNAL, currentThread, installKickHandler, kick } from './signals.js';
export { describeKvmBackend, kvmBackend, type KvmBackend } from './backend.js';
