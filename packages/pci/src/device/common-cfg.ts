/**
 * struct virtio_pci_common_cfg (spec 4.1.4.3) on top of core's VirtioTransportState: one flat
 * switch over the field offsets, in the order of the spec's listing. Each field answers only
 * to its own width at its own offset (64-bit fields as two 32-bit halves, spec 4.1.3.1);
 * anything else reads 0 / is ignored and counted. Writes to read-only fields are counted.
 */
import {
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  hasFeature,
  type QueueArea,
  type QueueState,
  type VirtioTransportState,
} from '@virtio/core';
import type { MutableCounters } from './counters.js';
import type { ConfigGeneration } from './generation.js';
import type { VectorMap } from './vectors.js';
import { COMMON_CFG, VIRTIO_MSI_NO_VECTOR } from '../protocol.js';

/** Width of each field, by offset (64-bit fields: their two 32-bit halves). */
const FIELD_WIDTH = new Map<number, 1 | 2 | 4>([
  [COMMON_CFG.device_feature_select, 4],
  [COMMON_CFG.device_feature, 4],
  [COMMON_CFG.driver_feature_select, 4],
  [COMMON_CFG.driver_feature, 4],
  [COMMON_CFG.config_msix_vector, 2],
  [COMMON_CFG.num_queues, 2],
  [COMMON_CFG.device_status, 1],
  [COMMON_CFG.config_generation, 1],
  [COMMON_CFG.queue_select, 2],
  [COMMON_CFG.queue_size, 2],
  [COMMON_CFG.queue_msix_vector, 2],
  [COMMON_CFG.queue_enable, 2],
  [COMMON_CFG.queue_notify_off, 2],
  [COMMON_CFG.queue_desc, 4],
  [COMMON_CFG.queue_desc + 4, 4],
  [COMMON_CFG.queue_driver, 4],
  [COMMON_CFG.queue_driver + 4, 4],
  [COMMON_CFG.queue_device, 4],
  [COMMON_CFG.queue_device + 4, 4],
  [COMMON_CFG.queue_notif_config_data, 2],
  [COMMON_CFG.queue_reset, 2],
  [COMMON_CFG.admin_queue_index, 2],
  [COMMON_CFG.admin_queue_num, 2],
]);

const isPow2 = (n: number): boolean => n > 0 && (n & (n - 1)) === 0;

/** The queue address field at `offset`: area and half, or undefined. */
function addressField(offset: number): [QueueArea, 0 | 1] | undefined {
  if (offset < COMMON_CFG.queue_desc || offset >= COMMON_CFG.queue_device + 8) return undefined;
  const rel = offset - COMMON_CFG.queue_desc;
  const area: QueueArea = rel < 8 ? 'desc' : rel < 16 ? 'driver' : 'device';
  return [area, ((rel % 8) / 4) as 0 | 1];
}

export interface CommonCfgDeps {
  readonly state: VirtioTransportState;
  readonly vectors: VectorMap;
  readonly generation: ConfigGeneration;
  readonly counters: MutableCounters;
  /** Called after the driver wrote 0 to device_status and core reset (ISR, selectors ...). */
  readonly onReset: () => void;
}

export class CommonCfg {
  readonly #d: CommonCfgDeps;
  #deviceFeatureSelect = 0;
  #driverFeatureSelect = 0;
  #queueSelect = 0;

  constructor(deps: CommonCfgDeps) {
    this.#d = deps;
  }

  /** The queue queue_select currently names, if the device has it. */
  get selectedQueue(): QueueState | undefined {
    return this.#d.state.queue(this.#queueSelect);
  }

  /** Device reset: the selectors return to 0. */
  reset(): void {
    this.#deviceFeatureSelect = 0;
    this.#driverFeatureSelect = 0;
    this.#queueSelect = 0;
  }

