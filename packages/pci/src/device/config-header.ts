/**
 * The type 0 configuration header of a virtio function ([PCI] 6.1, spec 4.1.2): Vendor ID
 * 0x1AF4, Device ID 0x1040 + Virtio Device ID (or the transitional ID), Revision ID 1 (0 for
 * transitional devices), the class code of the device type, the subsystem IDs, INTA#.
 */
import type { ConfigSpace } from './config-space.js';
import {
  PCI_CLASS_OTHER,
  PCI_COMMAND_INTX_DISABLE,
  PCI_COMMAND_IO,
  PCI_COMMAND_MASTER,
  PCI_COMMAND_MEMORY,
  PCI_HEADER,
  PCI_INTERRUPT_PIN_INTA,
  TRANSITIONAL_DEVICE_IDS,
  VIRTIO_PCI_CLASS_CODES,
  VIRTIO_PCI_DEVICE_ID_BASE,
  VIRTIO_PCI_DEVICE_ID_MAX,
  VIRTIO_PCI_VENDOR_ID,
} from '../protocol.js';

/** The identification fields of the header. */
export interface PciIdentity {
  readonly vendorId: number;
  readonly deviceId: number;
  readonly revisionId: number;
  /** 24-bit class code: base class << 16 | subclass << 8 | programming interface. */
  readonly classCode: number;
  readonly subsystemVendorId: number;
  readonly subsystemId: number;
}

/** Options that change the identity. */
export interface PciIdentityOptions {
  /**
   * A transitional device (spec 4.1.2 table; only the device types listed there): the
   * Transitional PCI Device ID, Revision ID 0, and the legacy interface in I/O BAR0 next to the
   * capabilities. The device must then offer VIRTIO_F_ANY_LAYOUT for legacy drivers.
   */
  readonly transitional?: boolean;
  /** Override the class code (default: per device type, see VIRTIO_PCI_CLASS_CODES). */
  readonly classCode?: number;
  /** PCI Subsystem Vendor ID (default 0x1AF4). */
  readonly subsystemVendorId?: number;
  /** PCI Subsystem Device ID (default 0x1100 as QEMU; transitional devices: the Virtio Device ID). */
  readonly subsystemId?: number;
}

/**
 * Derives the identity of a function for Virtio Device ID `virtioDeviceId`.
 * @throws RangeError when the device ID has no PCI Device ID, or transitional is asked for a
 * device type without a Transitional PCI Device ID.
 */
export function pciIdentity(virtioDeviceId: number, opts: PciIdentityOptions = {}): PciIdentity {
  const modern = VIRTIO_PCI_DEVICE_ID_BASE + virtioDeviceId;
  if (!Number.isInteger(virtioDeviceId) || virtioDeviceId < 1 || modern > VIRTIO_PCI_DEVICE_ID_MAX) {
    throw new RangeError(`Virtio Device ID ${virtioDeviceId} has no PCI Device ID`);
  }
  let deviceId = modern;
  if (opts.transitional) {
    const id = TRANSITIONAL_DEVICE_IDS.get(virtioDeviceId);
    if (id === undefined) throw new RangeError(`Virtio Device ID ${virtioDeviceId} has no Transitional PCI Device ID`);
    deviceId = id;
  }
  return {
    vendorId: VIRTIO_PCI_VENDOR_ID,
    deviceId,
    // Transitional devices MUST have Revision ID 0; non-transitional SHOULD have 1 or higher.
    revisionId: opts.transitional ? 0 : 1,
    classCode: opts.classCode ?? VIRTIO_PCI_CLASS_CODES.get(virtioDeviceId) ?? PCI_CLASS_OTHER,
    subsystemVendorId: opts.subsystemVendorId ?? VIRTIO_PCI_VENDOR_ID,
    // Transitional: the Virtio Device ID (legacy drivers match on it); otherwise 0x40 or higher.
    subsystemId: opts.subsystemId ?? (opts.transitional ? virtioDeviceId : 0x1100),
  };
}

/** Writes the header fields and their write masks into `space` (BARs and capabilities are installed separately). */
export function installHeader(space: ConfigSpace, id: PciIdentity, hasIo: boolean): void {
  space.set(PCI_HEADER.vendor_id, 2, id.vendorId);
  space.set(PCI_HEADER.device_id, 2, id.deviceId);
  space.set(PCI_HEADER.revision_id, 1, id.revisionId);
  space.set(PCI_HEADER.class_prog, 1, id.classCode & 0xff);
  space.set(PCI_HEADER.class_device, 2, (id.classCode >>> 8) & 0xffff);
  space.set(PCI_HEADER.subsystem_vendor_id, 2, id.subsystemVendorId);
  space.set(PCI_HEADER.subsystem_id, 2, id.subsystemId);
  space.set(PCI_HEADER.interrupt_pin, 1, PCI_INTERRUPT_PIN_INTA);
  space.writable(
    PCI_HEADER.command,
    2,
    (hasIo ? PCI_COMMAND_IO : 0) | PCI_COMMAND_MEMORY | PCI_COMMAND_MASTER | PCI_COMMAND_INTX_DISABLE,
  );
  space.writable(PCI_HEADER.cache_line_size, 1, 0xff);
  space.writable(PCI_HEADER.latency_timer, 1, 0xff);
  space.writable(PCI_HEADER.interrupt_line, 1, 0xff);
}
