// A device that answers RTC requests from a script: what a buggy or hostile device would send
// our driver (non-OK statuses with garbage fields, reserved bytes set, flags not negotiated).
import { featureMask, VIRTIO_F_VERSION_1, type ActivateContext, type VirtioDevice } from '@virtio/core';
import { ChainReader, ChainWriter } from '@virtio/ring';
import { VIRTIO_RTC_DEVICE_ID, VIRTIO_RTC_F_ALARM } from '../src/index.js';

/** Returns the device-writable bytes for a request (its device-readable bytes). */
export type Script = (request: Uint8Array) => Uint8Array;

export class ScriptedRtcDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_RTC_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 2;
  readonly configSize = 0;
  script: Script;
  #ctx: ActivateContext | undefined;

  constructor(script: Script, alarm = true) {
    this.script = script;
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1) | (alarm ? featureMask(VIRTIO_RTC_F_ALARM) : 0n);
  }

  queueMaxSize(): number {
    return 16;
  }
  readConfig(): number {
    return 0;
  }
  writeConfig(): void {}
  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
  }
  reset(): void {
    this.#ctx = undefined;
  }

  queueNotify(index: number): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[index];
    if (!ctx || !q || index !== 0) return;
    for (let c = q.pop(); c !== null; c = q.pop()) {
      const request = new ChainReader(ctx.memory, c.readable).readBytes(c.readableLength);
      const resp = this.script(request).subarray(0, c.writableLength);
      new ChainWriter(ctx.memory, c.writable).write(resp);
      q.push(c, resp.length);
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(0);
  }

  /** Sends `bytes` as one alarmq notification. @returns false when no alarmq buffer was available */
  notify(bytes: Uint8Array): boolean {
    const ctx = this.#ctx;
    const q = ctx?.queues[1];
    const c = q?.pop();
    if (!ctx || !q || !c) return false;
    new ChainWriter(ctx.memory, c.writable).write(bytes.subarray(0, c.writableLength));
    q.push(c, Math.min(bytes.length, c.writableLength));
    if (q.needsNotification()) ctx.interrupt.usedBuffer(1);
    return true;
  }
}
