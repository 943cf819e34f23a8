// Public exports of @virtio/pci.
export * from './protocol.js';
export type { PciFunctionAccess } from './access.js';
export {
  PciTransport,
  type PciTransportOptions,
  type PciInterruptOutput,
  type PciNotifyRegion,
} from './device/transport.js';
export type { PciLayout, PciBar, PciBarContents, PciRegion, PciSharedMemoryRegion } from './device/bars.js';
export { pciIdentity, type PciIdentity, type PciIdentityOptions } from './device/config-header.js';
export type { PciCounters } from './device/counters.js';
export type { MsixEntry } from './device/msix.js';
export {
  matchVirtioDevice,
  discoverCapabilities,
  PciDiscoveryError,
  type VirtioPciCapabilities,
  type FoundStructure,
  type FoundMsix,
} from './driver/discovery.js';
export {
  PciDriverTransport,
  type PciDriverOptions,
  type PciQueueSetup,
  type MsiMessage,
} from './driver/transport.js';
export { pciCfgWindow } from './driver/cfg-window.js';
