// Public exports of @virtio/test-guest: the Linux test guest, the VMMTEST result parser, KVM
// detection, running commands where KVM can run a stock kernel, and the QEMU baseline.
export { buildTestGuest, DEFAULT_GUEST_MODULES, testGuestCmdline, type TestGuest, type TestGuestOptions } from './guest/build.js';
export type { ExtraFile } from './guest/initramfs.js';
export {
  parseVmmtest,
  parseVmmtestLine,
  probedDevices,
  type ProbedDevice,
  type VmmtestCheckResult,
  type VmmtestReport,
} from './guest/vmmtest.js';
export { bootCheck, builtinChecks, probeCheck, shellCheck, type CheckDefinition } from './checks/index.js';
export { detectKvm, type KvmDetection, type KvmKind } from './kvm/index.js';
export { kvmRunMode, runWhereKvmWorks, type KvmRunMode, type RunOptions, type RunResult } from './run/index.js';
export { PROBE_DISK_BYTES, qemuGuestArgs, qemuProbe, type QemuProbeOptions, type QemuProbeResult } from './qemu/index.js';
export { CpioWriter, readCpio, type CpioEntry } from './cpio/index.js';
