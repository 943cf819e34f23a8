// A hostile driver: random request bytes and buffer shapes, bad alarmq buffers, a broken ring.
// The device answers with a status or sets DEVICE_NEEDS_RESET; it never throws, hangs or
// writes outside the buffers it was given.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import type { DriverQueue } from '@virtio/ring';
import {
  LinearHwCounter,
  RTC_MESSAGE_SIZES,
  VIRTIO_RTC_CLOCK_MONOTONIC,
  VIRTIO_RTC_CLOCK_UTC,
  VIRTIO_RTC_REQ_SET_ALARM,
  VIRTIO_RTC_S_EINVAL,
  VIRTIO_RTC_S_EIO,
  VIRTIO_RTC_S_ENODEV,
  VIRTIO_RTC_S_EOPNOTSUPP,
  VIRTIO_RTC_S_OK,
} from '../src/index.js';
import { done, needsReset, NS, raw, RAW, settle, started, VARIANTS, type Rig } from './harness.js';

const STATUSES = [VIRTIO_RTC_S_OK, VIRTIO_RTC_S_EOPNOTSUPP, VIRTIO_RTC_S_ENODEV, VIRTIO_RTC_S_EINVAL, VIRTIO_RTC_S_EIO];
const CLOCKS = [{ type: VIRTIO_RTC_CLOCK_UTC, alarm: true }, { type: VIRTIO_RTC_CLOCK_MONOTONIC, alarm: true }];
const TYPES = [...RTC_MESSAGE_SIZES.keys()];

/** Request bytes: mostly a known msg_type with small clock ids, sometimes anything. */
const requestBytes = fc.oneof(
  fc.uint8Array({ minLength: 0, maxLength: 40 }),
  fc
    .tuple(fc.constantFrom(...TYPES), fc.uint8Array({ minLength: 0, maxLength: 32 }), fc.nat(3), fc.boolean())
    .map(([t, body, clock, clean]) => {
      const b = new Uint8Array(8 + body.length);
      b.set(body, 8);
      new DataView(b.buffer).setUint16(0, t, true);
      const at = t === VIRTIO_RTC_REQ_SET_ALARM ? 16 : 8;
      if (b.length >= at + 2) new DataView(b.buffer).setUint16(at, clock, true);
      if (clean) b.fill(0, 10, Math.min(b.length, 16));
      return b;
    }),
);

describe.each(VARIANTS)('hostile requests over $name', ({ features }) => {
  it('random requests and buffer sizes get a defined status, within the buffers, never a reset', async () => {
    const r = await started({ clocks: CLOCKS, counters: [new LinearHwCounter({ hwCounter: 1, hz: 1000n })] }, { ringFeatures: features });
    await fc.assert(
      fc.asyncProperty(requestBytes, fc.nat(40), fc.option(fc.nat(39), { nil: undefined }), async (request, writable, split) => {
        if (request.length === 0 && writable === 0) return; // not a buffer at all
        const res = await raw(r, request, writable, split === undefined ? undefined : Math.max(1, split));
        expect(res.len).toBeLessThanOrEqual(writable);
        expect(res.resp.subarray(res.len).every((b) => b === 0xaa)).toBe(true);
        if (writable > 0) expect(STATUSES).toContain(res.status);
        else expect(res.len).toBe(0);
        expect(needsReset(r)).toBe(false);
      }),
      { numRuns: 300 },
    );
    // Our own driver still works after all that.
    expect(typeof (await done(r.driver.read(0)))).toBe('bigint');
  });

  it('a request spread over one-byte descriptors is read like a contiguous one', async () => {
    const r = await started({ clocks: CLOCKS }, { ringFeatures: features });
    const q = r.driver.device.queues[0] as DriverQueue<unknown>;
    const request = new Uint8Array(16);
    new DataView(request.buffer).setUint16(0, 0x0001, true);
    new DataView(request.buffer).setUint16(8, 1, true);
    r.memory.write(RAW, request);
    r.transport.onInterrupt = undefined;
    const out = Array.from({ length: 16 }, (_, i) => ({ addr: RAW + i, len: 1 }));
    const inSegs = Array.from({ length: 4 }, (_, i) => ({ addr: RAW + 0x100 + i * 4, len: 4 }));
    expect(q.add(out, inSegs, 'split')).toBe(true);
    r.driver.device.kick(0);
    const used = q.reap();
    expect(used?.len).toBe(16);
    expect(r.memory.readU8(RAW + 0x100)).toBe(VIRTIO_RTC_S_OK);
    expect(r.memory.readU64(RAW + 0x108)).toBe(r.clock.monotonicNs());
  });
});

