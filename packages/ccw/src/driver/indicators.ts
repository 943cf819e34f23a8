/**
 * Driver-side indicators: the guest memory the device sets bits in (spec 4.3.2.6), allocated
 * once per driver, and their consumption when an interrupt arrives. Bits are taken with
 * Atomics so none set concurrently by the device is lost.
 */
import type { GuestAllocator, GuestMemory } from '@virtio/ring';

/** Queue indicators cover queues 0..63 (one 64-bit value, or 64 adapter bits). */
export const DRIVER_INDICATOR_QUEUES = 64;

export class DriverIndicators {
  /** Classic queue indicators: a big-endian u64, bit n (from the least significant) = queue n. */
  readonly queueAddr: number;
  /** Configuration change indicators: a big-endian u64, bit 0. */
  readonly configAddr: number;
  /** Adapter summary indicator byte. */
  readonly summaryAddr: number;
  /** Adapter queue indicator bits: bit n, counted from the most significant bit of the first byte, = queue n. */
  readonly adapterAddr: number;
  readonly #queue: Uint8Array;
  readonly #config: Uint8Array;
  readonly #summary: Uint8Array;
  readonly #adapter: Uint8Array;

  /** @throws Error from the allocator; GuestMemoryError when it hands out memory crossing a region */
  constructor(memory: GuestMemory, allocator: GuestAllocator) {
    this.queueAddr = allocator.alloc(8, 8);
    this.configAddr = allocator.alloc(8, 8);
    this.summaryAddr = allocator.alloc(1, 1);
    this.adapterAddr = allocator.alloc(DRIVER_INDICATOR_QUEUES / 8, 8);
    this.#queue = memory.view(this.queueAddr, 8);
    this.#config = memory.view(this.configAddr, 8);
    this.#summary = memory.view(this.summaryAddr, 1);
    this.#adapter = memory.view(this.adapterAddr, DRIVER_INDICATOR_QUEUES / 8);
    this.clear();
  }

  /** Zeroes every indicator (before registering them with the device). */
  clear(): void {
    this.#queue.fill(0);
    this.#config.fill(0);
    this.#summary.fill(0);
    this.#adapter.fill(0);
  }

  /**
   * After an adapter interrupt: clears the summary indicator first, then takes the queue
   * bits ([ccw.drv.9]: the summary is cleared before the queue indicators are processed).
   * @returns queue n's bit as bit n of the result (0 when no queue had used buffers)
   */
  takeAdapter(): bigint {
    Atomics.store(this.#summary, 0, 0);
    let bits = 0n;
    for (let i = 0; i < this.#adapter.length; i++) {
      const b = Atomics.exchange(this.#adapter, i, 0);
      if (b === 0) continue;
      for (let j = 0; j < 8; j++) if (b & (0x80 >>> j)) bits |= 1n << BigInt(i * 8 + j);
    }
    return bits;
  }

  /** Takes the classic queue indicators: bit n = queue n. */
  takeQueues(): bigint {
    return takeU64(this.#queue);
  }

  /** Takes the configuration change indicator. */
  takeConfig(): boolean {
    return (takeU64(this.#config) & 1n) !== 0n;
  }
}

/** Atomically clears a big-endian u64 byte by byte and returns the bits it held. */
function takeU64(bytes: Uint8Array): bigint {
  let hi = 0;
  let lo = 0;
  for (let i = 0; i < 4; i++) hi = hi * 256 + Atomics.exchange(bytes, i, 0);
  for (let i = 4; i < 8; i++) lo = lo * 256 + Atomics.exchange(bytes, i, 0);
  return hi === 0 && lo === 0 ? 0n : (BigInt(hi) << 32n) | BigInt(lo);
}
