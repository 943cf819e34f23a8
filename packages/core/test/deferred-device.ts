// An EchoDevice whose reset() and resetQueue() return promises the test settles: a stand-in
// for a device with backend work still in flight when the driver resets it.
import { EchoDevice, type EchoDeviceOptions } from '@virtio/core/testing';

export interface Deferred {
  readonly promise: Promise<void>;
  resolve(): void;
  reject(err: Error): void;
}

export function deferred(): Deferred {
  let resolve!: () => void;
  let reject!: (err: Error) => void;
  const promise = new Promise<void>((res, rej) => {
    resolve = res;
    reject = rej;
  });
  return { promise, resolve, reject };
}

export class DeferredResetDevice extends EchoDevice {
  /** The promise of each reset() call, oldest first. */
  readonly resetGates: Deferred[] = [];
  /** The promise of each resetQueue() call, with its queue. */
  readonly queueGates: { queue: number; gate: Deferred }[] = [];
  /** false: reset() completes at once (returns nothing). */
  deferReset = true;

  constructor(opts: EchoDeviceOptions = {}) {
    super(opts);
  }

  override reset(): void | Promise<void> {
    super.reset();
    if (!this.deferReset) return;
    const gate = deferred();
    this.resetGates.push(gate);
    return gate.promise;
  }

  override resetQueue(queueIndex: number): Promise<void> {
    super.resetQueue(queueIndex);
    const gate = deferred();
    this.queueGates.push({ queue: queueIndex, gate });
    return gate.promise;
  }
}

/** Lets promise callbacks run. */
export async function settle(rounds = 5): Promise<void> {
  for (let i = 0; i < rounds; i++) await Promise.resolve();
}
