/**
 * A simple SCSI direct-access block device (SBC) over a @virtio/blk BlockBackend, 512-byte
 * logical blocks: TEST UNIT READY, REQUEST SENSE, INQUIRY (standard data and VPD pages 00h
 * and 80h), READ CAPACITY(10) and (16), READ(10)/(16), WRITE(10)/(16), SYNCHRONIZE CACHE(10)/(16)
 * and MODE SENSE(6)/(10) (caching page 08h, all pages 3Fh). Errors are CHECK CONDITION with
 * fixed-format sense data; unit attentions (reset, capacity change) are reported once each,
 * on the next command other than INQUIRY, REPORT LUNS and REQUEST SENSE (which returns them).
 * REPORT LUNS is answered by the host device, which knows the bus.
 */
import type { BlockBackend } from '@virtio/blk';
import {
  SAM_STAT_CHECK_CONDITION,
  SAM_STAT_GOOD,
  SCSI_TYPE_DISK,
  SENSE_DATA_PROTECT,
  SENSE_ILLEGAL_REQUEST,
  SENSE_MEDIUM_ERROR,
  SENSE_NO_SENSE,
  SENSE_UNIT_ATTENTION,
  VIRTIO_SCSI_S_OVERRUN,
} from '../protocol.js';
import { fixedSense } from '../sense.js';
import type { ScsiCommand, ScsiCommandResult, ScsiLogicalUnit } from '../target.js';
import { scatterViews, sliceViews } from '../views.js';

/** SCSI operation codes the disk implements. */
export const ScsiOp = {
  TEST_UNIT_READY: 0x00,
  REQUEST_SENSE: 0x03,
  INQUIRY: 0x12,
  MODE_SENSE_6: 0x1a,
  READ_CAPACITY_10: 0x25,
  READ_10: 0x28,
  WRITE_10: 0x2a,
  SYNCHRONIZE_CACHE_10: 0x35,
  MODE_SENSE_10: 0x5a,
  READ_16: 0x88,
  WRITE_16: 0x8a,
  SYNCHRONIZE_CACHE_16: 0x91,
  SERVICE_ACTION_IN_16: 0x9e,
  REPORT_LUNS: 0xa0,
} as const;
const SAI_READ_CAPACITY_16 = 0x10;

export const SCSI_DISK_BLOCK_SIZE = 512;

export interface ScsiDiskOptions {
  readonly backend: BlockBackend;
  /** INQUIRY vendor identification (8 ASCII bytes, space padded). Default "VIRTIO". */
  readonly vendor?: string;
  /** INQUIRY product identification (16 ASCII bytes). Default "SCSI DISK". */
  readonly product?: string;
  /** Unit serial number (VPD page 80h). Default the backend's id or "0". */
  readonly serial?: string;
}

const GOOD: ScsiCommandResult = { status: SAM_STAT_GOOD };

function check(key: number, asc: number, ascq: number): ScsiCommandResult {
  return { status: SAM_STAT_CHECK_CONDITION, sense: fixedSense(key, asc, ascq) };
}
const INVALID_OPCODE = () => check(SENSE_ILLEGAL_REQUEST, 0x20, 0x00);
const INVALID_FIELD = () => check(SENSE_ILLEGAL_REQUEST, 0x24, 0x00);
const LBA_OUT_OF_RANGE = () => check(SENSE_ILLEGAL_REQUEST, 0x21, 0x00);

function ascii(s: string, len: number): Uint8Array {
  const b = new Uint8Array(len).fill(0x20);
  for (let i = 0; i < s.length && i < len; i++) b[i] = s.charCodeAt(i) & 0x7f;
  return b;
}

const be32 = (b: Uint8Array, o: number) => ((b[o] << 24) | (b[o + 1] << 16) | (b[o + 2] << 8) | b[o + 3]) >>> 0;
const be16 = (b: Uint8Array, o: number) => (b[o] << 8) | b[o + 1];

export class ScsiDisk implements ScsiLogicalUnit {
  readonly peripheralType = SCSI_TYPE_DISK;
  readonly backend: BlockBackend;
  readonly #vendor: Uint8Array;
  readonly #product: Uint8Array;
  readonly #serial: string;
  /** Pending unit attentions as [asc, ascq], oldest first (no duplicates). */
  readonly #attention: [number, number][] = [];

