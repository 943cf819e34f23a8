// Notification coalescing (spec 5.1.6.5.8): TX_SET / RX_SET / VQ_SET / VQ_GET, honoured by
// the device's used buffer notifications, timed by a fake clock.
import { describe, expect, it, vi } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_CONTROL_EXTRA_FEATURES,
  NET_DRIVER_FEATURES,
  NetDriver,
  VIRTIO_NET_CTRL_NOTF_COAL,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_VQ_NOTF_COAL,
  VIRTIO_NET_OK,
  systemTimer,
} from '../src/index.js';
import { FakeTimer } from './fake-timer.js';
import { ethFrame, rawCommand, rig, RING_MODES } from './harness.js';

const EXTRA = NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES;

/** A rig whose interrupts are counted and handled by the test, with a fake clock. */
function coalRig(opts: { ring?: bigint; queuePairs?: number; driverFeatures?: bigint } = {}) {
  const timer = new FakeTimer();
  const r = rig({ driverFeatures: EXTRA, ...opts, coalesceTimer: timer, manualInterrupts: true });
  /** Runs a control command to completion (the test handles the interrupt). */
  const run = async <T>(p: Promise<T>): Promise<T> => {
    r.driver.handleInterrupt();
    return p;
  };
  return { ...r, timer, run };
}

/** struct virtio_net_ctrl_coal_vq as a raw VQ_SET / VQ_GET command. */
function coalVq(cmd: number, vq: number, reserved = 0, maxPackets = 0, maxUsecs = 0): Uint8Array {
  const b = new Uint8Array(cmd === VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET ? 6 : 14);
  const dv = new DataView(b.buffer);
  b[0] = VIRTIO_NET_CTRL_NOTF_COAL;
  b[1] = cmd;
  dv.setUint16(2, vq, true);
  dv.setUint16(4, reserved, true);
  if (b.length > 6) {
    dv.setUint32(6, maxPackets, true);
    dv.setUint32(10, maxUsecs, true);
  }
  return b;
}

describe.each(RING_MODES)('notification coalescing over $name', ({ ring }) => {
  it('[net.dev.77] [net.drv.71] RX_SET: one notification per max_packets packets, or after max_usecs', async () => {
    const r = coalRig({ ring });
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 3, maxUsecs: 100 }))).toBe(true);
    const before = r.interrupts();
    r.callback.deliver(ethFrame(60, 1));
    r.callback.deliver(ethFrame(60, 2));
    expect(r.interrupts()).toBe(before);
    r.callback.deliver(ethFrame(60, 3));
    expect(r.interrupts()).toBe(before + 1);
    r.driver.handleInterrupt();
    expect(r.received).toHaveLength(3);
    r.callback.deliver(ethFrame(60, 4));
    r.timer.advance(99);
    expect(r.interrupts()).toBe(before + 1);
    r.timer.advance(1);
    expect(r.interrupts()).toBe(before + 2);
    r.driver.handleInterrupt();
    expect(r.received).toHaveLength(4);
    expect(r.timer.pending).toBe(0);
  });

  it('[net.dev.77] TX_SET coalesces the notifications of used transmit buffers', async () => {
    const r = coalRig({ ring });
    expect(await r.run(r.driver.setCoalescing('tx', { maxPackets: 4, maxUsecs: 50 }))).toBe(true);
    const before = r.interrupts();
    for (let i = 0; i < 3; i++) r.driver.send(ethFrame(60, i));
    expect(r.sent).toHaveLength(3);
    expect(r.interrupts()).toBe(before);
    r.driver.send(ethFrame(60, 9));
    expect(r.interrupts()).toBe(before + 1);
    // The driver reaps (with VIRTIO_F_EVENT_IDX that also asks for the next notification).
    r.driver.handleInterrupt();
    r.driver.send(ethFrame(60, 10));
    expect(r.interrupts()).toBe(before + 1);
    r.timer.advance(50);
    expect(r.interrupts()).toBe(before + 2);
  });
});

