// A VM fd: memory slots, in-kernel interrupt controllers, vCPU creation, ioeventfd, irqfd, MSI.
import {
  IOCTL, IOEVENTFD_FLAG_DATAMATCH, IOEVENTFD_FLAG_DEASSIGN, IOEVENTFD_FLAG_PIO, IRQ_ROUTING_IRQCHIP, IRQ_ROUTING_MSI,
  IRQFD_FLAG_DEASSIGN, IRQFD_FLAG_RESAMPLE,
} from '../abi/numbers.js';
import { LAYOUTS, offsetOf, setU64 } from '../abi/structs.js';
import { closeFd, ioctlBuffer, ioctlValue } from '../sys/calls.js';
import { Vcpu } from '../vcpu/vcpu.js';

/** A guest-physical range backed by host memory (struct kvm_userspace_memory_region). */
export interface MemoryRegion {
  /** Slot number; re-using a slot replaces it, size 0 deletes it. */
  slot: number;
  /** Guest-physical address of the first byte (page aligned). */
  guestPhysAddr: number | bigint;
  /** Size in bytes (multiple of 4096; 0 deletes the slot). */
  size: number | bigint;
  /** Host virtual address of the backing memory (e.g. {@link GuestRam.hostAddress} + offset). */
  hostAddress: bigint;
  /** MemFlags bits (LOG_DIRTY_PAGES, READONLY); default 0. */
  flags?: number;
}

/** An ioeventfd binding (struct kvm_ioeventfd): a guest write to addr signals fd without exiting. */
export interface IoEventFdBinding {
  /** Port number (pio) or guest-physical MMIO address. */
  addr: number | bigint;
  /** Access width in bytes that matches: 1, 2, 4 or 8 (0: any width, MMIO only). */
  len: number;
  /** eventfd to signal. */
  fd: number;
  /** True for a port I/O address, false (default) for MMIO. */
  pio?: boolean;
  /** Only writes of this value match (sets KVM_IOEVENTFD_FLAG_DATAMATCH). */
  datamatch?: number | bigint;
  /** Remove a binding made with the same parameters. */
  deassign?: boolean;
}

/** An irqfd binding (struct kvm_irqfd): writing fd raises GSI gsi. */
export interface IrqFdBinding {
  gsi: number;
  fd: number;
  /** Level-triggered interrupts: eventfd KVM signals when the guest acknowledges (EOI). */
  resampleFd?: number;
  deassign?: boolean;
}

/** A message-signalled interrupt (struct kvm_msi). */
export interface Msi {
  /** MSI address (64-bit, e.g. 0xfee00000 for x86). */
  address: number | bigint;
  data: number;
  devid?: number;
}

/** A GSI routing entry: to a pin of an in-kernel irqchip (0,1: PIC master/slave, 2: IOAPIC) or to an MSI. */
export type GsiRoute =
  | { gsi: number; type: 'irqchip'; irqchip: number; pin: number }
  | { gsi: number; type: 'msi'; address: number | bigint; data: number; devid?: number };

const u32 = (value: number | bigint): number => Number(BigInt.asUintN(32, BigInt(value)));
const hi32 = (value: number | bigint): number => Number(BigInt.asUintN(32, BigInt(value) >> 32n));

/** A KVM VM. Created by {@link Kvm.createVm}, or wrapped from a VM fd received from another thread. */
export class Vm {
  /** The VM file descriptor. */
  readonly fd: number;
  /** kvm_run mapping size for vCPUs of this VM (KVM_GET_VCPU_MMAP_SIZE). */
  readonly vcpuMmapSize: number;
  #irqLevel = new Uint8Array(LAYOUTS.kvm_irq_level.size);
  #irqLevelDv = new DataView(this.#irqLevel.buffer);
  #msi = new Uint8Array(LAYOUTS.kvm_msi.size);
  #msiDv = new DataView(this.#msi.buffer);

  constructor(fd: number, vcpuMmapSize: number) {
    this.fd = fd;
    this.vcpuMmapSize = vcpuMmapSize;
  }

  /** KVM_CHECK_EXTENSION on this VM (some capabilities depend on the VM). */
  checkExtension(cap: number): number {
    return ioctlValue(this.fd, 'KVM_CHECK_EXTENSION', IOCTL.CHECK_EXTENSION, cap);
  }

