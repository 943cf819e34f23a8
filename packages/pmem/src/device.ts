/**
 * The PMEM device, device side (spec 5.19): presents a persistent memory range (config
 * start/size, or shared memory region 0 under VIRTIO_PMEM_F_SHMEM_REGION) and answers flush
 * requests on req_vq once the backend made completed writes durable.
 */
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type SharedMemoryRegion,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import type { PmemBackend } from './backends/backend.js';
import { PmemConfig } from './config.js';
import { PmemRequestError } from './errors.js';
import {
  VIRTIO_PMEM_DEVICE_ID,
  VIRTIO_PMEM_F_SHMEM_REGION,
  VIRTIO_PMEM_REQ_SIZE,
  VIRTIO_PMEM_REQ_TYPE_FLUSH,
  VIRTIO_PMEM_REQ_VQ,
  VIRTIO_PMEM_RESP_FAIL,
  VIRTIO_PMEM_RESP_OK,
  VIRTIO_PMEM_RESP_SIZE,
  VIRTIO_PMEM_SHMID,
} from './protocol.js';

export interface PmemDeviceOptions {
  /** Size and flush of the persistent memory. */
  readonly backend: PmemBackend;
  /**
   * Guest-physical address where the VMM maps the range, presented in config start when
   * VIRTIO_PMEM_F_SHMEM_REGION is not negotiated ([pmem.dev.2]). Without it the device offers only
   * the shared memory region and refuses FEATURES_OK to a driver that does not accept it.
   */
  readonly start?: number;
  /** Offer VIRTIO_PMEM_F_SHMEM_REGION (region 0 of the backend's size). Default: true exactly when `start` is not given. */
  readonly shmemRegion?: boolean;
  /** Maximum req_vq size (descriptors, 1..32768). Default 128. */
  readonly queueSize?: number;
  /** Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED | RING_RESET. */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface PmemCounters {
  /** Flush requests answered 0. */
  readonly flushes: number;
  /** Requests answered -1 (backend failure, unknown type, short request). */
  readonly failures: number;
}

export const PMEM_DEFAULT_RING_FEATURES = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET);

