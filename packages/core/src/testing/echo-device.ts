/**
 * EchoDevice: a test-only VirtioDevice that copies each chain's device-readable bytes into
 * its device-writable part and returns the chain with the number of bytes written. Every
 * transport's tests drive it, so they exercise the shared state machine the same way.
 *
 * Configuration space (8 bytes, little-endian):
 *   0: le32 echoed   (read-only) chains completed since the last reset
 *   4: le32 scratch  (read-write) anything the driver likes
 */
import { VIRTIO_F_VERSION_1 } from '../constants.js';
import type { ActivateContext, DeviceHost, VirtioDevice } from '../device.js';
import { featureMask } from '../features.js';
import type { DescriptorChain, DeviceQueue } from '@virtio/ring';

/** Device ID the echo device reports: unassigned by the spec, fits every transport. */
export const ECHO_DEVICE_ID = 0xff;

export interface EchoDeviceOptions {
  /** Number of queues, each an independent echo queue. Default 1. */
  readonly queues?: number;
  /** Maximum size of every queue. Default 256. */
  readonly queueMaxSize?: number;
  /** Offered features (VIRTIO_F_VERSION_1 is always added). Default VERSION_1 only. */
  readonly features?: bigint;
  /** Keep popped chains in flight until {@link EchoDevice.complete} (to test resets with I/O in flight). */
  readonly hold?: boolean;
}

export class EchoDevice implements VirtioDevice {
  readonly deviceId = ECHO_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = 8;
  /** Chains popped and held (hold mode), oldest first, with their queue index. */
  readonly held: { queue: number; chain: DescriptorChain }[] = [];
  /** Available buffer notifications received, with their data argument. */
  readonly notifications: { queue: number; data: number | undefined }[] = [];
  /** The activation in force, if any. */
  ctx: ActivateContext | undefined;
  /** The host handle from attach (to simulate configuration changes). */
  host: DeviceHost | undefined;
  resets = 0;

  readonly #maxSize: number;
  readonly #hold: boolean;
  #echoed = 0;
  #scratch = 0;
  #buf = new Uint8Array(4096);
  readonly #config = new DataView(new ArrayBuffer(8));

  constructor(opts: EchoDeviceOptions = {}) {
    this.numQueues = opts.queues ?? 1;
    this.#maxSize = opts.queueMaxSize ?? 256;
    this.deviceFeatures = (opts.features ?? 0n) | featureMask(VIRTIO_F_VERSION_1);
    this.#hold = opts.hold ?? false;
  }

  queueMaxSize(index: number): number {
    return index >= 0 && index < this.numQueues ? this.#maxSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    const dv = this.#config;
    dv.setUint32(0, this.#echoed, true);
    dv.setUint32(4, this.#scratch, true);
    if (width === 1) return dv.getUint8(offset);
    if (width === 2) return dv.getUint16(offset, true);
    return dv.getUint32(offset, true);
  }

  writeConfig(offset: number, width: 1 | 2 | 4, value: number): void {
    if (offset < 4) return; // echoed is read-only
    const dv = this.#config;
    dv.setUint32(4, this.#scratch, true);
    if (width === 1) dv.setUint8(offset, value);
    else if (width === 2) dv.setUint16(offset, value, true);
    else dv.setUint32(offset, value, true);
    this.#scratch = dv.getUint32(4, true);
  }

  attach(host: DeviceHost): void {
    this.host = host;
  }

  activate(ctx: ActivateContext): void {
    this.ctx = ctx;
    for (let i = 0; i < this.numQueues; i++) if (ctx.queues[i]) this.#drain(i);
  }

  queueNotify(queueIndex: number, data?: number): void {
    this.notifications.push({ queue: queueIndex, data });
    this.#drain(queueIndex);
  }

  enableQueue(queueIndex: number): void {
    this.#drain(queueIndex);
  }

  resetQueue(queueIndex: number): void {
    for (let i = this.held.length - 1; i >= 0; i--) if (this.held[i].queue === queueIndex) this.held.splice(i, 1);
  }

  reset(): void {
    this.resets++;
    this.ctx = undefined;
    this.#echoed = 0;
    this.#scratch = 0;
    // In-flight chains complete into nothing: the guest memory they named is no longer ours.
    this.held.length = 0;
  }

  /** Completes `count` held chains (default all), oldest first, and interrupts as the queues ask. */
  complete(count = this.held.length): void {
    const ctx = this.ctx;
    const done = this.held.splice(0, count);
    const queues = new Set<number>();
    for (const { queue, chain } of done) {
      const q = this.#queueOf(queue, ctx);
      if (!q) continue;
      this.#echo(q, chain, ctx);
      queues.add(queue);
    }
    for (const i of queues) this.#maybeInterrupt(i, ctx);
  }

  #queueOf(index: number, ctx: ActivateContext | undefined): DeviceQueue | undefined {
    return ctx?.queues[index];
  }

  #drain(index: number): void {
    const ctx = this.ctx;
    const q = this.#queueOf(index, ctx);
    if (!ctx || !q) return;
    try {
      for (;;) {
        let chain: DescriptorChain | null;
        while ((chain = q.pop()) !== null) {
          if (this.#hold) this.held.push({ queue: index, chain });
          else this.#echo(q, chain, ctx);
        }
        if (!q.enableNotifications()) break;
      }
    } catch (err) {
      ctx.needsReset(err as Error);
      return;
    }
    this.#maybeInterrupt(index, ctx);
  }

  #echo(q: DeviceQueue, chain: DescriptorChain, ctx: ActivateContext | undefined): void {
    if (!ctx) return;
    try {
      const n = Math.min(chain.readableLength, chain.writableLength);
      if (this.#buf.length < n) this.#buf = new Uint8Array(n);
      const data = this.#buf.subarray(0, n);
      gather(ctx, chain, data);
      scatter(ctx, chain, data);
      q.push(chain, n);
      this.#echoed = (this.#echoed + 1) >>> 0;
    } catch (err) {
      ctx.needsReset(err as Error);
    }
  }

  #maybeInterrupt(index: number, ctx: ActivateContext | undefined): void {
    const q = this.#queueOf(index, ctx);
    if (ctx && q?.needsNotification()) ctx.interrupt.usedBuffer(index);
  }
}

function gather(ctx: ActivateContext, chain: DescriptorChain, dest: Uint8Array): void {
  let off = 0;
  for (const seg of chain.readable) {
    if (off >= dest.length) break;
    const n = Math.min(seg.len, dest.length - off);
    ctx.memory.read(seg.addr, dest.subarray(off, off + n));
    off += n;
  }
}

function scatter(ctx: ActivateContext, chain: DescriptorChain, src: Uint8Array): void {
  let off = 0;
  for (const seg of chain.writable) {
    if (off >= src.length) break;
    const n = Math.min(seg.len, src.length - off);
    ctx.memory.write(seg.addr, src.subarray(off, off + n));
    off += n;
  }
}
