/**
 * The VIRTIO_F_NOTIFICATION_DATA value of an available buffer notification (spec 2.9
 * "Driver Notifications", notifications-le.c):
 * `le32 { vq_index: 16; next_off: 15; next_wrap: 1; }`.
 */
export interface NotificationData {
  /** Virtqueue index, or vq_notif_config_data when VIRTIO_F_NOTIF_CONFIG_DATA was negotiated. */
  readonly vqIndex: number;
  /** Split: the 15 low bits of the available index. Packed: offset of the next available descriptor. */
  readonly nextOff: number;
  /** Split: bit 15 of the available index. Packed: the driver's wrap counter. */
  readonly nextWrap: 0 | 1;
}

/** Decodes a 32-bit notification value (bits above 31 are ignored). */
export function decodeNotificationData(value: number): NotificationData {
  const v = value >>> 0;
  return { vqIndex: v & 0xffff, nextOff: (v >>> 16) & 0x7fff, nextWrap: (v >>> 31) as 0 | 1 };
}

/** Encodes a notification value; each field is truncated to its width. */
export function encodeNotificationData(data: NotificationData): number {
  return ((data.vqIndex & 0xffff) | ((data.nextOff & 0x7fff) << 16) | ((data.nextWrap & 1) << 31)) >>> 0;
}
