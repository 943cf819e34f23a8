/**
 * One DRIVER_OK-to-reset lifetime of a device: the guarded queues it was handed and the
 * switches that make them inert. After {@link Activation.retire} (device reset) or
 * {@link Activation.remove} (queue reset), nothing the device does through them reaches guest
 * memory or the driver (spec 2.4.1, 2.6.1.1).
 */
import type { DeviceQueue } from '@virtio/ring';
import type { TransportCounters } from './counters.js';
import { GuardedQueue, type ActivationGate, type QueueLease } from './guarded-queue.js';

export class Activation {
  /** pop: device may take new chains; push: device may return chains. */
  readonly gate: ActivationGate = { pop: true, push: true };
  /** The device's view: one entry per queue index, undefined where not live. */
  readonly queues: (DeviceQueue | undefined)[];
  readonly #leases: (QueueLease | undefined)[];
  readonly #counters: TransportCounters;
  #live = true;

  constructor(numQueues: number, counters: TransportCounters) {
    this.queues = new Array<DeviceQueue | undefined>(numQueues).fill(undefined);
    this.#leases = new Array<QueueLease | undefined>(numQueues).fill(undefined);
    this.#counters = counters;
  }

  /** False once the device was reset. */
  get live(): boolean {
    return this.#live;
  }

  /** Wraps the ring's queue `index` and publishes it in {@link queues}. */
  install(index: number, inner: DeviceQueue): GuardedQueue {
    const lease: QueueLease = { live: true };
    const queue = new GuardedQueue(inner, lease, this.gate, this.#counters);
    this.#leases[index] = lease;
    this.queues[index] = queue;
    return queue;
  }

  /** Queue `index` stopped: its guarded queue goes inert. @returns whether it was live */
  remove(index: number): boolean {
    const lease = this.#leases[index];
    if (!lease) return false;
    lease.live = false;
    this.#leases[index] = undefined;
    this.queues[index] = undefined;
    return true;
  }

  /** Whether a used buffer notification for queue `index` may reach the driver. */
  mayNotify(index: number): boolean {
    return this.#live && this.gate.push && this.#leases[index]?.live === true;
  }

  /** Whether any queue has chains popped and not yet pushed. */
  get busy(): boolean {
    for (const q of this.queues) if (q && q.inFlight > 0) return true;
    return false;
  }

  /**
   * Device reset: every queue inert, no more notifications. The inert queues stay in
   * {@link queues}, so a backend completing late into them finds a queue that drops its push.
   */
  retire(): void {
    this.#live = false;
    this.gate.pop = false;
    this.gate.push = false;
    for (const lease of this.#leases) if (lease) lease.live = false;
  }
}
