export { PROBE_DISK_BYTES, qemuGuestArgs, qemuProbe, type QemuProbeOptions, type QemuProbeResult } from './probe.js';
export { PEER_PLACEHOLDERS, peerScript, type PeerConfig, type PeerRecord } from './peer.js';
export { qemuCheckArgs, qemuRun, RUN_DISK_BYTES, RUN_RO_DISK_BYTES, type QemuRunOptions, type QemuRunResult } from './run.js';
