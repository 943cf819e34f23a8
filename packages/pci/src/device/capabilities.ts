/**
 * The capability list of the configuration space (spec 4.1.4): one virtio structure
 * capability per structure in the order common, notify, ISR, device-specific, shared
 * memory regions (struct virtio_pci_cap64), the VIRTIO_PCI_CAP_PCI_CFG window, then the
 * MSI-X capability ([PCI] 6.8.2).
 */
import type { PciLayout, PciRegion } from './bars.js';
import type { ConfigSpace } from './config-space.js';
import {
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_VNDR,
  PCI_CAPABILITY_START,
  PCI_CONFIG_SPACE_SIZE,
  PCI_HEADER,
  PCI_MSIX,
  PCI_MSIX_CAP_SIZE,
  PCI_MSIX_FLAGS_ENABLE,
  PCI_MSIX_FLAGS_MASKALL,
  PCI_STATUS_CAP_LIST,
  VIRTIO_PCI_CAP,
  VIRTIO_PCI_CAP64_SIZE,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  VIRTIO_PCI_CAP_SHARED_MEMORY_CFG,
  VIRTIO_PCI_CAP_SIZE,
  VIRTIO_PCI_CFG_CAP_SIZE,
  VIRTIO_PCI_NOTIFY_CAP_SIZE,
} from '../protocol.js';

/** Configuration-space offsets of the capabilities with behaviour. */
export interface CapabilityOffsets {
  readonly pciCfg: number;
  /** Absent without MSI-X. */
  readonly msix?: number;
}

class ListWriter {
  #at = PCI_CAPABILITY_START;
  #prevNext: number = PCI_HEADER.capabilities_pointer;
  constructor(readonly space: ConfigSpace) {}

  /** Appends a capability of `len` bytes with ID `id`; returns its offset. @throws RangeError when config space is full */
  add(id: number, len: number): number {
    const at = this.#at;
    if (at + len > PCI_CONFIG_SPACE_SIZE) throw new RangeError('PCI capabilities do not fit in the configuration space');
    this.space.set(this.#prevNext, 1, at);
    this.space.set(at, 1, id);
    this.#prevNext = at + 1;
    this.#at = at + len;
    return at;
  }
}

function virtioCap(list: ListWriter, cfgType: number, len: number, region: PciRegion, id = 0): number {
  const at = list.add(PCI_CAP_ID_VNDR, len);
  const s = list.space;
  s.set(at + VIRTIO_PCI_CAP.cap_len, 1, len);
  s.set(at + VIRTIO_PCI_CAP.cfg_type, 1, cfgType);
  s.set(at + VIRTIO_PCI_CAP.bar, 1, region.bar);
  s.set(at + VIRTIO_PCI_CAP.id, 1, id);
  s.set(at + VIRTIO_PCI_CAP.offset, 4, region.offset % 2 ** 32);
  s.set(at + VIRTIO_PCI_CAP.length, 4, region.length % 2 ** 32);
  return at;
}

/** Writes the capability list of `layout` into `space` and marks the Capabilities List status bit. */
export function installCapabilities(space: ConfigSpace, layout: PciLayout): CapabilityOffsets {
  const list = new ListWriter(space);
  virtioCap(list, VIRTIO_PCI_CAP_COMMON_CFG, VIRTIO_PCI_CAP_SIZE, layout.common);
  const notify = virtioCap(list, VIRTIO_PCI_CAP_NOTIFY_CFG, VIRTIO_PCI_NOTIFY_CAP_SIZE, layout.notify);
  space.set(notify + VIRTIO_PCI_CAP.notify_off_multiplier, 4, layout.notifyOffMultiplier);
  virtioCap(list, VIRTIO_PCI_CAP_ISR_CFG, VIRTIO_PCI_CAP_SIZE, layout.isr);
  if (layout.device) virtioCap(list, VIRTIO_PCI_CAP_DEVICE_CFG, VIRTIO_PCI_CAP_SIZE, layout.device);
  for (const shm of layout.sharedMemory) {
    const at = virtioCap(list, VIRTIO_PCI_CAP_SHARED_MEMORY_CFG, VIRTIO_PCI_CAP64_SIZE, shm, shm.id);
    space.set(at + VIRTIO_PCI_CAP.offset_hi, 4, Math.floor(shm.offset / 2 ** 32));
    space.set(at + VIRTIO_PCI_CAP.length_hi, 4, Math.floor(shm.length / 2 ** 32));
  }
  // The PCI configuration access window: bar, offset, length and pci_cfg_data are read-write.
  const pciCfg = virtioCap(list, VIRTIO_PCI_CAP_PCI_CFG, VIRTIO_PCI_CFG_CAP_SIZE, { bar: 0, offset: 0, length: 0 });
  space.writable(pciCfg + VIRTIO_PCI_CAP.bar, 1, 0xff);
  space.writable(pciCfg + VIRTIO_PCI_CAP.offset, 4, 0xffffffff);
  space.writable(pciCfg + VIRTIO_PCI_CAP.length, 4, 0xffffffff);
  space.writable(pciCfg + VIRTIO_PCI_CAP.pci_cfg_data, 4, 0xffffffff);
  let msix: number | undefined;
  if (layout.msixTable && layout.msixPba) {
    msix = list.add(PCI_CAP_ID_MSIX, PCI_MSIX_CAP_SIZE);
    const vectors = layout.msixTable.length / 16;
    space.set(msix + PCI_MSIX.flags, 2, vectors - 1);
    space.writable(msix + PCI_MSIX.flags, 2, PCI_MSIX_FLAGS_ENABLE | PCI_MSIX_FLAGS_MASKALL);
    space.set(msix + PCI_MSIX.table, 4, layout.msixTable.offset | layout.msixTable.bar);
    space.set(msix + PCI_MSIX.pba, 4, layout.msixPba.offset | layout.msixPba.bar);
  }
  space.set(PCI_HEADER.status, 2, PCI_STATUS_CAP_LIST);
  return { pciCfg, msix };
}
