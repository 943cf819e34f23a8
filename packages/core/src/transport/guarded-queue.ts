/**
 * The DeviceQueue a device receives at activation: the ring's queue behind a guard, so that
 * after a device reset, a queue reset or while suspended, late operations from the device
 * (a backend completing after reset) are dropped without touching guest memory
 * (spec 2.4 "Device Reset", 2.6.1 "Virtqueue Reset", 3.4 "Device Suspend").
 */
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import type { TransportCounters } from './counters.js';

/** Activation-wide switches, flipped by the state machine. */
export interface ActivationGate {
  /** Device may take new chains (false while suspending, suspended, after DEVICE_NEEDS_RESET or reset). */
  pop: boolean;
  /** Device may return chains (false once suspended or reset). */
  push: boolean;
}

/** One queue's life: false forever once the queue or the device was reset. */
export interface QueueLease {
  live: boolean;
}

export class GuardedQueue implements DeviceQueue {
  readonly #inner: DeviceQueue;
  readonly #lease: QueueLease;
  readonly #gate: ActivationGate;
  readonly #counters: TransportCounters;

  constructor(inner: DeviceQueue, lease: QueueLease, gate: ActivationGate, counters: TransportCounters) {
    this.#inner = inner;
    this.#lease = lease;
    this.#gate = gate;
    this.#counters = counters;
  }

  get size(): number {
    return this.#inner.size;
  }
  get packed(): boolean {
    return this.#inner.packed;
  }
  get inFlight(): number {
    return this.#lease.live ? this.#inner.inFlight : 0;
  }

  pop(): DescriptorChain | null {
    if (!this.#lease.live || !this.#gate.pop) return null;
    return this.#inner.pop();
  }

  push(chain: DescriptorChain, written: number): void {
    if (!this.#lease.live || !this.#gate.push) {
      this.#counters.staleQueueOps++;
      return;
    }
    this.#inner.push(chain, written);
  }

  needsNotification(): boolean {
    if (!this.#lease.live || !this.#gate.push) return false;
    return this.#inner.needsNotification();
  }

  enableNotifications(): boolean {
    if (!this.#lease.live || !this.#gate.pop) return false;
    return this.#inner.enableNotifications();
  }

  disableNotifications(): void {
    if (!this.#lease.live || !this.#gate.pop) return;
    this.#inner.disableNotifications();
  }
}