export class PmemDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_PMEM_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 1;
  readonly configSize: number;
  /** Region 0 of the backend's size when VIRTIO_PMEM_F_SHMEM_REGION is offered ([pmem.dev.1]). */
  readonly sharedMemoryRegions: readonly SharedMemoryRegion[];

  readonly #backend: PmemBackend;
  readonly #start: number | undefined;
  readonly #queueSize: number;
  readonly #config = new PmemConfig();
  #ctx: ActivateContext | undefined;
  /** Bumped by reset and queue reset: a flush completing from an older epoch is dropped. */
  #epoch = 0;
  #broken = false;
  /** Flushes whose backend call has not settled. */
  readonly #inFlight = new Set<Promise<void>>();
  #flushes = 0;
  #failures = 0;

  /** @throws RangeError for a bad start, size or queue size, or neither start nor the shared memory region */
  constructor(opts: PmemDeviceOptions) {
    const size = opts.backend.size;
    if (!Number.isSafeInteger(size) || size <= 0) throw new RangeError(`pmem: backend size ${size}`);
    if (opts.start !== undefined && (!Number.isSafeInteger(opts.start) || opts.start < 0 || opts.start + size > Number.MAX_SAFE_INTEGER)) {
      throw new RangeError(`pmem: start ${opts.start}`);
    }
    const shm = opts.shmemRegion ?? opts.start === undefined;
    if (!shm && opts.start === undefined) throw new RangeError('pmem: neither start nor the shared memory region');
    const qs = opts.queueSize ?? 128;
    if (!Number.isInteger(qs) || qs < 1 || qs > 32768) throw new RangeError(`pmem: queueSize ${qs} outside 1..32768`);
    this.#backend = opts.backend;
    this.#start = opts.start;
    this.#queueSize = qs;
    this.deviceFeatures =
      featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? PMEM_DEFAULT_RING_FEATURES) | (shm ? featureMask(VIRTIO_PMEM_F_SHMEM_REGION) : 0n);
    this.sharedMemoryRegions = shm ? [{ id: VIRTIO_PMEM_SHMID, size }] : [];
    this.configSize = this.#config.size;
    this.#config.present(this.#start, size);
  }

  get counters(): PmemCounters {
    return { flushes: this.#flushes, failures: this.#failures };
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_PMEM_REQ_VQ ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** The configuration is read-only. */
  writeConfig(): void {}

  validateFeatures(features: bigint): boolean {
    const shm = hasFeature(features, VIRTIO_PMEM_F_SHMEM_REGION);
    // [pmem.dev.2] without the region the device must present an absolute address; without one it cannot.
    if (!shm && this.#start === undefined) return false;
    // [pmem.dev.1] with the region, start and size read 0.
    this.#config.present(shm ? undefined : this.#start, this.#backend.size);
    return true;
  }

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#run();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_PMEM_REQ_VQ) this.#run();
  }

  enableQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_PMEM_REQ_VQ) this.#run();
  }

  resetQueue(queueIndex: number): void | Promise<void> {
    if (queueIndex !== VIRTIO_PMEM_REQ_VQ) return;
    return this.#drop();
  }

  reset(): void | Promise<void> {
    const drained = this.#drop();
    this.#ctx = undefined;
    this.#broken = false;
    this.#config.present(this.#start, this.#backend.size);
    return drained;
  }

  /** Forgets in-flight requests; the promise settles when their backend flushes have settled. */
  #drop(): Promise<void> | undefined {
    this.#epoch++;
    if (this.#inFlight.size === 0) return undefined;
    return Promise.allSettled([...this.#inFlight]).then(() => undefined);
  }

  #run(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[VIRTIO_PMEM_REQ_VQ];
    if (!ctx || !q || this.#broken) return;
    let pushed = false;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) pushed = this.#handle(ctx, q, chain) || pushed;
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      this.#broken = true;
      this.#epoch++;
      ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
      return;
    }
    if (pushed && q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_PMEM_REQ_VQ);
  }

  /** Handles one request; returns whether it was answered at once (else a flush is pending). */
  #handle(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain): boolean {
    if (chain.writableLength < VIRTIO_PMEM_RESP_SIZE) {
      throw new PmemRequestError(`chain ${chain.id}: ${chain.writableLength} device-writable bytes, no room for struct virtio_pmem_resp`);
    }
    const type = chain.readableLength >= VIRTIO_PMEM_REQ_SIZE ? new ChainReader(ctx.memory, chain.readable).readU32() : undefined;
    if (type !== VIRTIO_PMEM_REQ_TYPE_FLUSH) {
      this.#answer(ctx, q, chain, VIRTIO_PMEM_RESP_FAIL);
      return true;
    }
    let result: void | Promise<void>;
    try {
      result = this.#backend.flush();
    } catch {
      this.#answer(ctx, q, chain, VIRTIO_PMEM_RESP_FAIL);
      return true;
    }
    if (!(result instanceof Promise)) {
      this.#answer(ctx, q, chain, VIRTIO_PMEM_RESP_OK);
      return true;
    }
    // [pmem.dev.3] the request completes only once the backend's flush has.
    const epoch = this.#epoch;
    const settled = result.then(
      () => VIRTIO_PMEM_RESP_OK,
      () => VIRTIO_PMEM_RESP_FAIL,
    );
    const tracked: Promise<void> = settled.then((ret) => {
      this.#inFlight.delete(tracked);
      if (epoch !== this.#epoch || this.#ctx !== ctx) return; // reset meanwhile: the chain is no longer ours
      try {
        this.#answer(ctx, q, chain, ret);
      } catch (err) {
        this.#broken = true;
        this.#epoch++;
        ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
        return;
      }
      if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_PMEM_REQ_VQ);
    });
    this.#inFlight.add(tracked);
    return false;
  }

  /** Writes struct virtio_pmem_resp ([pmem.dev.4]: 0 or -1) and uses the chain. */
  #answer(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain, ret: number): void {
    new ChainWriter(ctx.memory, chain.writable).writeU32(ret >>> 0);
    q.push(chain, VIRTIO_PMEM_RESP_SIZE);
    if (ret === VIRTIO_PMEM_RESP_OK) this.#flushes++;
    else this.#failures++;
  }
}
