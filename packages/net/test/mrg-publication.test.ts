// With MRG_RXBUF one packet spans several receive buffers pushed back to back; a driver reading
// the used ring between those pushes (a Linux guest on another CPU) must see none of them, or it
// counts fewer than num_buffers and drops the packet. @virtio/ring publishes a batch of pushes
// at needsNotification(), which the device calls once per packet burst.
import { afterEach, describe, expect, it, vi } from 'vitest';
import { PackedDeviceQueue, SplitDeviceQueue, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { VIRTIO_NET_HDR_SIZE } from '../src/index.js';
import { ethFrame, rig, RING_MODES } from './harness.js';

afterEach(() => vi.restoreAllMocks());

const AVAIL = 1 << 7;
const USED = 1 << 15;

describe.each(RING_MODES)('MRG_RXBUF publication over $name', ({ ring }) => {
  it('a packet spanning 3 buffers is never visible to the driver partially', () => {
    const r = rig({ ring, rxBufferSize: 256 });
    const rx = r.driver.device.queues[0]!.config;
    // The driver's view before the packet: nothing used yet, so it polls used idx 0 (split) or
    // descriptor 0 under wrap counter 1 (packed).
    const visible = rx.packed
      ? () => (r.memory.readU16(rx.descTable + 14) & (AVAIL | USED)) === (AVAIL | USED)
      : () => r.memory.readU16(rx.deviceArea + 2) !== 0;
    // What the driver could see after each push and after the device ended the batch (before
    // the interrupt, after which the driver reaps and may re-post into those slots).
    const seen: string[] = [];
    for (const proto of [SplitDeviceQueue.prototype, PackedDeviceQueue.prototype] as DeviceQueue[]) {
      const push = proto.push;
      const needsNotification = proto.needsNotification;
      vi.spyOn(proto, 'push').mockImplementation(function (this: DeviceQueue, chain: DescriptorChain, written: number) {
        push.call(this, chain, written);
        if (this.packed === rx.packed) seen.push(`push ${visible()}`);
      });
      vi.spyOn(proto, 'needsNotification').mockImplementation(function (this: DeviceQueue) {
        const notify = needsNotification.call(this);
        if (this.packed === rx.packed) seen.push(`end ${visible()}`);
        return notify;
      });
    }
    const frame = ethFrame(600, 5);
    expect(Math.ceil((frame.length + VIRTIO_NET_HDR_SIZE) / 256)).toBe(3);
    r.callback.deliver(frame);
    expect(seen).toEqual(['push false', 'push false', 'push false', 'end true']);
    expect(r.received).toHaveLength(1);
    expect(r.received[0].header.numBuffers).toBe(3);
    expect(r.received[0].frame).toEqual(frame);
  });
});
