/**
 * The entropy device, device side (spec 5.4): one requestq whose device-writable buffers it
 * fills with random bytes from an {@link EntropySource}, optionally rate-limited by a token
 * bucket (chains wait, in order, for tokens; none is lost).
 */
import {
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type VirtioDevice,
} from '@virtio/core';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import { CryptoEntropySource } from './backends/crypto.js';
import type { EntropySource } from './backends/source.js';
import { EntropyRequestError } from './errors.js';
import { VIRTIO_ENTROPY_DEVICE_ID, VIRTIO_ENTROPY_REQUESTQ } from './protocol.js';
import { systemClock, TokenBucket, type Clock, type RateLimit } from './rate-limit.js';

export interface EntropyDeviceOptions {
  /** Where random bytes come from. Default {@link CryptoEntropySource} (crypto.getRandomValues). */
  readonly source?: EntropySource;
  /** Optional rate limit (token bucket, bytes per second). Default none. */
  readonly rateLimit?: RateLimit;
  /** Time source for the rate limit. Default {@link systemClock}. */
  readonly clock?: Clock;
  /** Maximum requestq size (descriptors, 1..32768). Default 256. */
  readonly queueSize?: number;
  /**
   * Most bytes placed into one buffer (spec 5.4.6.2 lets the device use less than the whole
   * buffer), so one huge guest buffer cannot stall the host. Default 65536.
   */
  readonly maxBytesPerRequest?: number;
  /**
   * Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default
   * VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED | VIRTIO_F_RING_RESET.
   */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface EntropyStats {
  /** Buffers returned to the driver. */
  readonly requests: number;
  /** Random bytes placed into guest buffers. */
  readonly bytes: number;
  /** Times a chain had to wait for rate-limit tokens. */
  readonly throttled: number;
}

export const ENTROPY_DEFAULT_RING_FEATURES = featureMask(
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
);

export class EntropyDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_ENTROPY_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 1;
  /** No device configuration (spec 5.4.4). */
  readonly configSize = 0;

  readonly #source: EntropySource;
  readonly #bucket: TokenBucket | undefined;
  readonly #clock: Clock;
  readonly #queueSize: number;
  readonly #maxPerRequest: number;
  #ctx: ActivateContext | undefined;
  /** Bumped by every reset and queue reset: a timer from an older epoch does nothing. */
  #epoch = 0;
  /** Chains popped and waiting for rate-limit tokens, oldest first. */
  readonly #waiting: DescriptorChain[] = [];
  #timer: unknown;
  #timerSet = false;
  #broken = false;
  #suspended = false;
  #requests = 0;
  #bytes = 0;
  #throttled = 0;

