/**
 * The PMEM device, driver side (spec 5.19): finds the persistent memory range (shared memory
 * region 0 under VIRTIO_PMEM_F_SHMEM_REGION, else config start/size) and sends flush requests.
 */
import {
  DriverDevice,
  featureMask,
  hasFeature,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import { PmemDriverError } from './errors.js';
import {
  PMEM_CONFIG_SIZE_FIELD,
  PMEM_CONFIG_START,
  VIRTIO_PMEM_F_SHMEM_REGION,
  VIRTIO_PMEM_REQ_SIZE,
  VIRTIO_PMEM_REQ_TYPE_FLUSH,
  VIRTIO_PMEM_REQ_VQ,
  VIRTIO_PMEM_RESP_OK,
  VIRTIO_PMEM_SHMID,
  type PmemRange,
} from './protocol.js';

/** Looks a shared memory region up on the transport: guest-physical base and size (bytes), or undefined when absent. */
export type SharedMemoryLookup = (shmid: number) => { readonly base: number; readonly size: number } | undefined;

export interface PmemDriverOptions {
  /** Guest memory holding the ring and request buffers. */
  readonly memory: GuestMemory;
  /** Allocates the ring and (freed after use) the request buffers. */
  readonly allocator: GuestAllocator;
  /**
   * Shared memory region lookup; VIRTIO_PMEM_F_SHMEM_REGION is accepted only with one. Default
   * the transport's own `sharedMemory(shmid)` when it has one (e.g. MmioDriverTransport).
   */
  readonly sharedMemory?: SharedMemoryLookup;
  /** Requested req_vq size; the device's maximum when omitted. */
  readonly queueSize?: number;
  /** Ring features accepted when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
}

interface Pending {
  readonly addr: number;
  resolve(): void;
  reject(err: Error): void;
}

export class PmemDriver {
  readonly device: DriverDevice;
  /** The persistent memory range. */
  readonly range: PmemRange;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #inFlight = new Set<Pending>();
  #closed: Error | undefined;

  private constructor(device: DriverDevice, range: PmemRange, opts: PmemDriverOptions) {
    this.device = device;
    this.range = range;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
  }

  /**
   * Initializes the PMEM device behind `transport` (spec 3.1.1 and 5.19.5) and finds its range.
   * @throws DeviceInitError from the initialization sequence; PmemDriverError when the range is
   * missing or empty (the device is then reset)
   */
  static initialize(transport: DriverTransport, opts: PmemDriverOptions): PmemDriver {
    const lookup = opts.sharedMemory ?? transportLookup(transport);
    const wanted = (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED)) | (lookup ? featureMask(VIRTIO_PMEM_F_SHMEM_REGION) : 0n);
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: wanted,
      queues: [{ index: VIRTIO_PMEM_REQ_VQ, size: opts.queueSize }],
    });
    let range: PmemRange | undefined;
    if (hasFeature(device.features, VIRTIO_PMEM_F_SHMEM_REGION)) {
      // [pmem.drv.1] the range is shared memory region 0; start and size are not used.
      const shm = lookup!(VIRTIO_PMEM_SHMID);
      if (shm) range = { start: shm.base, size: shm.size };
    } else {
      // [pmem.drv.2] the range is config start/size.
      range = device.readConfig((c) => ({ start: Number(c.u64(PMEM_CONFIG_START)), size: Number(c.u64(PMEM_CONFIG_SIZE_FIELD)) }));
    }
    if (!range || range.size <= 0 || !Number.isSafeInteger(range.start + range.size)) {
      device.reset();
      throw new PmemDriverError(`pmem: the device presents no usable range (${range ? `0x${range.start.toString(16)}+${range.size}` : 'no shared memory region 0'})`);
    }
    return new PmemDriver(device, range, opts);
  }

  /** Flush requests sent and not yet answered. */
  get pending(): number {
    return this.#inFlight.size;
  }

  /**
   * Makes every write to the range completed before the call durable: resolves when the
   * device answered 0. Rejects with PmemDriverError when it answered -1, the ring is full, or
   * on reset / DEVICE_NEEDS_RESET.
   */
  flush(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#closed);
    const q = this.device.queues[VIRTIO_PMEM_REQ_VQ] as DriverQueue<Pending> | undefined;
    if (!q) return Promise.reject(new PmemDriverError('pmem: req_vq is not set up'));
    let addr: number;
    try {
      addr = this.#allocator.alloc(VIRTIO_PMEM_REQ_SIZE + 4, 4);
    } catch (err) {
      return Promise.reject(err as Error);
    }
    this.#memory.writeU32(addr, VIRTIO_PMEM_REQ_TYPE_FLUSH);
    this.#memory.writeU32(addr + 4, 0xffffffff);
    return new Promise((resolve, reject) => {
      const p: Pending = { addr, resolve, reject };
      if (!q.add([{ addr, len: VIRTIO_PMEM_REQ_SIZE }], [{ addr: addr + 4, len: 4 }], p)) {
        this.#allocator.free(addr);
        reject(new PmemDriverError('pmem: req_vq is full'));
        return;
      }
      this.#inFlight.add(p);
      this.device.kick(VIRTIO_PMEM_REQ_VQ);
    });
  }

  /** Call when the device interrupts: completes answered flushes. On DEVICE_NEEDS_RESET pending flushes reject. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new PmemDriverError('pmem: the device needs a reset'));
      return;
    }
    if (ev.usedBuffer) this.#reap();
  }

  /**
   * Resets the device, waiting until it reports the reset done (in-flight flushes drained);
   * pending flushes reject.
   */
  async reset(): Promise<void> {
    this.#closed = new PmemDriverError('pmem: device reset');
    await this.device.resetAsync();
    this.#close(this.#closed);
  }

  #reap(): void {
    const q = this.device.queues[VIRTIO_PMEM_REQ_VQ] as DriverQueue<Pending> | undefined;
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) {
        const p = used.token;
        if (!this.#inFlight.delete(p)) continue;
        const ret = used.len >= 4 ? this.#memory.readU32(p.addr + 4) : 0xffffffff;
        this.#allocator.free(p.addr);
        if (ret === VIRTIO_PMEM_RESP_OK) p.resolve();
        else p.reject(new PmemDriverError(`pmem: flush failed (ret ${ret | 0})`));
      }
      if (!q.enableInterrupts()) break;
    }
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const p of this.#inFlight) {
      if (!this.device.needsReset) this.#allocator.free(p.addr);
      p.reject(err);
    }
    this.#inFlight.clear();
  }
}

/** The transport's own shared memory lookup, when it has one. */
function transportLookup(transport: DriverTransport): SharedMemoryLookup | undefined {
  const t = transport as DriverTransport & { sharedMemory?: SharedMemoryLookup };
  return typeof t.sharedMemory === 'function' ? (id) => t.sharedMemory!(id) : undefined;
}
