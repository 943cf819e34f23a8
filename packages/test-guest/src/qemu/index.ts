export { PROBE_DISK_BYTES, qemuGuestArgs, qemuProbe, type QemuProbeOptions, type QemuProbeResult } from './probe.js';
