/**
 * Completion batching for devices whose requests finish asynchronously (a backend promise):
 * every request that finished since the last microtask is pushed to its queue, then each
 * touched queue ends its batch with one needsNotification() — the point where @virtio/ring
 * makes the pushed buffers visible to the driver and applies "Used Buffer Notification
 * Suppression" (spec 2.7 and 2.8).
 */
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import type { ActivateContext } from './device.js';

/** One finished request: `chain` goes back to queue `qi` (`q`) of the activation `ctx`. */
export interface Completion {
  readonly ctx: ActivateContext;
  readonly q: DeviceQueue;
  readonly qi: number;
  readonly chain: DescriptorChain;
  /** Writes the chain's device-writable part (status, data); @returns the bytes written. */
  readonly write: () => number;
}

/** The device's current activation and queues; a completion for any other one is stale. */
export interface LiveQueues {
  ctx(): ActivateContext | undefined;
  queue(index: number): DeviceQueue | undefined;
}

/**
 * Collects {@link Completion}s and completes them in one batch per microtask.
 * A completion whose activation or queue is no longer live (a device or queue reset came in
 * between) is dropped without touching guest memory. A VirtqueueError (or any throw from
 * `write`) during a batch marks the live activation DEVICE_NEEDS_RESET via `needsReset`.
 */
export class CompletionBatch {
  #done: Completion[] = [];
  #scheduled = false;
  readonly #touched: Uint8Array;
  readonly #live: LiveQueues;
  readonly #flush = () => this.#complete();

  /** @param numQueues the device's number of queues (indices 0..numQueues-1). */
  constructor(numQueues: number, live: LiveQueues) {
    this.#touched = new Uint8Array(numQueues);
    this.#live = live;
  }

  /** Queues `c` for the next batch; a stale completion is dropped at once. */
  add(c: Completion): void {
    if (c.ctx !== this.#live.ctx() || this.#live.queue(c.qi) !== c.q) return;
    this.#done.push(c);
    if (!this.#scheduled) {
      this.#scheduled = true;
      queueMicrotask(this.#flush);
    }
  }

  /** Drops every completion not yet pushed (device reset). */
  clear(): void {
    this.#done.length = 0;
  }

  #complete(): void {
    this.#scheduled = false;
    const done = this.#done;
    this.#done = [];
    const ctx = this.#live.ctx();
    const touched = this.#touched;
    try {
      if (!ctx) return;
      for (const c of done) {
        if (c.ctx !== ctx || this.#live.queue(c.qi) !== c.q) continue;
        c.q.push(c.chain, c.write());
        touched[c.qi] = 1;
      }
      for (let qi = 0; qi < touched.length; qi++) {
        if (touched[qi] === 0) continue;
        touched[qi] = 0;
        if (this.#live.queue(qi)?.needsNotification()) ctx.interrupt.usedBuffer(qi);
      }
    } catch (err) {
      touched.fill(0);
      ctx?.needsReset(err as Error);
    }
  }
}
