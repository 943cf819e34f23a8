// Public exports of @virtio/kvm: Linux KVM bindings for Node through koffi.
export { KvmError, errnoName } from './sys/errors.js';
export { Cap, ExitReason, IOCTL, KVM_API_VERSION, MemFlags, MpState, REQUIRED_CAPS, SystemEvent } from './abi/numbers.js';
export { LAYOUTS, type StructLayout } from './abi/structs.js';
export { Kvm } from './vm/kvm.js';
export { Vm, type GsiRoute, type IoEventFdBinding, type IrqFdBinding, type MemoryRegion, type Msi } from './vm/vm.js';
export { Vcpu } from './vcpu/vcpu.js';
export { IoExit, MmioExit, VcpuExit, type ExitKind } from './vcpu/exit.js';
export type { CpuidEntry, KvmDtable, KvmFpu, KvmRegs, KvmSegment, KvmSregs, MsrEntry } from './vcpu/registers.js';
export { GUEST_RAM_CHUNK, GuestRam, allocateGuestRam } from './memory/guest-ram.js';
export { EventFd, Poller, poll, type EventFdOptions } from './sys/eventfd.js';
export { KICK_SIGNAL, currentThread, installKickHandler, kick } from './vcpu/kick.js';
export { describeKvmBackend, kvmBackend, type KvmBackend } from './vm/backend.js';
