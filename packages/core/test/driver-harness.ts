// Driver-side test set-up: core's driver initializes an EchoDevice over LoopbackTransport with
// real split rings from @virtio/ring, plus a spy recording every driver transport call.
import { BumpAllocator, FlatGuestMemory, type QueueConfig } from '@virtio/ring';
import { initializeDevice, type DriverTransport, type InitializeOptions, type InterruptCauses } from '@virtio/core';
import { EchoDevice, LoopbackTransport, type EchoDeviceOptions } from '@virtio/core/testing';

export const MEM_SIZE = 0x40000;
/** Rings are allocated from here; test buffers live below. */
export const RING_BASE = 0x20000;

export function loopback(echo: EchoDeviceOptions = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const device = new EchoDevice(echo);
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const allocator = new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE);
  return { memory, device, transport, state: transport.state, allocator };
}

export function init(
  t: ReturnType<typeof loopback>,
  opts: Partial<InitializeOptions> = {},
  transport: DriverTransport = t.transport,
) {
  return initializeDevice(transport, {
    memory: t.memory,
    allocator: t.allocator,
    wantedFeatures: 0n,
    queues: [{ index: 0 }],
    ...opts,
  });
}

/** One recorded driver transport call. */
export type Call = [name: string, ...args: unknown[]];

/** Wraps a DriverTransport, recording calls; `override` replaces individual methods. */
export class SpyTransport implements DriverTransport {
  readonly calls: Call[] = [];
  constructor(
    readonly inner: DriverTransport,
    readonly override: Partial<DriverTransport> = {},
  ) {}
  get kind() {
    return this.inner.kind;
  }
  #call<T>(name: keyof DriverTransport, args: unknown[]): T {
    this.calls.push([name, ...args]);
    const f = (this.override[name] ?? this.inner[name]) as (...a: unknown[]) => T;
    return f.apply(this.override[name] ? this.override : this.inner, args);
  }
  getStatus(): number {
    return this.#call('getStatus', []);
  }
  setStatus(s: number): void {
    this.#call('setStatus', [s]);
  }
  readDeviceFeatures(): bigint {
    return this.#call('readDeviceFeatures', []);
  }
  writeDriverFeatures(f: bigint): void {
    this.#call('writeDriverFeatures', [f]);
  }
  queueMaxSize(i: number): number {
    return this.#call('queueMaxSize', [i]);
  }
  setupQueue(i: number, c: QueueConfig): void {
    this.#call('setupQueue', [i, c]);
  }
  queueEnabled(i: number): boolean {
    return this.#call('queueEnabled', [i]);
  }
  resetQueue(i: number): boolean {
    return this.#call('resetQueue', [i]);
  }
  notify(i: number, d?: number): void {
    this.#call('notify', [i, d]);
  }
  readConfig(o: number, w: 1 | 2 | 4): number {
    return this.#call('readConfig', [o, w]);
  }
  writeConfig(o: number, w: 1 | 2 | 4, v: number): void {
    this.#call('writeConfig', [o, w, v]);
  }
  configGeneration(): number {
    return this.#call('configGeneration', []);
  }
  takeInterrupt(): InterruptCauses {
    return this.#call('takeInterrupt', []);
  }
  /** The status values written, in order. */
  get statusWrites(): number[] {
    return this.calls.filter((c) => c[0] === 'setStatus').map((c) => c[1] as number);
  }
}