  /**
   * KVM_SET_USER_MEMORY_REGION: maps host memory into guest-physical space.
   * @throws KvmError: EINVAL (misaligned, bad slot), EEXIST (overlaps another slot).
   */
  setUserMemoryRegion(region: MemoryRegion): void {
    const bytes = new Uint8Array(LAYOUTS.kvm_userspace_memory_region.size);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(offsetOf('kvm_userspace_memory_region', 'slot'), region.slot >>> 0, true);
    dv.setUint32(offsetOf('kvm_userspace_memory_region', 'flags'), (region.flags ?? 0) >>> 0, true);
    setU64(dv, offsetOf('kvm_userspace_memory_region', 'guest_phys_addr'), region.guestPhysAddr);
    setU64(dv, offsetOf('kvm_userspace_memory_region', 'memory_size'), region.size);
    setU64(dv, offsetOf('kvm_userspace_memory_region', 'userspace_addr'), region.hostAddress);
    ioctlBuffer(this.fd, 'KVM_SET_USER_MEMORY_REGION', IOCTL.SET_USER_MEMORY_REGION, bytes);
  }

  /** KVM_CREATE_IRQCHIP: in-kernel PIC, IOAPIC and local APICs. Call before the first createVcpu(). */
  createIrqchip(): void {
    ioctlValue(this.fd, 'KVM_CREATE_IRQCHIP', IOCTL.CREATE_IRQCHIP);
  }

  /** KVM_CREATE_PIT2: in-kernel i8254 timer (after createIrqchip). `flags`: 1 = PIT_SPEAKER_DUMMY. */
  createPit2(flags = 0): void {
    const bytes = new Uint8Array(LAYOUTS.kvm_pit_config.size);
    new DataView(bytes.buffer).setUint32(offsetOf('kvm_pit_config', 'flags'), flags >>> 0, true);
    ioctlBuffer(this.fd, 'KVM_CREATE_PIT2', IOCTL.CREATE_PIT2, bytes);
  }

  /** KVM_SET_TSS_ADDR: a guest-physical range of 3 pages KVM may use on Intel (e.g. 0xfffbd000). */
  setTssAddr(guestPhysAddr: number): void {
    ioctlValue(this.fd, 'KVM_SET_TSS_ADDR', IOCTL.SET_TSS_ADDR, guestPhysAddr);
  }

  /** KVM_SET_IDENTITY_MAP_ADDR: a guest-physical page for Intel's real-mode identity map. */
  setIdentityMapAddr(guestPhysAddr: number | bigint): void {
    const bytes = new Uint8Array(8);
    setU64(new DataView(bytes.buffer), 0, guestPhysAddr);
    ioctlBuffer(this.fd, 'KVM_SET_IDENTITY_MAP_ADDR', IOCTL.SET_IDENTITY_MAP_ADDR, bytes);
  }

  /** KVM_CREATE_VCPU: returns the vCPU fd; wrap it with `new Vcpu(fd, vm.vcpuMmapSize)` in the running thread. */
  createVcpu(id: number): number {
    return ioctlValue(this.fd, 'KVM_CREATE_VCPU', IOCTL.CREATE_VCPU, id);
  }

  /** createVcpu() and a {@link Vcpu} mapped in the calling thread. */
  vcpu(id: number): Vcpu {
    return new Vcpu(this.createVcpu(id), this.vcpuMmapSize);
  }

  /** KVM_IOEVENTFD: binds (or with `deassign` unbinds) a guest write to an eventfd. */
  ioeventfd(binding: IoEventFdBinding): void {
    const bytes = new Uint8Array(LAYOUTS.kvm_ioeventfd.size);
    const dv = new DataView(bytes.buffer);
    let flags = 0;
    if (binding.pio) flags |= IOEVENTFD_FLAG_PIO;
    if (binding.deassign) flags |= IOEVENTFD_FLAG_DEASSIGN;
    if (binding.datamatch !== undefined) {
      flags |= IOEVENTFD_FLAG_DATAMATCH;
      setU64(dv, offsetOf('kvm_ioeventfd', 'datamatch'), binding.datamatch);
    }
    setU64(dv, offsetOf('kvm_ioeventfd', 'addr'), binding.addr);
    dv.setUint32(offsetOf('kvm_ioeventfd', 'len'), binding.len >>> 0, true);
    dv.setInt32(offsetOf('kvm_ioeventfd', 'fd'), binding.fd, true);
    dv.setUint32(offsetOf('kvm_ioeventfd', 'flags'), flags, true);
    ioctlBuffer(this.fd, 'KVM_IOEVENTFD', IOCTL.IOEVENTFD, bytes);
  }

  /** KVM_IRQFD: binds (or unbinds) an eventfd whose writes raise `gsi` (needs the in-kernel irqchip). */
  irqfd(binding: IrqFdBinding): void {
    const bytes = new Uint8Array(LAYOUTS.kvm_irqfd.size);
    const dv = new DataView(bytes.buffer);
    let flags = 0;
    if (binding.deassign) flags |= IRQFD_FLAG_DEASSIGN;
    if (binding.resampleFd !== undefined) {
      flags |= IRQFD_FLAG_RESAMPLE;
      dv.setInt32(offsetOf('kvm_irqfd', 'resamplefd'), binding.resampleFd, true);
    }
    dv.setInt32(offsetOf('kvm_irqfd', 'fd'), binding.fd, true);
    dv.setUint32(offsetOf('kvm_irqfd', 'gsi'), binding.gsi >>> 0, true);
    dv.setUint32(offsetOf('kvm_irqfd', 'flags'), flags, true);
    ioctlBuffer(this.fd, 'KVM_IRQFD', IOCTL.IRQFD, bytes);
  }

