// A VirtioDevice wrapper recording what the driver does to the device: configuration writes
// and every eventq chain the device pops.
import type { ActivateContext, VirtioDevice } from '@virtio/core';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';
import { VIRTIO_SCSI_EVENTQ, type ScsiDevice } from '../src/index.js';

export class RecordingDevice implements VirtioDevice {
  readonly configWrites: { offset: number; width: number; value: number }[] = [];
  readonly eventChains: DescriptorChain[] = [];
  constructor(readonly inner: ScsiDevice) {}
  get deviceId() {
    return this.inner.deviceId;
  }
  get deviceFeatures() {
    return this.inner.deviceFeatures;
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
    return this.inner.readConfig(offset, width);
  }
  writeConfig(offset: number, width: 1 | 2 | 4, value: number) {
    this.configWrites.push({ offset, width, value });
    this.inner.writeConfig(offset, width, value);
  }
  validateFeatures(f: bigint) {
    return this.inner.validateFeatures(f);
  }
  activate(ctx: ActivateContext) {
    const eq = ctx.queues[VIRTIO_SCSI_EVENTQ];
    const queues = ctx.queues.slice();
    if (eq) queues[VIRTIO_SCSI_EVENTQ] = this.#recordPops(eq);
    this.inner.activate({ ...ctx, queues, needsReset: (e) => ctx.needsReset(e), interrupt: ctx.interrupt });
  }
  queueNotify(i: number) {
    this.inner.queueNotify(i);
  }
  reset() {
    return this.inner.reset();
  }
  #recordPops(q: DeviceQueue): DeviceQueue {
    const chains = this.eventChains;
    return new Proxy(q, {
      get(target, prop, receiver) {
        if (prop === 'pop') {
          return () => {
            const c = target.pop();
            if (c) chains.push(c);
            return c;
          };
        }
        const v = Reflect.get(target, prop, receiver);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
  }
}
