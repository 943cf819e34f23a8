// Wraps a BlkDevice and records every chain the device pops (header, lengths, payload), so
// tests can check what our driver put on the ring. Optionally offers extra feature bits and
// a zoned model, to present the driver with devices this package never builds.
import type { ActivateContext, DeviceHost, VirtioDevice } from '@virtio/core';
import type { DescriptorChain, DeviceQueue, GuestMemory, Segment } from '@virtio/ring';
import { BlkConfigOffset, type BlkDevice } from '../src/index.js';

export interface RecordedRequest {
  readonly type: number;
  readonly sector: bigint;
  readonly reserved: number;
  /** Device-readable bytes after the header. */
  readonly payload: Uint8Array;
  readonly readableLength: number;
  readonly writableLength: number;
}

function bytes(memory: GuestMemory, segs: readonly Segment[]): Uint8Array {
  const out = new Uint8Array(segs.reduce((a, s) => a + s.len, 0));
  let off = 0;
  for (const s of segs) {
    memory.read(s.addr, out.subarray(off, off + s.len));
    off += s.len;
  }
  return out;
}

export class RecordingDevice implements VirtioDevice {
  readonly requests: RecordedRequest[] = [];
  /** Configuration reads, in order, with the device status at the time (set by the test rig). */
  readonly configReads: number[] = [];
  constructor(
    readonly inner: BlkDevice,
    readonly extraFeatures = 0n,
    readonly zonedModel?: number,
  ) {}
  get deviceId() {
    return this.inner.deviceId;
  }
  get deviceFeatures() {
    return this.inner.deviceFeatures | this.extraFeatures;
  }
  get numQueues() {
    return this.inner.numQueues;
  }
  get configSize() {
    return this.inner.configSize;
  }
  queueMaxSize(i: number) {
    return this.inner.queueMaxSize(i);
  }
  readConfig(offset: number, width: 1 | 2 | 4) {
    this.configReads.push(offset);
    if (this.zonedModel !== undefined && offset === BlkConfigOffset.zoned_model && width === 1) return this.zonedModel;
    return this.inner.readConfig(offset, width);
  }
  writeConfig(offset: number, width: 1 | 2 | 4, value: number) {
    this.inner.writeConfig(offset, width, value);
  }
  validateFeatures(f: bigint) {
    return this.inner.validateFeatures(f);
  }
  attach(host: DeviceHost) {
    this.inner.attach(host);
  }
  reset() {
    return this.inner.reset();
  }
  resetQueue(i: number) {
    return this.inner.resetQueue(i);
  }
  enableQueue(i: number, q: DeviceQueue) {
    this.inner.enableQueue(i, this.#wrap(q, this.#memory!));
  }
  queueNotify(i: number) {
    this.inner.queueNotify(i);
  }
  #memory: GuestMemory | undefined;
  activate(ctx: ActivateContext) {
    this.#memory = ctx.memory;
    this.inner.activate({ ...ctx, queues: ctx.queues.map((q) => q && this.#wrap(q, ctx.memory)) });
  }
  #wrap(q: DeviceQueue, memory: GuestMemory): DeviceQueue {
    const requests = this.requests;
    return {
      get size() {
        return q.size;
      },
      get packed() {
        return q.packed;
      },
      get inFlight() {
        return q.inFlight;
      },
      pop(): DescriptorChain | null {
        const c = q.pop();
        if (c) {
          const r = bytes(memory, c.readable);
          const dv = new DataView(r.buffer);
          requests.push({
            type: r.length >= 16 ? dv.getUint32(0, true) : -1,
            reserved: r.length >= 16 ? dv.getUint32(4, true) : -1,
            sector: r.length >= 16 ? dv.getBigUint64(8, true) : -1n,
            payload: r.subarray(16),
            readableLength: c.readableLength,
            writableLength: c.writableLength,
          });
        }
        return c;
      },
      push: (c, n) => q.push(c, n),
      needsNotification: () => q.needsNotification(),
      enableNotifications: () => q.enableNotifications(),
      disableNotifications: () => q.disableNotifications(),
    };
  }
}