  /** @throws RangeError for out-of-range options; Error when no source is given and the platform lacks crypto.getRandomValues */
  constructor(opts: EntropyDeviceOptions = {}) {
    const size = opts.queueSize ?? 256;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`entropy: queueSize ${size} outside 1..32768`);
    const max = opts.maxBytesPerRequest ?? 65536;
    if (!Number.isInteger(max) || max < 1) throw new RangeError(`entropy: maxBytesPerRequest ${max} is not a positive integer`);
    this.#queueSize = size;
    this.#maxPerRequest = max;
    this.#source = opts.source ?? new CryptoEntropySource();
    this.#clock = opts.clock ?? systemClock;
    this.#bucket = opts.rateLimit ? new TokenBucket(opts.rateLimit, this.#clock) : undefined;
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? ENTROPY_DEFAULT_RING_FEATURES);
  }

  get stats(): EntropyStats {
    return { requests: this.#requests, bytes: this.#bytes, throttled: this.#throttled };
  }

  /** Chains waiting for rate-limit tokens. */
  get waiting(): number {
    return this.#waiting.length;
  }

  queueMaxSize(index: number): number {
    return index === VIRTIO_ENTROPY_REQUESTQ ? this.#queueSize : 0;
  }

  readConfig(): number {
    return 0;
  }

  writeConfig(): void {}

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#suspended = false;
    this.#run();
  }

  queueNotify(queueIndex: number): void {
    if (queueIndex === VIRTIO_ENTROPY_REQUESTQ) this.#run();
  }

  enableQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_ENTROPY_REQUESTQ) this.#run();
  }

  resetQueue(queueIndex: number): void {
    if (queueIndex === VIRTIO_ENTROPY_REQUESTQ) this.#drop();
  }

  reset(): void {
    this.#drop();
    this.#ctx = undefined;
    this.#broken = false;
    this.#suspended = false;
    this.#bucket?.refill();
  }

  suspend(): void {
    this.#suspended = true;
  }

  resume(): void {
    this.#suspended = false;
    this.#run();
  }

  /** Forgets waiting chains and the timer; their guest memory is no longer ours. */
  #drop(): void {
    this.#epoch++;
    this.#waiting.length = 0;
    if (this.#timerSet) this.#clock.clearTimeout(this.#timer);
    this.#timerSet = false;
  }

  #queue(): DeviceQueue | undefined {
    return this.#ctx?.queues[VIRTIO_ENTROPY_REQUESTQ];
  }

  /** Drains the requestq, serves what the rate limit allows, notifies once. */
  #run(): void {
    const ctx = this.#ctx;
    const q = this.#queue();
    if (!ctx || !q || this.#broken) return;
    try {
      if (!this.#suspended) {
        for (;;) {
          let chain: DescriptorChain | null;
          while ((chain = q.pop()) !== null) {
            if (chain.readableLength > 0 || chain.readable.length > 0) {
              throw new EntropyRequestError('device-readable-buffer', `chain ${chain.id} has ${chain.readable.length} device-readable buffers`);
            }
            if (chain.writableLength === 0) throw new EntropyRequestError('empty-buffer', `chain ${chain.id} has no device-writable bytes`);
            if (this.#bucket || this.#waiting.length > 0) this.#waiting.push(chain);
            else this.#fill(ctx, q, chain, Math.min(chain.writableLength, this.#maxPerRequest));
          }
          if (!q.enableNotifications()) break;
        }
      }
      this.#serveWaiting(ctx, q);
    } catch (err) {
      this.#fail(ctx, err);
      return;
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(VIRTIO_ENTROPY_REQUESTQ);
  }

  /** Serves waiting chains in order while tokens last; sets a timer for the rest. */
  #serveWaiting(ctx: ActivateContext, q: DeviceQueue): void {
    const bucket = this.#bucket;
    const w = this.#waiting;
    while (w.length > 0) {
      const chain = w[0];
      const want = Math.min(chain.writableLength, this.#maxPerRequest);
      let grant = want;
      if (bucket) {
        const avail = bucket.available();
        // Wait until the whole request (or a full bucket) can be served, not a byte at a time.
        if (avail < Math.min(want, bucket.burst)) {
          this.#throttled++;
          this.#arm(bucket.msUntil(want));
          return;
        }
        grant = Math.min(want, avail);
        bucket.take(grant);
      }
      w.shift();
      this.#fill(ctx, q, chain, grant);
    }
  }

  #arm(ms: number): void {
    if (this.#timerSet) return;
    const epoch = this.#epoch;
    this.#timerSet = true;
    this.#timer = this.#clock.setTimeout(() => {
      if (epoch !== this.#epoch) return;
      this.#timerSet = false;
      this.#run();
    }, Math.max(1, ms));
  }

  /** Places `n` (>= 1) random bytes at the start of the chain's writable buffers and returns it. */
  #fill(ctx: ActivateContext, q: DeviceQueue, chain: DescriptorChain, n: number): void {
    let left = n;
    for (const seg of chain.writable) {
      if (left === 0) break;
      const len = Math.min(seg.len, left);
      if (len === 0) continue;
      for (const view of ctx.memory.views(seg.addr, len)) this.#source.fill(view);
      left -= len;
    }
    q.push(chain, n);
    this.#requests++;
    this.#bytes += n;
  }

  #fail(ctx: ActivateContext, err: unknown): void {
    this.#broken = true;
    this.#drop();
    ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
  }
}
