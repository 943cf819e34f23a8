/**
 * Driver-side discovery (spec 4.1.2, 4.1.4, 4.1.5.1.1): matching the IDs of a virtio function
 * and walking its capability list for the virtio structures and the MSI-X capability. The
 * configuration space is device-controlled input: the walk is bounded, reserved cfg_type and
 * bar values are skipped, and the first capability of each type wins.
 */
import type { PciFunctionAccess } from '../access.js';
import {
  PCI_CAP_ID_MSIX,
  PCI_CAP_ID_VNDR,
  PCI_CAPABILITY_START,
  PCI_CONFIG_SPACE_SIZE,
  PCI_HEADER,
  PCI_MSIX,
  PCI_MSIX_FLAGS_QSIZE,
  PCI_STATUS_CAP_LIST,
  TRANSITIONAL_DEVICE_IDS,
  VIRTIO_PCI_CAP,
  VIRTIO_PCI_CAP64_SIZE,
  VIRTIO_PCI_CAP_COMMON_CFG,
  VIRTIO_PCI_CAP_DEVICE_CFG,
  VIRTIO_PCI_CAP_ISR_CFG,
  VIRTIO_PCI_CAP_NOTIFY_CFG,
  VIRTIO_PCI_CAP_PCI_CFG,
  VIRTIO_PCI_CAP_SHARED_MEMORY_CFG,
  VIRTIO_PCI_CAP_SIZE,
  VIRTIO_PCI_DEVICE_ID_BASE,
  VIRTIO_PCI_DEVICE_ID_MAX,
  VIRTIO_PCI_NOTIFY_CAP_SIZE,
  VIRTIO_PCI_TRANSITIONAL_ID_MAX,
  VIRTIO_PCI_TRANSITIONAL_ID_MIN,
  VIRTIO_PCI_VENDOR_ID,
} from '../protocol.js';

/** Raised when a function is not a usable virtio device. */
export class PciDiscoveryError extends Error {
  override readonly name = 'PciDiscoveryError';
}

/**
 * The Virtio Device ID of a function, from its PCI Vendor and Device IDs (spec 4.1.2.2), or
 * undefined when it is not a virtio device this driver matches. Revision and subsystem IDs
 * are not looked at: any value matches.
 */
export function matchVirtioDevice(vendorId: number, deviceId: number): number | undefined {
  if (vendorId !== VIRTIO_PCI_VENDOR_ID) return undefined;
  if (deviceId > VIRTIO_PCI_DEVICE_ID_BASE && deviceId <= VIRTIO_PCI_DEVICE_ID_MAX) return deviceId - VIRTIO_PCI_DEVICE_ID_BASE;
  if (deviceId >= VIRTIO_PCI_TRANSITIONAL_ID_MIN && deviceId <= VIRTIO_PCI_TRANSITIONAL_ID_MAX) {
    for (const [virtioId, pciId] of TRANSITIONAL_DEVICE_IDS) if (pciId === deviceId) return virtioId;
  }
  return undefined;
}

/** A virtio structure found through a capability: BAR and offset/length in bytes. */
export interface FoundStructure {
  readonly bar: number;
  readonly offset: number;
  readonly length: number;
  /** Configuration-space offset of the capability. */
  readonly capOffset: number;
  /** cap.id */
  readonly id: number;
}

/** The MSI-X capability as read from configuration space. */
export interface FoundMsix {
  readonly capOffset: number;
  /** Number of vectors: Table Size + 1, 1..0x800. */
  readonly vectors: number;
  readonly tableBar: number;
  readonly tableOffset: number;
  readonly pbaBar: number;
  readonly pbaOffset: number;
}

/** Everything the driver needs from the capability list. */
export interface VirtioPciCapabilities {
  readonly common: FoundStructure;
  readonly notify: FoundStructure & { readonly notifyOffMultiplier: number };
  readonly isr: FoundStructure;
  readonly device?: FoundStructure;
  readonly pciCfg?: FoundStructure;
  readonly sharedMemory: readonly FoundStructure[];
  readonly msix?: FoundMsix;
}

/** At most this many capabilities are followed (a 256-byte space holds at most 48 4-byte-aligned ones). */
const MAX_CAPS = (PCI_CONFIG_SPACE_SIZE - PCI_CAPABILITY_START) / 4;

function structure(cfg: PciFunctionAccess, at: number): FoundStructure {
  return {
    bar: cfg.configRead(at + VIRTIO_PCI_CAP.bar, 1),
    offset: cfg.configRead(at + VIRTIO_PCI_CAP.offset, 4),
    length: cfg.configRead(at + VIRTIO_PCI_CAP.length, 4),
    capOffset: at,
    id: cfg.configRead(at + VIRTIO_PCI_CAP.id, 1),
  };
}

