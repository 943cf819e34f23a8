/**
 * Commands the host device answers itself: REPORT LUNS (for any unit of a target and for the
 * REPORT LUNS well-known logical unit), and every command to a LUN with no unit on an existing
 * target (INQUIRY with peripheral qualifier 011b; others LOGICAL UNIT NOT SUPPORTED).
 */
import { SAM_STAT_CHECK_CONDITION, SAM_STAT_GOOD, SENSE_ILLEGAL_REQUEST, VIRTIO_SCSI_S_OVERRUN } from './protocol.js';
import { fixedSense } from './sense.js';
import type { ScsiCommand, ScsiCommandResult } from './target.js';
import { scatterViews } from './views.js';

const REPORT_LUNS = 0xa0;
const INQUIRY = 0x12;
const REQUEST_SENSE = 0x03;

function dataIn(cmd: ScsiCommand, data: Uint8Array, alloc: number): ScsiCommandResult {
  const n = Math.min(alloc, data.length);
  if (n > cmd.dataInLength) return { response: VIRTIO_SCSI_S_OVERRUN, status: SAM_STAT_GOOD };
  return { status: SAM_STAT_GOOD, dataInWritten: scatterViews(cmd.dataIn, data.subarray(0, n)) };
}

/** REPORT LUNS parameter data: the sorted `luns` of one target, single level LUN structures. */
export function reportLunsData(luns: readonly number[]): Uint8Array {
  const d = new Uint8Array(8 + luns.length * 8);
  const dv = new DataView(d.buffer);
  dv.setUint32(0, luns.length * 8);
  luns.forEach((lun, i) => {
    d[8 + i * 8] = lun >= 256 ? 0x40 | (lun >> 8) : 0;
    d[9 + i * 8] = lun & 0xff;
  });
  return d;
}

/**
 * @param luns the target's LUNs, sorted
 * @param wellKnown whether the command addressed a present unit or the well-known LUN (REPORT LUNS only then)
 */
export function hostCommand(cmd: ScsiCommand, luns: readonly number[], wellKnown: boolean): ScsiCommandResult {
  const cdb = cmd.cdb;
  if (cdb[0] === REPORT_LUNS) {
    const alloc = ((cdb[6] << 24) | (cdb[7] << 16) | (cdb[8] << 8) | cdb[9]) >>> 0;
    if (alloc < 16) return { status: SAM_STAT_CHECK_CONDITION, sense: fixedSense(SENSE_ILLEGAL_REQUEST, 0x24, 0x00) };
    return dataIn(cmd, reportLunsData(luns), alloc);
  }
  if (cdb[0] === INQUIRY && (cdb[1] & 1) === 0) {
    const d = new Uint8Array(36);
    d[0] = wellKnown ? 0x1e : 0x7f; // well known logical unit / qualifier 011b, type 1Fh
    d[2] = 0x05;
    d[3] = 0x02;
    d[4] = 31;
    return dataIn(cmd, d, (cdb[3] << 8) | cdb[4]);
  }
  const notSupported = fixedSense(SENSE_ILLEGAL_REQUEST, 0x25, 0x00);
  if (cdb[0] === REQUEST_SENSE) return dataIn(cmd, notSupported, cdb[4]);
  return { status: SAM_STAT_CHECK_CONDITION, sense: notSupported };
}