describe('coalescing parameters', () => {
  it('max_packets or max_usecs 0: every packet is notified', async () => {
    const r = coalRig();
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 8, maxUsecs: 0 }))).toBe(true);
    const before = r.interrupts();
    r.callback.deliver(ethFrame(60, 1));
    r.callback.deliver(ethFrame(60, 2));
    expect(r.interrupts()).toBe(before + 2);
    expect(r.timer.pending).toBe(0);
  });

  it('new parameters whose condition is already met notify at once', async () => {
    const r = coalRig();
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 10, maxUsecs: 1000 }))).toBe(true);
    const before = r.interrupts();
    for (let i = 0; i < 4; i++) r.callback.deliver(ethFrame(60, i));
    expect(r.interrupts()).toBe(before);
    const p = r.driver.setCoalescing('rx', { maxPackets: 3, maxUsecs: 1000 });
    expect(r.interrupts()).toBeGreaterThanOrEqual(before + 1);
    expect(await r.run(p)).toBe(true);
  });

  it('[net.dev.83] no notification while the driver suppresses them, even when max_packets is reached', async () => {
    const r = coalRig();
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 2, maxUsecs: 100 }))).toBe(true);
    r.driver.device.queues[0]!.disableInterrupts();
    const before = r.interrupts();
    for (let i = 0; i < 4; i++) r.callback.deliver(ethFrame(60, i));
    r.timer.advance(1000);
    expect(r.interrupts()).toBe(before);
    r.driver.poll();
    expect(r.received).toHaveLength(4);
  });

  it('[net.dev.78] [net.drv.72] VQ_SET / VQ_GET: the last parameters set for a queue apply, whatever command set them', async () => {
    const r = coalRig({ queuePairs: 2 });
    await r.run(r.driver.setQueuePairs(2));
    const get = (vq: number) => r.run(r.driver.getQueueCoalescing(vq));
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 1, maxUsecs: 2 }))).toBe(true);
    expect(await r.run(r.driver.setQueueCoalescing(0, { maxPackets: 3, maxUsecs: 4 }))).toBe(true);
    expect(await get(0)).toEqual({ maxPackets: 3, maxUsecs: 4 });
    expect(await get(2)).toEqual({ maxPackets: 1, maxUsecs: 2 });
    expect(await r.run(r.driver.setQueueCoalescing(1, { maxPackets: 5, maxUsecs: 6 }))).toBe(true);
    expect(await r.run(r.driver.setCoalescing('tx', { maxPackets: 7, maxUsecs: 8 }))).toBe(true);
    expect(await get(1)).toEqual({ maxPackets: 7, maxUsecs: 8 });
    expect(await get(3)).toEqual({ maxPackets: 7, maxUsecs: 8 });
    const without = coalRig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_VQ_NOTF_COAL) });
    expect(() => without.driver.setQueueCoalescing(0, { maxPackets: 1, maxUsecs: 1 })).toThrow(/net\.drv\.72/);
    await expect(without.driver.getQueueCoalescing(0)).rejects.toThrow(/net\.drv\.72/);
    expect(without.memory.readU8(rawCommand(without, 2, coalVq(VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 0, 0, 1, 1)))).toBe(VIRTIO_NET_ERR);
  });

  it('[net.drv.71] TX_SET / RX_SET need NOTF_COAL on both sides', () => {
    const r = coalRig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_NOTF_COAL) });
    expect(() => r.driver.setCoalescing('rx', { maxPackets: 1, maxUsecs: 1 })).toThrow(/net\.drv\.71/);
    const raw = Uint8Array.of(VIRTIO_NET_CTRL_NOTF_COAL, 1, 1, 0, 0, 0, 1, 0, 0, 0);
    expect(r.memory.readU8(rawCommand(r, 2, raw))).toBe(VIRTIO_NET_ERR);
  });

  it('[net.dev.79] [net.drv.70] [net.drv.73] VQ_SET / VQ_GET of a queue that is not an enabled receive or transmit queue fail', async () => {
    const r = coalRig({ queuePairs: 2 });
    const ctrl = 4;
    for (const vq of [ctrl, 5, 0xffff]) {
      expect(r.memory.readU8(rawCommand(r, ctrl, coalVq(VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, vq, 0, 1, 1)))).toBe(VIRTIO_NET_ERR);
      expect(r.memory.readU8(rawCommand(r, ctrl, coalVq(VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, vq), 9))).toBe(VIRTIO_NET_ERR);
    }
    expect(() => r.driver.setQueueCoalescing(ctrl, { maxPackets: 1, maxUsecs: 1 })).toThrow(/net\.drv\.70/);
    // A disabled queue: the driver may ask, the device answers VIRTIO_NET_ERR and the driver reports nothing.
    r.state.disableQueue(3);
    expect(await r.run(r.driver.getQueueCoalescing(3))).toBeUndefined();
    expect(await r.run(r.driver.getQueueCoalescing(2))).toEqual({ maxPackets: 0, maxUsecs: 0 });
  });

  it('[net.dev.76] reserved is ignored', () => {
    const r = coalRig();
    expect(r.memory.readU8(rawCommand(r, 2, coalVq(VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, 0, 0xffff, 9, 9)))).toBe(VIRTIO_NET_OK);
    const ack = rawCommand(r, 2, coalVq(VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, 0, 0xabcd), 9);
    expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_OK);
    expect([r.memory.readU32(ack + 1), r.memory.readU32(ack + 5)]).toEqual([9, 9]);
  });

  it('[net.dev.80] [net.dev.81] a disabled and re-enabled queue takes the TX_SET / RX_SET parameters again (0 if never set)', async () => {
    const r = coalRig({ queuePairs: 2 });
    await r.run(r.driver.setQueuePairs(2));
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 2, maxUsecs: 3 }))).toBe(true);
    for (const vq of [0, 1, 3]) expect(await r.run(r.driver.setQueueCoalescing(vq, { maxPackets: 9, maxUsecs: 9 }))).toBe(true);
    for (const vq of [0, 1]) {
      r.state.disableQueue(vq);
      r.state.enableQueue(vq);
    }
    expect(await r.run(r.driver.getQueueCoalescing(0))).toEqual({ maxPackets: 2, maxUsecs: 3 });
    expect(await r.run(r.driver.getQueueCoalescing(1))).toEqual({ maxPackets: 0, maxUsecs: 0 });
    expect(await r.run(r.driver.getQueueCoalescing(3))).toEqual({ maxPackets: 9, maxUsecs: 9 });
  });

  it('[net.dev.84] after a reset every coalescing parameter is 0 and no timer fires', async () => {
    const r = coalRig();
    expect(await r.run(r.driver.setCoalescing('rx', { maxPackets: 5, maxUsecs: 10 }))).toBe(true);
    expect(await r.run(r.driver.setCoalescing('tx', { maxPackets: 5, maxUsecs: 10 }))).toBe(true);
    r.callback.deliver(ethFrame(60, 1));
    expect(r.timer.pending).toBe(1);
    r.driver.reset();
    expect(r.timer.pending).toBe(0);
    const again = new NetDriver(r.transport, { memory: r.memory, allocator: r.allocator, wantedFeatures: EXTRA });
    for (const vq of [0, 1]) {
      const p = again.getQueueCoalescing(vq);
      again.poll();
      expect(await p).toEqual({ maxPackets: 0, maxUsecs: 0 });
    }
  });
});

describe('the system timer', () => {
  it('[net.dev.82] is best effort: a delay is rounded up to whole milliseconds; a cancelled timer never fires', () => {
    vi.useFakeTimers();
    try {
      let fired = 0;
      systemTimer.start(1500, () => fired++);
      const cancel = systemTimer.start(10, () => fired++);
      cancel();
      vi.advanceTimersByTime(1);
      expect(fired).toBe(0);
      vi.advanceTimersByTime(1);
      expect(fired).toBe(1);
      vi.advanceTimersByTime(100);
      expect(fired).toBe(1);
    } finally {
      vi.useRealTimers();
    }
  });
});
