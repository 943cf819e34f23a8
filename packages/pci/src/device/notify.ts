/**
 * The notification structure (spec 4.1.4.4, 4.1.5.2): queue n's Queue Notify address is
 * cap.offset + queue_notify_off * notify_off_multiplier, with queue_notify_off = n. The
 * driver writes the 16-bit virtqueue index there, or with VIRTIO_F_NOTIFICATION_DATA the
 * 32-bit notification value whose low 16 bits are the index (queue_notif_config_data is the
 * index too, so VIRTIO_F_NOTIF_CONFIG_DATA changes nothing).
 */
import type { VirtioTransportState } from '@virtio/core';
import type { MutableCounters } from './counters.js';

export class NotifyArea {
  readonly #state: VirtioTransportState;
  readonly #multiplier: number;
  readonly #counters: MutableCounters;

  constructor(state: VirtioTransportState, multiplier: number, counters: MutableCounters) {
    this.#state = state;
    this.#multiplier = multiplier;
    this.#counters = counters;
  }

  /**
   * A driver write at byte `rel` of the notification structure. Ignored (counted) when the
   * width does not match the negotiated notification size, or the address is not the named
   * queue's Queue Notify address.
   */
  write(rel: number, width: number, value: number): void {
    const data = this.#state.notificationData;
    const index = value & 0xffff;
    if (width !== (data ? 4 : 2) || rel !== index * this.#multiplier) {
      this.#counters.ignoredWrites++;
      return;
    }
    this.#state.notify(index, data ? value >>> 0 : undefined);
  }
}