describe('hostile alarmq and rings', () => {
  /** Places a buffer on the alarmq behind our driver's back, after the driver's own one. */
  function hostileAlarmBuffer(r: Rig, out: { addr: number; len: number }[], inSegs: { addr: number; len: number }[]) {
    const q = r.driver.device.queues[1] as DriverQueue<unknown>;
    expect(q.add(out, inSegs, 'hostile')).toBe(true);
    r.driver.device.kick(1);
  }

  it('an alarmq buffer too small for a notification sets DEVICE_NEEDS_RESET when it is needed, and nothing is written', async () => {
    const r = await started({ clocks: CLOCKS }, { alarmBuffers: 1 });
    r.memory.write(RAW, new Uint8Array(16).fill(0xaa));
    hostileAlarmBuffer(r, [], [{ addr: RAW, len: 15 }]);
    // The first notification takes our driver's buffer, the second the hostile one.
    await done(r.driver.setAlarm(0, 0n, true));
    expect(needsReset(r)).toBe(false);
    await done(r.driver.setAlarm(1, 0n, true)).catch(() => {});
    expect(needsReset(r)).toBe(true);
    const back = new Uint8Array(16);
    r.memory.read(RAW, back);
    expect(back.every((b) => b === 0xaa)).toBe(true);
    await expect(done(r.driver.read(0))).rejects.toThrow('needs a reset');
  });

  it('an alarmq buffer with device-readable parts sets DEVICE_NEEDS_RESET', async () => {
    const r = await started({ clocks: CLOCKS }, { alarmBuffers: 1 });
    hostileAlarmBuffer(r, [{ addr: RAW, len: 16 }], [{ addr: RAW + 64, len: 16 }]);
    await done(r.driver.setAlarm(0, 0n, true));
    await done(r.driver.setAlarm(1, 0n, true)).catch(() => {});
    expect(needsReset(r)).toBe(true);
  });

  it('a broken available ring (its index jumps) sets DEVICE_NEEDS_RESET; pending requests reject; later kicks do nothing', async () => {
    const r = await started({ clocks: CLOCKS });
    const q = r.driver.device.queues[0] as DriverQueue<unknown>;
    // The available index jumps by more than the queue size: the ring layer refuses the ring.
    const cfg = q.config;
    expect(cfg.packed).toBe(false);
    const idx = r.memory.readU16(cfg.driverArea + 2);
    r.memory.writeU16(cfg.driverArea + 2, (idx + cfg.size + 1) & 0xffff);
    r.transport.notify(0);
    const p = r.driver.read(0);
    p.catch(() => {});
    await settle();
    expect(needsReset(r)).toBe(true);
    await expect(p).rejects.toThrow('needs a reset');
    const before = r.device.stats.requests;
    r.transport.notify(0);
    expect(r.device.stats.requests).toBe(before);
  });

  it('a throwing implementation-specific alarm action does not stop the device', async () => {
    const r = await started({
      clocks: CLOCKS,
      onAlarm: () => {
        throw new Error('host hook failed');
      },
    });
    await done(r.driver.setAlarm(0, 0n, true));
    await settle();
    expect(r.driver.takeAlarms().map((a) => a.clockId)).toEqual([0]);
    expect(await done(r.driver.read(1))).toBe(5n * NS);
  });
});
