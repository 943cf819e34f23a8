/**
 * struct virtio_scsi_config (spec 5.6.4), little-endian. Only `sense_size` and `cdb_size` are
 * writable; both return to their defaults (96, 32) at reset ([scsi.dev.1]).
 */
import { VIRTIO_SCSI_CDB_SIZE_DEFAULT, VIRTIO_SCSI_EVENT_SIZE, VIRTIO_SCSI_SENSE_SIZE_DEFAULT } from './protocol.js';

/** Byte offsets of the configuration fields. */
export const ScsiConfigOffset = {
  num_queues: 0,
  seg_max: 4,
  max_sectors: 8,
  cmd_per_lun: 12,
  event_info_size: 16,
  sense_size: 20,
  cdb_size: 24,
  max_channel: 28,
  max_target: 30,
  max_lun: 32,
} as const;

export const VIRTIO_SCSI_CONFIG_SIZE = 36;
/** Largest sense_size / cdb_size the device accepts from the driver, in bytes (larger writes are ignored). */
export const VIRTIO_SCSI_MAX_SENSE_OR_CDB = 4096;

export interface ScsiConfigFields {
  readonly numQueues: number;
  readonly segMax: number;
  readonly maxSectors: number;
  readonly cmdPerLun: number;
  readonly maxTarget: number;
  readonly maxLun: number;
}

export class ScsiConfigSpace {
  readonly #bytes = new Uint8Array(VIRTIO_SCSI_CONFIG_SIZE);
  readonly #dv = new DataView(this.#bytes.buffer);

  constructor(f: ScsiConfigFields) {
    const dv = this.#dv;
    dv.setUint32(ScsiConfigOffset.num_queues, f.numQueues, true);
    dv.setUint32(ScsiConfigOffset.seg_max, f.segMax, true);
    dv.setUint32(ScsiConfigOffset.max_sectors, f.maxSectors, true);
    dv.setUint32(ScsiConfigOffset.cmd_per_lun, f.cmdPerLun, true);
    dv.setUint32(ScsiConfigOffset.event_info_size, VIRTIO_SCSI_EVENT_SIZE, true);
    dv.setUint16(ScsiConfigOffset.max_channel, 0, true);
    dv.setUint16(ScsiConfigOffset.max_target, f.maxTarget, true);
    dv.setUint32(ScsiConfigOffset.max_lun, f.maxLun, true);
    this.reset();
  }

  /** Restores sense_size and cdb_size to 96 and 32 ([scsi.dev.1]). */
  reset(): void {
    this.#dv.setUint32(ScsiConfigOffset.sense_size, VIRTIO_SCSI_SENSE_SIZE_DEFAULT, true);
    this.#dv.setUint32(ScsiConfigOffset.cdb_size, VIRTIO_SCSI_CDB_SIZE_DEFAULT, true);
  }

  get senseSize(): number {
    return this.#dv.getUint32(ScsiConfigOffset.sense_size, true);
  }

  get cdbSize(): number {
    return this.#dv.getUint32(ScsiConfigOffset.cdb_size, true);
  }

  read(offset: number, width: 1 | 2 | 4): number {
    if (offset < 0 || offset + width > VIRTIO_SCSI_CONFIG_SIZE) return 0;
    if (width === 1) return this.#bytes[offset];
    if (width === 2) return this.#dv.getUint16(offset, true);
    return this.#dv.getUint32(offset, true);
  }

  /** Accepts 32-bit writes of sense_size and cdb_size up to {@link VIRTIO_SCSI_MAX_SENSE_OR_CDB}; ignores everything else. */
  write(offset: number, width: 1 | 2 | 4, value: number): void {
    if (width !== 4 || (offset !== ScsiConfigOffset.sense_size && offset !== ScsiConfigOffset.cdb_size)) return;
    if (value >>> 0 > VIRTIO_SCSI_MAX_SENSE_OR_CDB) return;
    this.#dv.setUint32(offset, value >>> 0, true);
  }
}