/**
 * Walks the capability list (spec 4.1.5.1.1 "Virtio Device Configuration Layout Detection").
 * Only reads configuration space: it never writes a capability (spec 4.1.4.1).
 * @throws PciDiscoveryError when a required structure (common, notify, ISR) is missing, which
 * is also how a legacy-only device without virtio capabilities is refused.
 */
export function discoverCapabilities(cfg: PciFunctionAccess): VirtioPciCapabilities {
  const found = new Map<number, FoundStructure>();
  const sharedMemory: FoundStructure[] = [];
  let multiplier = 0;
  let msix: FoundMsix | undefined;
  const status = cfg.configRead(PCI_HEADER.status, 2);
  let at = (status & PCI_STATUS_CAP_LIST) !== 0 ? cfg.configRead(PCI_HEADER.capabilities_pointer, 1) & 0xfc : 0;
  const seen = new Set<number>();
  for (let n = 0; at >= PCI_CAPABILITY_START && n < MAX_CAPS && !seen.has(at); n++) {
    seen.add(at);
    const capId = cfg.configRead(at, 1);
    const next = cfg.configRead(at + 1, 1) & 0xfc;
    if (capId === PCI_CAP_ID_MSIX && msix === undefined && at + 12 <= PCI_CONFIG_SPACE_SIZE) {
      const table = cfg.configRead(at + PCI_MSIX.table, 4);
      const pba = cfg.configRead(at + PCI_MSIX.pba, 4);
      msix = {
        capOffset: at,
        vectors: (cfg.configRead(at + PCI_MSIX.flags, 2) & PCI_MSIX_FLAGS_QSIZE) + 1,
        tableBar: table & 7,
        tableOffset: (table & ~7) >>> 0,
        pbaBar: pba & 7,
        pbaOffset: (pba & ~7) >>> 0,
      };
    } else if (capId === PCI_CAP_ID_VNDR && at + VIRTIO_PCI_CAP_SIZE <= PCI_CONFIG_SPACE_SIZE) {
      const capLen = cfg.configRead(at + VIRTIO_PCI_CAP.cap_len, 1);
      const type = cfg.configRead(at + VIRTIO_PCI_CAP.cfg_type, 1);
      const s = structure(cfg, at);
      // Reserved bar values (6..255) and reserved cfg_type values are ignored; a larger
      // cap_len than the structure needs is fine, a smaller one makes the capability unusable.
      if (s.bar <= 5 && capLen >= VIRTIO_PCI_CAP_SIZE) {
        if (type === VIRTIO_PCI_CAP_SHARED_MEMORY_CFG) {
          if (capLen >= VIRTIO_PCI_CAP64_SIZE && at + VIRTIO_PCI_CAP64_SIZE <= PCI_CONFIG_SPACE_SIZE) {
            const offHi = cfg.configRead(at + VIRTIO_PCI_CAP.offset_hi, 4);
            const lenHi = cfg.configRead(at + VIRTIO_PCI_CAP.length_hi, 4);
            sharedMemory.push({ ...s, offset: offHi * 2 ** 32 + s.offset, length: lenHi * 2 ** 32 + s.length });
          }
        } else if (type === VIRTIO_PCI_CAP_NOTIFY_CFG) {
          if (!found.has(type) && capLen >= VIRTIO_PCI_NOTIFY_CAP_SIZE && at + VIRTIO_PCI_NOTIFY_CAP_SIZE <= PCI_CONFIG_SPACE_SIZE) {
            multiplier = cfg.configRead(at + VIRTIO_PCI_CAP.notify_off_multiplier, 4);
            found.set(type, s);
          }
        } else if (
          (type === VIRTIO_PCI_CAP_COMMON_CFG ||
            type === VIRTIO_PCI_CAP_ISR_CFG ||
            type === VIRTIO_PCI_CAP_DEVICE_CFG ||
            type === VIRTIO_PCI_CAP_PCI_CFG) &&
          !found.has(type)
        ) {
          found.set(type, s);
        }
      }
    }
    at = next;
  }
  const common = found.get(VIRTIO_PCI_CAP_COMMON_CFG);
  const notify = found.get(VIRTIO_PCI_CAP_NOTIFY_CFG);
  const isr = found.get(VIRTIO_PCI_CAP_ISR_CFG);
  if (!common || !notify || !isr) {
    throw new PciDiscoveryError('no virtio common, notify and ISR capabilities: not a virtio 1.x PCI device');
  }
  return {
    common,
    notify: { ...notify, notifyOffMultiplier: multiplier },
    isr,
    device: found.get(VIRTIO_PCI_CAP_DEVICE_CFG),
    pciCfg: found.get(VIRTIO_PCI_CAP_PCI_CFG),
    sharedMemory,
    msix,
  };
}