  /** KVM_IRQ_LINE: sets GSI `irq` high or low (edge interrupts: high then low). No allocation. */
  irqLine(irq: number, level: boolean | number): void {
    this.#irqLevelDv.setUint32(offsetOf('kvm_irq_level', 'irq'), irq >>> 0, true);
    this.#irqLevelDv.setUint32(offsetOf('kvm_irq_level', 'level'), level ? 1 : 0, true);
    ioctlBuffer(this.fd, 'KVM_IRQ_LINE', IOCTL.IRQ_LINE, this.#irqLevel);
  }

  /**
   * KVM_SIGNAL_MSI: injects one MSI. Returns 1 when delivered, 0 when the guest blocked it.
   * @throws KvmError (EINVAL) for a malformed message.
   */
  signalMsi(msi: Msi): number {
    const dv = this.#msiDv;
    this.#msi.fill(0);
    dv.setUint32(offsetOf('kvm_msi', 'address_lo'), u32(msi.address), true);
    dv.setUint32(offsetOf('kvm_msi', 'address_hi'), hi32(msi.address), true);
    dv.setUint32(offsetOf('kvm_msi', 'data'), msi.data >>> 0, true);
    dv.setUint32(offsetOf('kvm_msi', 'devid'), (msi.devid ?? 0) >>> 0, true);
    return ioctlBuffer(this.fd, 'KVM_SIGNAL_MSI', IOCTL.SIGNAL_MSI, this.#msi);
  }

  /** KVM_SET_GSI_ROUTING: replaces the whole GSI routing table (irqfds route through it). */
  setGsiRouting(routes: readonly GsiRoute[]): void {
    const esize = LAYOUTS.kvm_irq_routing_entry.size;
    const bytes = new Uint8Array(LAYOUTS.kvm_irq_routing.size + routes.length * esize);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(offsetOf('kvm_irq_routing', 'nr'), routes.length, true);
    routes.forEach((route, i) => {
      const base = offsetOf('kvm_irq_routing', 'entries') + i * esize;
      const at = (field: keyof typeof LAYOUTS.kvm_irq_routing_entry.fields): number =>
        base + offsetOf('kvm_irq_routing_entry', field);
      dv.setUint32(at('gsi'), route.gsi >>> 0, true);
      if (route.type === 'irqchip') {
        dv.setUint32(at('type'), IRQ_ROUTING_IRQCHIP, true);
        dv.setUint32(at('u.irqchip.irqchip'), route.irqchip >>> 0, true);
        dv.setUint32(at('u.irqchip.pin'), route.pin >>> 0, true);
      } else {
        dv.setUint32(at('type'), IRQ_ROUTING_MSI, true);
        dv.setUint32(at('u.msi.address_lo'), u32(route.address), true);
        dv.setUint32(at('u.msi.address_hi'), hi32(route.address), true);
        dv.setUint32(at('u.msi.data'), route.data >>> 0, true);
        dv.setUint32(at('u.msi.devid'), (route.devid ?? 0) >>> 0, true);
      }
    });
    ioctlBuffer(this.fd, 'KVM_SET_GSI_ROUTING', IOCTL.SET_GSI_ROUTING, bytes);
  }

  /** KVM_ENABLE_CAP on this VM with up to four 64-bit arguments. Returns the ioctl result. */
  enableCap(cap: number, args: readonly (number | bigint)[] = [], flags = 0): number {
    if (args.length > 4) throw new RangeError('KVM_ENABLE_CAP takes at most 4 arguments');
    const bytes = new Uint8Array(LAYOUTS.kvm_enable_cap.size);
    const dv = new DataView(bytes.buffer);
    dv.setUint32(offsetOf('kvm_enable_cap', 'cap'), cap >>> 0, true);
    dv.setUint32(offsetOf('kvm_enable_cap', 'flags'), flags >>> 0, true);
    args.forEach((arg, i) => setU64(dv, offsetOf('kvm_enable_cap', 'args') + 8 * i, arg));
    return ioctlBuffer(this.fd, 'KVM_ENABLE_CAP', IOCTL.ENABLE_CAP, bytes);
  }

  /** Closes the VM fd (the VM lives until its vCPU fds are closed too). */
  close(): void {
    closeFd(this.fd);
  }
}
