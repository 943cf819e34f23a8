// Public exports of @virtio/vmm: the machine and the parts a device wiring or another VMM reuses.
export { Machine, MAX_CPUS, type MachineOptions, type MachineResult } from './machine/machine.js';
export { COM1, Platform, type PlatformHooks, pciIntxGsi, VIRTIO_MMIO_GSIS } from './machine/platform.js';
export { Bus, BusConflictError, type BusDevice } from './bus/io-bus.js';
export { MmioSlots, type MmioSlot } from './bus/mmio-slots.js';
export { PciBus, PciBusError, type PciBusOptions, type PciInterrupts } from './pci/bus.js';
export type { PciBar, PciFunction, PciFunctionContext } from './pci/function.js';
export { ConfigSpace, PCI_CFG } from './pci/config-space.js';
export { BootImageError, parseSetupHeader, type SetupHeader } from './boot/setup-header.js';
export { loadLinux, MemoryTooSmallError, type LoadedLinux, type LoadLinuxOptions } from './boot/loader.js';
export { MemorySizeError, parseMemorySize, ramRegions, type RamRegion } from './boot/layout.js';
export { buildAcpi, type AcpiImage, type AcpiOptions } from './acpi/build.js';
export { Serial, type SerialSinks } from './devices/serial.js';
