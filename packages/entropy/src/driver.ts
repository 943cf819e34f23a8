/**
 * The entropy device, driver side (spec 5.4): asks for N random bytes by exposing one
 * device-writable buffer of N bytes on the requestq, and takes exactly as many bytes as the
 * device says it wrote (the used length).
 */
import {
  DriverDevice,
  featureMask,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import { VIRTIO_ENTROPY_REQUESTQ } from './protocol.js';

export interface EntropyDriverOptions {
  /** Guest memory holding the ring and the request buffers. */
  readonly memory: GuestMemory;
  /** Allocates the ring and (freed after use) the request buffers, e.g. a FreeListAllocator. */
  readonly allocator: GuestAllocator;
  /** Requested requestq size (descriptors); the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features the driver accepts when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

/** Completions in a row with no byte after which {@link EntropyDriver.read} gives up. */
export const EMPTY_COMPLETION_LIMIT = 16;

/** Why a request failed: the device was reset, needs a reset, or keeps returning no bytes. */
export class EntropyDriverError extends Error {
  override readonly name = 'EntropyDriverError';
}

interface Pending {
  readonly addr: number;
  readonly len: number;
  resolve(bytes: Uint8Array): void;
  reject(err: Error): void;
}

export class EntropyDriver {
  readonly device: DriverDevice;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  /** Requests not yet on the ring (it was full), oldest first. */
  readonly #backlog: { len: number; resolve(b: Uint8Array): void; reject(e: Error): void }[] = [];
  readonly #inFlight = new Set<Pending>();
  #closed: Error | undefined;

  private constructor(device: DriverDevice, opts: EntropyDriverOptions) {
    this.device = device;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
  }

  /**
   * Initializes the entropy device behind `transport` (spec 3.1.1 and 5.4.5).
   * @throws DeviceInitError from the initialization sequence
   */
  static initialize(transport: DriverTransport, opts: EntropyDriverOptions): EntropyDriver {
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED),
      queues: [{ index: VIRTIO_ENTROPY_REQUESTQ, size: opts.queueSize }],
    });
    return new EntropyDriver(device, opts);
  }

  get #queue(): DriverQueue<Pending> | undefined {
    return this.device.queues[VIRTIO_ENTROPY_REQUESTQ] as DriverQueue<Pending> | undefined;
  }

  /** Requests on the ring or waiting for room. */
  get pending(): number {
    return this.#inFlight.size + this.#backlog.length;
  }

  /**
   * One request of `len` bytes (1..2^32-1): resolves with the random bytes the device placed,
   * which may be fewer than `len` (spec 5.4.6.2), never more.
   * @throws RangeError for a bad length; the promise rejects with EntropyDriverError on reset
   */
  request(len: number): Promise<Uint8Array> {
    if (!Number.isInteger(len) || len < 1 || len > 0xffffffff) throw new RangeError(`entropy: request length ${len}`);
    if (this.#closed) return Promise.reject(this.#closed);
    return new Promise((resolve, reject) => {
      this.#backlog.push({ len, resolve, reject });
      this.#submit();
    });
  }

  /**
   * Exactly `len` random bytes, from as many requests as it takes.
   * @throws EntropyDriverError (rejects) after {@link EMPTY_COMPLETION_LIMIT} empty completions in a row
   */
  async read(len: number): Promise<Uint8Array> {
    const out = new Uint8Array(len);
    let got = 0;
    let empty = 0;
    while (got < len) {
      const bytes = await this.request(len - got);
      if (bytes.length === 0 && ++empty >= EMPTY_COMPLETION_LIMIT) {
        throw new EntropyDriverError(`entropy: ${empty} completions in a row without a byte`);
      }
      if (bytes.length > 0) empty = 0;
      out.set(bytes, got);
      got += bytes.length;
    }
    return out;
  }

  /**
   * Call when the device interrupts: completes used requests. On DEVICE_NEEDS_RESET every
   * pending request rejects.
   */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new EntropyDriverError('entropy: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) this.#reap();
  }

  /** Resets the device; pending requests reject and their buffers are freed. */
  reset(): void {
    this.device.reset();
    this.#close(new EntropyDriverError('entropy: device reset'));
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const p of this.#inFlight) {
      if (!this.device.needsReset) this.#allocator.free(p.addr);
      p.reject(err);
    }
    this.#inFlight.clear();
    for (const b of this.#backlog.splice(0)) b.reject(err);
  }

  #reap(): void {
    const q = this.#queue;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#inFlight.delete(p)) continue;
        // [entropy.drv.2] only the bytes the device says it wrote are random.
        const n = Math.min(used.len, p.len);
        const bytes = new Uint8Array(n);
        this.#memory.read(p.addr, bytes);
        this.#allocator.free(p.addr);
        p.resolve(bytes);
      }
      if (!q.enableInterrupts()) break;
    }
    this.#submit();
  }

  #submit(): void {
    const q = this.#queue;
    if (!q) return;
    let added = false;
    while (this.#backlog.length > 0) {
      const b = this.#backlog[0];
      let addr: number;
      try {
        addr = this.#allocator.alloc(b.len, 1);
      } catch (err) {
        if (this.#inFlight.size > 0) break; // memory frees up as requests complete
        this.#backlog.shift();
        b.reject(err as Error);
        continue;
      }
      const p: Pending = { addr, len: b.len, resolve: b.resolve, reject: b.reject };
      // [entropy.drv.1] only a device-writable buffer, never a device-readable one.
      if (!q.add([], [{ addr, len: b.len }], p)) {
        this.#allocator.free(addr);
        break;
      }
      this.#backlog.shift();
      this.#inFlight.add(p);
      added = true;
    }
    if (added) this.device.kick(VIRTIO_ENTROPY_REQUESTQ);
  }
}