  constructor(opts: ScsiDiskOptions) {
    this.backend = opts.backend;
    this.#vendor = ascii(opts.vendor ?? 'VIRTIO', 8);
    this.#product = ascii(opts.product ?? 'SCSI DISK', 16);
    this.#serial = opts.serial ?? opts.backend.id ?? '0';
  }

  /** Number of 512-byte logical blocks. */
  get blocks(): number {
    return Math.floor(this.backend.size / SCSI_DISK_BLOCK_SIZE);
  }

  reset(): void {
    this.unitAttention(0x29, 0x00);
  }

  unitAttention(asc: number, ascq: number): void {
    if (!this.#attention.some(([a, q]) => a === asc && q === ascq)) this.#attention.push([asc, ascq]);
  }

  execute(cmd: ScsiCommand): ScsiCommandResult | Promise<ScsiCommandResult> {
    const cdb = cmd.cdb;
    const op = cdb[0];
    if (op === ScsiOp.INQUIRY) return this.#inquiry(cmd);
    if (op === ScsiOp.REQUEST_SENSE) return this.#requestSense(cmd);
    const ua = this.#attention.shift();
    if (ua) return check(SENSE_UNIT_ATTENTION, ua[0], ua[1]);
    switch (op) {
      case ScsiOp.TEST_UNIT_READY:
        return GOOD;
      case ScsiOp.READ_CAPACITY_10:
        return this.#readCapacity10(cmd);
      case ScsiOp.SERVICE_ACTION_IN_16:
        return (cdb[1] & 0x1f) === SAI_READ_CAPACITY_16 ? this.#readCapacity16(cmd) : INVALID_FIELD();
      case ScsiOp.READ_10:
        return this.#rw(cmd, false, be32(cdb, 2), be16(cdb, 7));
      case ScsiOp.READ_16:
        return this.#rw(cmd, false, be32(cdb, 2) * 2 ** 32 + be32(cdb, 6), be32(cdb, 10));
      case ScsiOp.WRITE_10:
        return this.#rw(cmd, true, be32(cdb, 2), be16(cdb, 7));
      case ScsiOp.WRITE_16:
        return this.#rw(cmd, true, be32(cdb, 2) * 2 ** 32 + be32(cdb, 6), be32(cdb, 10));
      case ScsiOp.SYNCHRONIZE_CACHE_10:
      case ScsiOp.SYNCHRONIZE_CACHE_16:
        return this.backend.flush().then(
          () => GOOD,
          () => check(SENSE_MEDIUM_ERROR, 0x0c, 0x00),
        );
      case ScsiOp.MODE_SENSE_6:
        return this.#modeSense(cmd, false);
      case ScsiOp.MODE_SENSE_10:
        return this.#modeSense(cmd, true);
      default:
        return INVALID_OPCODE();
    }
  }

  /** Sends `data` truncated to the allocation length; OVERRUN when datain cannot hold it ([scsi.dev.6]). */
  #dataIn(cmd: ScsiCommand, data: Uint8Array, alloc: number): ScsiCommandResult {
    const n = Math.min(alloc, data.length);
    if (n > cmd.dataInLength) return { response: VIRTIO_SCSI_S_OVERRUN, status: SAM_STAT_GOOD };
    return { status: SAM_STAT_GOOD, dataInWritten: scatterViews(cmd.dataIn, data.subarray(0, n)) };
  }