  read(offset: number, width: number): number {
    if (FIELD_WIDTH.get(offset) !== width) {
      this.#d.counters.ignoredReads++;
      return 0;
    }
    const { state, vectors } = this.#d;
    const q = this.selectedQueue;
    switch (offset) {
      case COMMON_CFG.device_feature_select:
        return this.#deviceFeatureSelect;
      case COMMON_CFG.device_feature:
        return state.deviceFeatureWord(this.#deviceFeatureSelect);
      case COMMON_CFG.driver_feature_select:
        return this.#driverFeatureSelect;
      case COMMON_CFG.driver_feature:
        // Valid bits are the offered ones; invalid bits written by the driver are not presented.
        return (state.driverFeatureWord(this.#driverFeatureSelect) & state.deviceFeatureWord(this.#driverFeatureSelect)) >>> 0;
      case COMMON_CFG.config_msix_vector:
        return vectors.config;
      case COMMON_CFG.num_queues:
        return state.numQueues;
      case COMMON_CFG.device_status:
        // [pci.dev.13] the old status until the device finished resetting, 0 only then.
        return state.status;
      case COMMON_CFG.config_generation:
        return this.#d.generation.read();
      case COMMON_CFG.queue_select:
        return this.#queueSelect;
      case COMMON_CFG.queue_size:
        return q ? this.#presentedSize(q) : 0;
      case COMMON_CFG.queue_msix_vector:
        return q ? vectors.queue(q.index) : VIRTIO_MSI_NO_VECTOR;
      case COMMON_CFG.queue_enable:
        return q?.enabled ? 1 : 0;
      case COMMON_CFG.queue_notify_off:
        // Queue n notifies at notify.offset + n * notify_off_multiplier.
        return q ? q.index : 0;
      case COMMON_CFG.queue_notif_config_data:
        // The trivial choice of spec 4.1.4.3: the virtqueue index.
        return q ? q.index : 0;
      case COMMON_CFG.queue_reset:
        // [pci.dev.17] 1 while the queue reset is under way; then 0, and queue_enable 0 too.
        return q?.resetting ? 1 : 0;
      case COMMON_CFG.admin_queue_index:
        // No administration virtqueues: the index is the first after the regular queues.
        return state.numQueues;
      case COMMON_CFG.admin_queue_num:
        return 0;
      default: {
        const field = addressField(offset);
        return field && q ? q.addressHalf(field[0], field[1]) : 0;
      }
    }
  }

  write(offset: number, width: number, value: number): void {
    if (FIELD_WIDTH.get(offset) !== width) {
      this.#d.counters.ignoredWrites++;
      return;
    }
    const { state, vectors, counters } = this.#d;
    if (state.resetPending) {
      // While the device resets, the driver may only read device_status (spec 2.4).
      counters.ignoredWrites++;
      return;
    }
    const q = this.selectedQueue;
    const v = value >>> 0;
    switch (offset) {
      case COMMON_CFG.device_feature_select:
        this.#deviceFeatureSelect = v;
        return;
      case COMMON_CFG.driver_feature_select:
        this.#driverFeatureSelect = v;
        return;
      case COMMON_CFG.driver_feature:
        state.writeDriverFeatureWord(this.#driverFeatureSelect, v);
        return;
      case COMMON_CFG.config_msix_vector:
        vectors.setConfig(v);
        return;
      case COMMON_CFG.device_status:
        state.writeStatus(v);
        if (v === 0) this.#d.onReset();
        return;
      case COMMON_CFG.queue_select:
        this.#queueSelect = v;
        return;
      case COMMON_CFG.queue_size:
        this.#writeSize(q, v);
        return;
      case COMMON_CFG.queue_msix_vector:
        if (q && !q.resetting) vectors.setQueue(q.index, v);
        else counters.ignoredWrites++;
        return;
      case COMMON_CFG.queue_enable:
        // Writing 0 is not allowed to the driver (spec 4.1.4.3.2); only 1 enables.
        if (v === 1 && q) {
          // The size the driver saw is the size the queue gets.
          if (!q.enabled && q.size !== this.#presentedSize(q)) q.setSize(this.#presentedSize(q));
          state.enableQueue(q.index);
        } else counters.ignoredWrites++;
        return;
      case COMMON_CFG.queue_reset:
        // Only with VIRTIO_F_RING_RESET; the queue, its vector included, returns to its reset
        // state. The vector is unmapped at once: nothing of the queue may interrupt any more.
        if (v === 1 && q && !q.resetting && hasFeature(state.negotiatedFeatures, VIRTIO_F_RING_RESET)) {
          state.resetQueue(q.index);
          vectors.setQueue(q.index, VIRTIO_MSI_NO_VECTOR);
        } else counters.ignoredWrites++;
        return;
      default: {
        const field = addressField(offset);
        if (field && q) q.setAddressHalf(field[0], field[1], v);
        else counters.ignoredWrites++; // read-only fields, or no such queue
      }
    }
  }

  #packed(): boolean {
    return hasFeature(this.#d.state.negotiatedFeatures, VIRTIO_F_RING_PACKED);
  }

  #writeSize(q: QueueState | undefined, size: number): void {
    // Without VIRTIO_F_RING_PACKED only powers of two are sizes (spec 4.1.4.3.1).
    if (!q || q.maxSize === 0 || (!this.#packed() && !isPow2(size))) {
      this.#d.counters.ignoredWrites++;
      return;
    }
    q.setSize(size);
  }

  /**
   * queue_size as presented: 0 for an unavailable queue, and without VIRTIO_F_RING_PACKED a
   * power of two, so a device whose maximum is not one offers the largest power of two below.
   */
  #presentedSize(q: QueueState): number {
    if (q.maxSize === 0) return 0;
    if (!this.#packed() && !isPow2(q.size)) return 2 ** Math.floor(Math.log2(q.size));
    return q.size;
  }
}
