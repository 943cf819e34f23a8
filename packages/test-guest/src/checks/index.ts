import { blkCheck } from './blk.js';
import { bootCheck } from './boot.js';
import type { CheckDefinition } from './check.js';
import { consoleCheck } from './console.js';
import { driversCheck } from './drivers.js';
import { netCheck } from './net.js';
import { probeCheck } from './probe.js';
import { reloadCheck } from './reload.js';
import { rngCheck } from './rng.js';
import { shellCheck } from './shell.js';
import { balloonCheck } from './balloon.js';
import { cryptoCheck } from './crypto.js';
import { inputCheck } from './input.js';
import { scsiCheck } from './scsi.js';
import { vsockCheck } from './vsock.js';
import { pmemCheck } from './pmem.js';

export type { CheckDefinition } from './check.js';
export { BLK_FS_FILE, BLK_LAYOUT, BLK_MIN_BYTES } from './blk.js';
export { consoleReply } from './console.js';
export { EXPECTED_DRIVERS } from './drivers.js';
export { NET_DEFAULTS } from './net.js';
export { RELOAD_CYCLES } from './reload.js';
export { SCSI_LAYOUT, SCSI_MIN_BYTES } from './scsi.js';
export { VSOCK_DEFAULTS, vsockReply } from './vsock.js';
export { INPUT_LED } from './input.js';
export { PMEM_LAYOUT, PMEM_MIN_BYTES } from './pmem.js';
export { CRYPTO_VECTOR } from './crypto.js';
export { GUEST_HELPER_PATH, GUEST_HELPER_SOURCE, guestHelperFile } from './helper.js';
export { balloonCheck, cryptoCheck, inputCheck, pmemCheck, scsiCheck, vsockCheck };
export { blkCheck, bootCheck, consoleCheck, driversCheck, netCheck, probeCheck, reloadCheck, rngCheck, shellCheck };

/** The checks every test guest carries. */
export const builtinChecks: readonly CheckDefinition[] = [
  bootCheck,
  probeCheck,
  shellCheck,
  driversCheck,
  blkCheck,
  netCheck,
  consoleCheck,
  rngCheck,
  reloadCheck,
  scsiCheck,
  vsockCheck,
  balloonCheck,
  inputCheck,
  cryptoCheck,
  pmemCheck,
];

/** The device checks in the order a full run does them (reload last: it rebinds every device). */
export const DEVICE_CHECKS: readonly string[] = ['drivers', 'blk', 'net', 'console', 'rng', 'reload'];