  #inquiry(cmd: ScsiCommand): ScsiCommandResult {
    const cdb = cmd.cdb;
    const alloc = be16(cdb, 3);
    if (cdb[1] & 0x01) {
      const page = cdb[2];
      if (page === 0x00) return this.#dataIn(cmd, Uint8Array.of(this.peripheralType, 0x00, 0, 2, 0x00, 0x80), alloc);
      if (page === 0x80) {
        const sn = ascii(this.#serial, Math.min(this.#serial.length, 252));
        const d = new Uint8Array(4 + sn.length);
        d[0] = this.peripheralType;
        d[1] = 0x80;
        d[3] = sn.length;
        d.set(sn, 4);
        return this.#dataIn(cmd, d, alloc);
      }
      return INVALID_FIELD();
    }
    if (cdb[2] !== 0) return INVALID_FIELD();
    const d = new Uint8Array(36);
    d[0] = this.peripheralType;
    d[2] = 0x05; // SPC-3
    d[3] = 0x02; // response data format 2
    d[4] = d.length - 5;
    d[7] = 0x02; // CMDQUE
    d.set(this.#vendor, 8);
    d.set(this.#product, 16);
    d.set(ascii('0001', 4), 32);
    return this.#dataIn(cmd, d, alloc);
  }

  #requestSense(cmd: ScsiCommand): ScsiCommandResult {
    const ua = this.#attention.shift();
    const s = ua ? fixedSense(SENSE_UNIT_ATTENTION, ua[0], ua[1]) : fixedSense(SENSE_NO_SENSE, 0, 0);
    return this.#dataIn(cmd, s, cmd.cdb[4]);
  }

  #readCapacity10(cmd: ScsiCommand): ScsiCommandResult {
    const d = new Uint8Array(8);
    const dv = new DataView(d.buffer);
    dv.setUint32(0, Math.min(this.blocks - 1, 0xffffffff) >>> 0);
    if (this.blocks === 0) dv.setUint32(0, 0);
    dv.setUint32(4, SCSI_DISK_BLOCK_SIZE);
    return this.#dataIn(cmd, d, 8);
  }

  #readCapacity16(cmd: ScsiCommand): ScsiCommandResult {
    const d = new Uint8Array(32);
    const dv = new DataView(d.buffer);
    dv.setBigUint64(0, BigInt(Math.max(this.blocks - 1, 0)));
    dv.setUint32(8, SCSI_DISK_BLOCK_SIZE);
    return this.#dataIn(cmd, d, be32(cmd.cdb, 10));
  }

  #modeSense(cmd: ScsiCommand, ten: boolean): ScsiCommandResult {
    const cdb = cmd.cdb;
    const pc = cdb[2] >> 6;
    const page = cdb[2] & 0x3f;
    if (pc === 3) return check(SENSE_ILLEGAL_REQUEST, 0x39, 0x00); // saving parameters not supported
    if (page !== 0x08 && page !== 0x3f) return INVALID_FIELD();
    // Caching mode page: WCE set (completed writes need SYNCHRONIZE CACHE); changeable values all zero.
    const caching = new Uint8Array(20);
    caching[0] = 0x08;
    caching[1] = 18;
    if (pc !== 1) caching[2] = 0x04;
    const hdr = ten ? 8 : 4;
    const d = new Uint8Array(hdr + caching.length);
    d.set(caching, hdr);
    const wp = this.backend.readOnly ? 0x80 : 0;
    if (ten) {
      new DataView(d.buffer).setUint16(0, d.length - 2);
      d[3] = wp;
    } else {
      d[0] = d.length - 1;
      d[2] = wp;
    }
    return this.#dataIn(cmd, d, ten ? be16(cdb, 7) : cdb[4]);
  }

  #rw(cmd: ScsiCommand, write: boolean, lba: number, count: number): ScsiCommandResult | Promise<ScsiCommandResult> {
    if (lba > this.blocks || count > this.blocks - lba) return LBA_OUT_OF_RANGE();
    if (cmd.piOut.length > 0 || cmd.piIn.length > 0) return INVALID_FIELD(); // no protection information
    if (write && this.backend.readOnly) return check(SENSE_DATA_PROTECT, 0x27, 0x00);
    const bytes = count * SCSI_DISK_BLOCK_SIZE;
    if (bytes > (write ? cmd.dataOutLength : cmd.dataInLength)) return { response: VIRTIO_SCSI_S_OVERRUN, status: SAM_STAT_GOOD };
    if (bytes === 0) return GOOD;
    const offset = lba * SCSI_DISK_BLOCK_SIZE;
    if (write) {
      return this.backend.write(offset, sliceViews(cmd.dataOut, bytes)).then(
        (): ScsiCommandResult => ({ status: SAM_STAT_GOOD, dataOutRead: bytes }),
        () => check(SENSE_MEDIUM_ERROR, 0x0c, 0x00),
      );
    }
    return this.backend.read(offset, sliceViews(cmd.dataIn, bytes)).then(
      (): ScsiCommandResult => ({ status: SAM_STAT_GOOD, dataInWritten: bytes }),
      () => check(SENSE_MEDIUM_ERROR, 0x11, 0x00),
    );
  }
}
