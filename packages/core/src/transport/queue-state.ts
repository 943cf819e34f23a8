/**
 * The transport-side configuration of one virtqueue (spec 4.x "Virtqueue Configuration"):
 * size and the three area addresses the driver writes before enabling the queue.
 */
import type { TransportCounters } from './counters.js';

/** The three parts of a virtqueue (spec 2.6): descriptor area, driver area, device area. */
export type QueueArea = 'desc' | 'driver' | 'device';

const AREA_INDEX: Record<QueueArea, number> = { desc: 0, driver: 1, device: 2 };

/**
 * One queue's configuration. Setters return false and count an ignored write when the spec
 * does not allow the change: while the queue is enabled, while a device reset is under way,
 * or a size outside 1..maxSize.
 */
export class QueueState {
  /** Largest size the device accepts (QueueSizeMax / queue_size at reset); 0 = queue unavailable. */
  readonly maxSize: number;
  readonly index: number;
  readonly #counters: TransportCounters;
  #size: number;
  /** Low and high 32-bit halves of desc, driver and device addresses. */
  readonly #addr = new Uint32Array(6);
  #enabled = false;
  #resetting = false;
  #frozen = false;

  constructor(index: number, maxSize: number, counters: TransportCounters) {
    this.index = index;
    this.maxSize = maxSize;
    this.#size = maxSize;
    this.#counters = counters;
  }

  /** Queue size (number of descriptors) the driver chose; defaults to maxSize. */
  get size(): number {
    return this.#size;
  }
  /** Descriptor area (split: descriptor table; packed: descriptor ring), guest-physical. May exceed 2^53 if the driver wrote garbage. */
  get descTable(): number {
    return this.address('desc');
  }
  /** Driver area (split: available ring; packed: driver event suppression), guest-physical. */
  get driverArea(): number {
    return this.address('driver');
  }
  /** Device area (split: used ring; packed: device event suppression), guest-physical. */
  get deviceArea(): number {
    return this.address('device');
  }
  /** Whether the driver enabled the queue (QueueReady / queue_enable). */
  get enabled(): boolean {
    return this.#enabled;
  }

  /**
   * A queue reset (VIRTIO_F_RING_RESET) is under way: the device has not yet confirmed that
   * nothing from before it can touch guest memory. Transports present 1 in queue_reset /
   * QueueReset while true ([pci.dev.17], [mmio.dev.9]); the queue still reads enabled.
   */
  get resetting(): boolean {
    return this.#resetting;
  }

  /** The 64-bit address of `area` as a number (inexact above 2^53: such addresses are outside any memory). */
  address(area: QueueArea): number {
    const i = AREA_INDEX[area] * 2;
    return this.#addr[i + 1] * 0x1_0000_0000 + this.#addr[i];
  }

  /** One 32-bit half (0 = low, 1 = high) of an area address, as transports with 32-bit registers expose it. */
  addressHalf(area: QueueArea, half: 0 | 1): number {
    return this.#addr[AREA_INDEX[area] * 2 + half];
  }

  /** Sets the queue size. Ignored (false) while enabled or outside 1..maxSize. */
  setSize(size: number): boolean {
    if (this.#locked() || !Number.isInteger(size) || size < 1 || size > this.maxSize) return this.#ignore();
    this.#size = size;
    return true;
  }

  /** Sets a whole area address (a non-negative integer below 2^64). Ignored (false) while enabled. */
  setAddress(area: QueueArea, addr: number): boolean {
    if (this.#locked() || !Number.isInteger(addr) || addr < 0 || addr >= 2 ** 64) return this.#ignore();
    const i = AREA_INDEX[area] * 2;
    this.#addr[i] = addr % 0x1_0000_0000;
    this.#addr[i + 1] = Math.floor(addr / 0x1_0000_0000);
    return true;
  }

  /** Sets one 32-bit half of an area address (value taken as u32). Ignored (false) while enabled. */
  setAddressHalf(area: QueueArea, half: 0 | 1, value: number): boolean {
    if (this.#locked()) return this.#ignore();
    this.#addr[AREA_INDEX[area] * 2 + half] = value >>> 0;
    return true;
  }

  /** @internal Used by VirtioTransportState, which owns enabling. */
  setEnabled(enabled: boolean): void {
    this.#enabled = enabled;
  }

  /** @internal A queue reset started (true) or completed (false). */
  setResetting(resetting: boolean): void {
    this.#resetting = resetting;
  }

  /** @internal A device reset is under way: the configuration takes no writes until {@link clear}. */
  freeze(): void {
    this.#frozen = true;
  }

  /** @internal Back to the reset values: disabled, size = maxSize, addresses 0, writable. */
  clear(): void {
    this.#enabled = false;
    this.#resetting = false;
    this.#frozen = false;
    this.#size = this.maxSize;
    this.#addr.fill(0);
  }

  #locked(): boolean {
    return this.#enabled || this.#frozen;
  }

  #ignore(): false {
    this.#counters.ignoredWrites++;
    return false;
  }
}
