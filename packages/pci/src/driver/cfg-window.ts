/**
 * BAR access through the VIRTIO_PCI_CAP_PCI_CFG window (spec 4.1.4.9), for drivers that can
 * reach configuration space but have not mapped the BARs (firmware, early boot). Each access
 * aims the window (cap.bar, cap.length, cap.offset) and then reads or writes pci_cfg_data.
 */
import type { PciFunctionAccess } from '../access.js';
import { VIRTIO_PCI_CAP } from '../protocol.js';
import { PciDiscoveryError, type VirtioPciCapabilities } from './discovery.js';

/**
 * A PciFunctionAccess whose BAR accesses go through the PCI configuration access capability
 * of `caps`; configuration accesses pass through to `io`.
 * Only accesses inside a structure another virtio capability declared are made, aligned to
 * their width; anything else throws RangeError before touching the window.
 * @throws PciDiscoveryError when the device has no VIRTIO_PCI_CAP_PCI_CFG capability.
 */
export function pciCfgWindow(io: PciFunctionAccess, caps: VirtioPciCapabilities): PciFunctionAccess {
  const cap = caps.pciCfg?.capOffset;
  if (cap === undefined) throw new PciDiscoveryError('no VIRTIO_PCI_CAP_PCI_CFG capability');
  const structures = [caps.common, caps.notify, caps.isr, ...(caps.device ? [caps.device] : [])];
  const data = cap + VIRTIO_PCI_CAP.pci_cfg_data;
  const aim = (bar: number, offset: number, width: 1 | 2 | 4): void => {
    const inside = structures.some((s) => s.bar === bar && offset >= s.offset && offset + width <= s.offset + s.length);
    if (!inside || offset % width !== 0) {
      throw new RangeError(`window access at BAR ${bar} offset ${offset} width ${width} is not inside a virtio structure or not aligned`);
    }
    io.configWrite(cap + VIRTIO_PCI_CAP.bar, 1, bar);
    io.configWrite(cap + VIRTIO_PCI_CAP.length, 4, width);
    io.configWrite(cap + VIRTIO_PCI_CAP.offset, 4, offset);
  };
  return {
    configRead: (offset, width) => io.configRead(offset, width),
    configWrite: (offset, width, value) => io.configWrite(offset, width, value),
    barRead(bar, offset, width) {
      aim(bar, offset, width);
      return io.configRead(data, width);
    },
    barWrite(bar, offset, width, value) {
      aim(bar, offset, width);
      io.configWrite(data, width, value);
    },
  };
}
