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
export {
  BLK_FS_FILE,
  BLK_LAYOUT,
  BLK_MIN_BYTES,
  blkCheck,
  bootCheck,
  builtinChecks,
  consoleCheck,
  consoleReply,
  DEVICE_CHECKS,
  driversCheck,
  EXPECTED_DRIVERS,
  NET_DEFAULTS,
  netCheck,
  probeCheck,
  RELOAD_CYCLES,
  reloadCheck,
  rngCheck,
  shellCheck,
  type CheckDefinition,
  balloonCheck,
  cryptoCheck,
  inputCheck,
  pmemCheck,
  PMEM_LAYOUT,
  PMEM_MIN_BYTES,
  scsiCheck,
  vsockCheck,
  SCSI_LAYOUT,
  SCSI_MIN_BYTES,
  VSOCK_DEFAULTS,
  vsockReply,
  INPUT_LED,
  CRYPTO_VECTOR,
  GUEST_HELPER_PATH,
  GUEST_HELPER_SOURCE,
  guestHelperFile,
} from './checks/index.js';
export { BENCH_DEBIAN_PROGRAMS, DEFAULT_DEBIAN_PROGRAMS, resolveDebianProgram, type DebianProgram, type ResolvedDebianProgram } from './guest/programs.js';
export { blkImageFacts, findDebugfs, type BlkImageFacts } from './verify/index.js';
export { detectKvm, type KvmDetection, type KvmKind } from './kvm/index.js';
export { kvmRunMode, runWhereKvmWorks, type KvmRunMode, type RunOptions, type RunResult } from './run/index.js';
export {
  PEER_PLACEHOLDERS,
  peerScript,
  PROBE_DISK_BYTES,
  qemuCheckArgs,
  qemuGuestArgs,
  qemuProbe,
  qemuRun,
  RUN_DISK_BYTES,
  RUN_RO_DISK_BYTES,
  type PeerConfig,
  type PeerRecord,
  type QemuProbeOptions,
  type QemuProbeResult,
  type QemuRunOptions,
  type QemuRunResult,
} from './qemu/index.js';
export { CpioWriter, readCpio, type CpioEntry } from './cpio/index.js';
