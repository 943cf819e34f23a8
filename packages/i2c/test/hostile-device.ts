// A device that answers every requestq chain as the test says, whatever the request: fills the
// device-writable bytes before the status with `fill` and ends with the next scripted status.
import { featureMask, VIRTIO_F_VERSION_1, type ActivateContext, type VirtioDevice } from '@virtio/core';
import { ChainWriter } from '@virtio/ring';
import { VIRTIO_I2C_DEVICE_ID, VIRTIO_I2C_F_ZERO_LENGTH_REQUEST, VIRTIO_I2C_MSG_OK } from '../src/index.js';

export class ScriptedI2cDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_I2C_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues = 1;
  readonly configSize = 0;
  /** Statuses for the next requests, in order; OK once exhausted. */
  readonly statuses: number[] = [];
  #ctx: ActivateContext | undefined;

  constructor(
    readonly fill = 0xab,
    offerZeroLength = true,
  ) {
    this.deviceFeatures = featureMask(VIRTIO_F_VERSION_1, ...(offerZeroLength ? [VIRTIO_I2C_F_ZERO_LENGTH_REQUEST] : []));
  }

  queueMaxSize(): number {
    return 64;
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

  queueNotify(): void {
    const ctx = this.#ctx;
    const q = ctx?.queues[0];
    if (!ctx || !q) return;
    let chain;
    while ((chain = q.pop()) !== null) {
      const w = new ChainWriter(ctx.memory, chain.writable);
      w.write(new Uint8Array(chain.writableLength - 1).fill(this.fill));
      w.writeU8(this.statuses.shift() ?? VIRTIO_I2C_MSG_OK);
      q.push(chain, w.written);
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(0);
  }
}
