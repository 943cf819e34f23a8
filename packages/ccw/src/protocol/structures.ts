/**
 * The communication structures of spec 4.3.2, their sizes in bytes, and codecs over a
 * DataView. S/390 is big-endian, so every field is big-endian except
 * `virtio_feature_desc.features`, which the spec declares le32.
 * Decoders never throw: the caller checks the buffer holds the structure's size.
 * 64-bit guest addresses decode as bigint; the transport bounds them before use.
 */

/** struct virtio_feature_desc { le32 features; u8 index; } — exactly 5 bytes (spec 4.3.2.4). */
export const VIRTIO_FEATURE_DESC_SIZE = 5;
export interface VirtioFeatureDesc {
  /** 32 feature bits, bit 0 = feature (32 * index). */
  readonly features: number;
  /** Which 32-bit word of the feature bits. */
  readonly index: number;
}
export function decodeFeatureDesc(v: DataView, o = 0): VirtioFeatureDesc {
  return { features: v.getUint32(o, true), index: v.getUint8(o + 4) };
}
export function encodeFeatureDesc(v: DataView, d: VirtioFeatureDesc, o = 0): void {
  v.setUint32(o, d.features >>> 0, true);
  v.setUint8(o + 4, d.index);
}

/** struct vq_config_block { be16 index; be16 max_queue_size; } (spec 4.3.2.2). */
export const VQ_CONFIG_BLOCK_SIZE = 4;
export interface VqConfigBlock {
  readonly index: number;
  readonly maxQueueSize: number;
}
export function decodeVqConfigBlock(v: DataView, o = 0): VqConfigBlock {
  return { index: v.getUint16(o), maxQueueSize: v.getUint16(o + 2) };
}
export function encodeVqConfigBlock(v: DataView, b: VqConfigBlock, o = 0): void {
  v.setUint16(o, b.index);
  v.setUint16(o + 2, b.maxQueueSize);
}

/**
 * struct vq_info_block { be64 desc; be32 res0; be16 index; be16 size; be64 driver; be64 device; }
 * (spec 4.3.2.2), 32 bytes. Addresses are guest-physical: descriptor area, driver area
 * (available ring), device area (used ring). `desc` 0 deactivates the queue.
 */
export const VQ_INFO_BLOCK_SIZE = 32;
export interface VqInfoBlock {
  readonly desc: bigint;
  readonly res0: number;
  readonly index: number;
  readonly size: number;
  readonly driver: bigint;
  readonly device: bigint;
}
export function decodeVqInfoBlock(v: DataView, o = 0): VqInfoBlock {
  return {
    desc: v.getBigUint64(o),
    res0: v.getUint32(o + 8),
    index: v.getUint16(o + 12),
    size: v.getUint16(o + 14),
    driver: v.getBigUint64(o + 16),
    device: v.getBigUint64(o + 24),
  };
}
export function encodeVqInfoBlock(v: DataView, b: VqInfoBlock, o = 0): void {
  v.setBigUint64(o, b.desc);
  v.setUint32(o + 8, b.res0);
  v.setUint16(o + 12, b.index);
  v.setUint16(o + 14, b.size);
  v.setBigUint64(o + 16, b.driver);
  v.setBigUint64(o + 24, b.device);
}

/**
 * struct vq_info_block_legacy { be64 queue; be32 align; be16 index; be16 size; } (spec 4.3.2.2.1),
 * 16 bytes, used with revision 0. The queue follows the legacy layout (spec 2.7.2): descriptor
 * table at `queue`, available ring right after it, used ring at the next `align` boundary.
 */
export const VQ_INFO_BLOCK_LEGACY_SIZE = 16;
export interface VqInfoBlockLegacy {
  readonly queue: bigint;
  readonly align: number;
  readonly index: number;
  readonly size: number;
}
export function decodeVqInfoBlockLegacy(v: DataView, o = 0): VqInfoBlockLegacy {
  return { queue: v.getBigUint64(o), align: v.getUint32(o + 8), index: v.getUint16(o + 12), size: v.getUint16(o + 14) };
}
export function encodeVqInfoBlockLegacy(v: DataView, b: VqInfoBlockLegacy, o = 0): void {
  v.setBigUint64(o, b.queue);
  v.setUint32(o + 8, b.align);
  v.setUint16(o + 12, b.index);
  v.setUint16(o + 14, b.size);
}

