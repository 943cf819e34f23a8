/**
 * The 8-byte `lun` field (spec 5.6.6.1): first byte 1, second the target, third and fourth a
 * single level LUN structure (0x40 | lun >> 8, lun & 0xff for LUNs of 256 and above), four
 * zero bytes. `0xC1 0x01` and six zeroes address the REPORT LUNS well-known logical unit.
 */
import type { ScsiLunAddress } from './protocol.js';

/** The REPORT LUNS well-known logical unit's address (0xC1 0x01, zeroes). */
export const REPORT_LUNS_WLUN = 'report-luns';

/**
 * Decodes a `lun` field: an address, REPORT_LUNS_WLUN, or null for any other format
 * (the device answers those with VIRTIO_SCSI_S_BAD_TARGET).
 */
export function decodeLun(b: Uint8Array): ScsiLunAddress | typeof REPORT_LUNS_WLUN | null {
  if (b[4] !== 0 || b[5] !== 0 || b[6] !== 0 || b[7] !== 0) return null;
  if (b[0] === 0xc1 && b[1] === 0x01 && b[2] === 0 && b[3] === 0) return REPORT_LUNS_WLUN;
  if (b[0] !== 1) return null;
  const method = b[2] >> 6;
  if (method !== 0 && method !== 1) return null;
  // Peripheral addressing (method 0) carries LUNs 0..255 only with bus 0; flat (1) 0..16383.
  if (method === 0 && (b[2] & 0x3f) !== 0) return null;
  return { target: b[1], lun: ((b[2] & 0x3f) << 8) | b[3] };
}

/**
 * Encodes a target and LUN into `out[0..8)`.
 * @throws RangeError for a target outside 0..255 or a LUN outside 0..16383
 */
export function encodeLun(addr: ScsiLunAddress, out: Uint8Array = new Uint8Array(8)): Uint8Array {
  const { target, lun } = addr;
  if (!Number.isInteger(target) || target < 0 || target > 255) throw new RangeError(`scsi: target ${target} outside 0..255`);
  if (!Number.isInteger(lun) || lun < 0 || lun > 16383) throw new RangeError(`scsi: lun ${lun} outside 0..16383`);
  out.fill(0, 0, 8);
  out[0] = 1;
  out[1] = target;
  out[2] = lun >= 256 ? 0x40 | (lun >> 8) : 0;
  out[3] = lun & 0xff;
  return out;
}
