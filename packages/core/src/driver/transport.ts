/**
 * What the driver side needs from a transport (spec 4.x "...-specific Initialization And Device
 * Operation"): the driver initialization sequence (spec 3.1.1) is written once over it.
 * Each transport package ships an implementation (e.g. @virtio/mmio's MmioDriverTransport).
 */
import type { QueueConfig } from '@virtio/ring';
import type { TransportKind } from '../transport/feature-rules.js';

/** Why the device interrupted: a used buffer notification, a configuration change, or both. */
export interface InterruptCauses {
  readonly usedBuffer: boolean;
  readonly configChange: boolean;
}

export interface DriverTransport {
  /** The transport; decides which reserved feature bits the driver may accept. */
  readonly kind: TransportKind;
  /** Reads device status. */
  getStatus(): number;
  /** Writes device status (0 resets the device). */
  setStatus(status: number): void;
  /** Reads all offered feature bits (up to 128). */
  readDeviceFeatures(): bigint;
  /** Writes the accepted feature bits (up to 128). */
  writeDriverFeatures(features: bigint): void;
  /** Maximum size of queue `index`; 0 when the queue does not exist. */
  queueMaxSize(index: number): number;
  /** Writes queue `index`'s size and area addresses (from `config`) and enables it. */
  setupQueue(index: number, config: QueueConfig): void;
  /** Reads back whether queue `index` is enabled. */
  queueEnabled(index: number): boolean;
  /**
   * VIRTIO_F_RING_RESET: asks the device to reset queue `index`.
   * @returns true once the device reports the reset complete (and the queue disabled).
   */
  resetQueue(index: number): boolean;
  /** Sends an available buffer notification for queue `index` (`data`: VIRTIO_F_NOTIFICATION_DATA value). */
  notify(index: number, data?: number): void;
  /** Reads `width` bytes of the device configuration space at `offset`, little-endian. */
  readConfig(offset: number, width: 1 | 2 | 4): number;
  /** Writes `width` bytes of the device configuration space at `offset`, little-endian. */
  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void;
  /** Reads the configuration generation. */
  configGeneration(): number;
  /** After an interrupt: reads what caused it and acknowledges those causes. */
  takeInterrupt(): InterruptCauses;
}