/** struct virtio_rev_info { be16 revision; be16 length; u8 data[]; } header, 4 bytes (spec 4.3.2.1). */
export const VIRTIO_REV_INFO_SIZE = 4;
export interface VirtioRevInfo {
  readonly revision: number;
  /** Length in bytes of the revision-dependent data that follows the header. */
  readonly length: number;
}
export function decodeRevInfo(v: DataView, o = 0): VirtioRevInfo {
  return { revision: v.getUint16(o), length: v.getUint16(o + 2) };
}
export function encodeRevInfo(v: DataView, r: VirtioRevInfo, o = 0): void {
  v.setUint16(o, r.revision);
  v.setUint16(o + 2, r.length);
}

/**
 * struct virtio_thinint_area { be64 summary_indicator; be64 indicator; be64 bit_nr; u8 isc; }
 * packed, exactly 25 bytes (spec 4.3.2.6.3). Guest-physical addresses of the summary
 * indicator byte and of the queue indicator area; `bitNr` is the first queue's bit,
 * counted from the most significant bit of the area's first byte.
 */
export const VIRTIO_THININT_AREA_SIZE = 25;
export interface VirtioThinintArea {
  readonly summaryIndicator: bigint;
  readonly indicator: bigint;
  readonly bitNr: bigint;
  /** I/O interruption subclass (0-7) of the adapter interrupt. */
  readonly isc: number;
}
export function decodeThinintArea(v: DataView, o = 0): VirtioThinintArea {
  return {
    summaryIndicator: v.getBigUint64(o),
    indicator: v.getBigUint64(o + 8),
    bitNr: v.getBigUint64(o + 16),
    isc: v.getUint8(o + 24),
  };
}
export function encodeThinintArea(v: DataView, a: VirtioThinintArea, o = 0): void {
  v.setBigUint64(o, a.summaryIndicator);
  v.setBigUint64(o + 8, a.indicator);
  v.setBigUint64(o + 16, a.bitNr);
  v.setUint8(o + 24, a.isc);
}

/** Payload of CCW_CMD_SET_IND / CCW_CMD_SET_CONF_IND: the be64 guest address of the indicators. */
export const INDICATOR_ADDRESS_SIZE = 8;

/** Payload of CCW_CMD_WRITE_STATUS / CCW_CMD_READ_STATUS: the 8-bit device status. */
export const STATUS_SIZE = 1;

/** SENSE ID data: 256 bytes (spec 4.3.1 table). */
export const SENSE_ID_SIZE = 256;
export interface SenseId {
  /** Control unit type, 0x3832 for virtio-ccw. */
  readonly cuType: number;
  /** Control unit model: the virtio device ID. */
  readonly cuModel: number;
  /** Device type: unset (0) for virtio-ccw; drivers ignore it. */
  readonly devType: number;
  /** Device model: unset (0) for virtio-ccw; drivers ignore it. */
  readonly devModel: number;
}
export function encodeSenseId(v: DataView, s: SenseId, o = 0): void {
  v.setUint8(o, 0xff);
  v.setUint16(o + 1, s.cuType);
  v.setUint8(o + 3, s.cuModel);
  v.setUint16(o + 4, s.devType);
  v.setUint8(o + 6, s.devModel);
}
export function decodeSenseId(v: DataView, o = 0): SenseId {
  return { cuType: v.getUint16(o + 1), cuModel: v.getUint8(o + 3), devType: v.getUint16(o + 4), devModel: v.getUint8(o + 6) };
}

/** BASIC SENSE data: 32 bytes; byte 0 bit 0x80 is "command reject". */
export const BASIC_SENSE_SIZE = 32;
