// A scripted DeviceQueue for state-machine tests that do not need real rings: the test
// offers chains, the queue records what the device pushed. Real rings are used in e2e tests.
import type { DescriptorChain, DeviceQueue, GuestMemory, QueueConfig } from '@virtio/ring';

export class FakeQueue implements DeviceQueue {
  readonly available: DescriptorChain[] = [];
  readonly used: { id: number; written: number }[] = [];
  inFlight = 0;
  #pushed = false;
  constructor(readonly config: QueueConfig) {}
  get size(): number {
    return this.config.size;
  }
  get packed(): boolean {
    return this.config.packed;
  }
  offer(id: number): void {
    this.available.push({ id, readable: [], writable: [], readableLength: 0, writableLength: 0 });
  }
  pop(): DescriptorChain | null {
    const c = this.available.shift() ?? null;
    if (c) this.inFlight++;
    return c;
  }
  push(chain: DescriptorChain, written: number): void {
    this.inFlight--;
    this.used.push({ id: chain.id, written });
    this.#pushed = true;
  }
  needsNotification(): boolean {
    const n = this.#pushed;
    this.#pushed = false;
    return n;
  }
  enableNotifications(): boolean {
    return this.available.length > 0;
  }
  disableNotifications(): void {}
}

/** A queue factory recording every queue it built. */
export function fakeFactory(): { built: FakeQueue[]; create: (m: GuestMemory, c: QueueConfig) => DeviceQueue } {
  const built: FakeQueue[] = [];
  return {
    built,
    create: (_m, c) => {
      const q = new FakeQueue(c);
      built.push(q);
      return q;
    },
  };
}
