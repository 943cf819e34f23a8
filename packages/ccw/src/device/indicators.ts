/**
 * Host->guest indicators (spec 4.3.2.6, 4.3.3.1): the bits the device sets in guest memory
 * before it raises an interrupt. Views are resolved once, when the driver sets them up, and
 * updated with Atomics so a guest CPU clearing bits concurrently loses none.
 */
import type { GuestMemory } from '@virtio/ring';

/** A view of `[addr, addr + len)` when it lies in one region of guest memory, else null (never throws). */
function resolveView(memory: GuestMemory, addr: bigint, len: number): Uint8Array | null {
  if (addr > BigInt(Number.MAX_SAFE_INTEGER)) return null;
  const a = Number(addr);
  if (!memory.contains(a, len)) return null;
  try {
    return memory.view(a, len);
  } catch {
    // The range crosses a region boundary: not a usable indicator location.
    return null;
  }
}

/**
 * Classic indicators: a big-endian 64-bit value in guest memory, bit n (counted from the least
 * significant bit) for queue n; the configuration indicators use bit 0 (spec 4.3.3.1.1).
 */
export class ClassicIndicators {
  readonly #bytes: Uint8Array;
  /** Guest-physical address of the 64-bit indicator value. */
  readonly address: number;

  private constructor(bytes: Uint8Array, address: number) {
    this.#bytes = bytes;
    this.address = address;
  }

  /** The indicators at `address`, or null when its 8 bytes are not usable guest memory. */
  static at(memory: GuestMemory, address: bigint): ClassicIndicators | null {
    const bytes = resolveView(memory, address, 8);
    return bytes && new ClassicIndicators(bytes, Number(address));
  }

  /** Sets bit `bit` (0-63). */
  set(bit: number): void {
    Atomics.or(this.#bytes, 7 - (bit >>> 3), 1 << (bit & 7));
  }
}

/**
 * Two-stage (adapter) indicators: a summary indicator byte and one bit per queue in an
 * indicator area starting at bit `bitNr`, bits numbered from the most significant bit of the
 * first byte (spec 4.3.2.6.3, 4.3.3.1.2).
 */
export class AdapterIndicators {
  readonly #summary: Uint8Array;
  readonly #bits: Uint8Array;
  /** Bit number of queue 0 inside `#bits` (0-7: the view starts at the byte holding it). */
  readonly #firstBit: number;
  /** I/O interruption subclass of the adapter interrupt. */
  readonly isc: number;

  private constructor(summary: Uint8Array, bits: Uint8Array, firstBit: number, isc: number) {
    this.#summary = summary;
    this.#bits = bits;
    this.#firstBit = firstBit;
    this.isc = isc;
  }

  /**
   * The indicators of a virtio_thinint_area, covering `numQueues` queues; null when the
   * summary byte or the queue bits are not usable guest memory or `isc` is above 7.
   */
  static at(
    memory: GuestMemory,
    area: { summaryIndicator: bigint; indicator: bigint; bitNr: bigint; isc: number },
    numQueues: number,
  ): AdapterIndicators | null {
    if (area.isc > 7) return null;
    const summary = resolveView(memory, area.summaryIndicator, 1);
    const firstByte = area.indicator + area.bitNr / 8n;
    const firstBit = Number(area.bitNr % 8n);
    const bits = resolveView(memory, firstByte, Math.max(1, Math.ceil((firstBit + numQueues) / 8)));
    return summary && bits && new AdapterIndicators(summary, bits, firstBit, area.isc);
  }

  /**
   * Sets the bit of queue `queueIndex` and the summary indicator to 0x01.
   * @returns whether the summary indicator was clear before: only then is an adapter
   * interrupt due ([ccw.dev.12]).
   */
  set(queueIndex: number): boolean {
    const bit = this.#firstBit + queueIndex;
    Atomics.or(this.#bits, bit >>> 3, 0x80 >>> (bit & 7));
    return Atomics.exchange(this.#summary, 0, 1) === 0;
  }
}
