// A hostile driver: malformed eventq and statusq chains, and random configuration accesses.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import type { DriverQueue } from '@virtio/ring';
import {
  CallbackStatusSink,
  EV_KEY,
  EV_LED,
  InputConfigSpace,
  keyboardDescription,
  keyEvents,
  KEY_A,
  STATUS_EVENTS_PER_BUFFER,
  tabletDescription,
  VIRTIO_INPUT_CONFIG_BYTES,
  VIRTIO_INPUT_EVENTQ,
  VIRTIO_INPUT_STATUSQ,
} from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

const needsReset = (t: ReturnType<typeof rig>) => (t.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;

/** Exposes a chain the way a hostile driver would, behind our driver's back. */
function expose(t: ReturnType<typeof rig>, queue: number, out: { addr: number; len: number }[], inSegs: { addr: number; len: number }[], token: unknown = 'hostile') {
  const q = t.driver.device.queues[queue] as DriverQueue;
  expect(q.add(out, inSegs, token)).toBe(true);
  t.driver.device.kick(queue);
}

describe.each(VARIANTS)('adversarial input driver over $name', ({ features }) => {
  it('an eventq chain with a device-readable buffer sets DEVICE_NEEDS_RESET and is not written', () => {
    const t = rig({}, features, { eventBuffers: 1 });
    t.memory.write(0xf0000, new Uint8Array(16).fill(0xaa));
    expose(t, VIRTIO_INPUT_EVENTQ, [{ addr: 0xf0000, len: 8 }], [{ addr: 0xf0008, len: 8 }]);
    t.device.send(keyEvents(KEY_A, true)); // the driver's own buffer takes the first event
    expect(needsReset(t)).toBe(true);
    const back = new Uint8Array(16);
    t.memory.read(0xf0000, back);
    expect(back.every((b) => b === 0xaa)).toBe(true);
    expect(t.device.stats.delivered).toBe(1);
  });

  it('an eventq buffer shorter than an event sets DEVICE_NEEDS_RESET', () => {
    const t = rig({}, features, { eventBuffers: 1 });
    expose(t, VIRTIO_INPUT_EVENTQ, [], [{ addr: 0xf0000, len: 7 }]);
    t.device.send(keyEvents(KEY_A, true));
    expect(needsReset(t)).toBe(true);
    // A broken device drops what the host sends later instead of touching the ring again.
    expect(t.device.send(keyEvents(KEY_A, false))).toBe(false);
  });

  it('an event split over two 4-byte writable buffers is written across both', async () => {
    const t = rig({}, features, { eventBuffers: 1 });
    expose(t, VIRTIO_INPUT_EVENTQ, [], [{ addr: 0xf0000, len: 4 }, { addr: 0xf0100, len: 4 }], 0xf0000);
    t.device.send([{ type: EV_KEY, code: KEY_A, value: -2 }, { type: EV_KEY, code: KEY_A, value: -2 }]);
    expect(needsReset(t)).toBe(false);
    expect([t.memory.readU16(0xf0000), t.memory.readU16(0xf0002), t.memory.readU32(0xf0100) | 0]).toEqual([EV_KEY, KEY_A, -2]);
    await settle();
  });

  it('a statusq buffer shorter than an event sets DEVICE_NEEDS_RESET without reaching the sink', () => {
    const seen: unknown[] = [];
    const t = rig({ status: new CallbackStatusSink((e) => seen.push(e)) }, features);
    expose(t, VIRTIO_INPUT_STATUSQ, [{ addr: 0xf0000, len: 4 }], []);
    expect(needsReset(t)).toBe(true);
    expect(seen).toHaveLength(0);
  });

  it('a huge statusq buffer yields at most STATUS_EVENTS_PER_BUFFER events', () => {
    let n = 0;
    const t = rig({ status: new CallbackStatusSink(() => n++) }, features);
    expose(t, VIRTIO_INPUT_STATUSQ, [{ addr: 0x80000, len: 0x70000 }], []);
    expect(needsReset(t)).toBe(false);
    expect(n).toBe(STATUS_EVENTS_PER_BUFFER);
  });

  it('a throwing status sink does not stop the device', async () => {
    const t = rig({ status: new CallbackStatusSink(() => { throw new Error('led controller gone'); }) }, features);
    const p = t.driver.sendStatus({ type: EV_LED, code: 0, value: 1 });
    await settle();
    await p;
    expect(needsReset(t)).toBe(false);
    t.device.send(keyEvents(KEY_A, true));
    await settle();
    expect(t.driver.takeEvents()).toEqual(keyEvents(KEY_A, true));
  });

  it('after DEVICE_NEEDS_RESET pending status sends reject', async () => {
    const t = rig({}, features);
    expose(t, VIRTIO_INPUT_STATUSQ, [{ addr: 0xf0000, len: 2 }], []);
    await expect(t.driver.sendStatus({ type: EV_LED, code: 0, value: 1 })).rejects.toThrow('needs a reset');
  });
});

describe('adversarial configuration accesses', () => {
  it('random writes and reads of any offset and width never throw and keep size within u', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: VIRTIO_INPUT_CONFIG_BYTES - 1 }), fc.constantFrom<1 | 2 | 4>(1, 2, 4), fc.integer({ min: 0, max: 0xffffffff }))),
        (ops) => {
          const c = new InputConfigSpace(tabletDescription());
          for (const [off, width, value] of ops) {
            const o = Math.min(off, VIRTIO_INPUT_CONFIG_BYTES - width);
            c.write(o, width, value);
            expect(c.read(2, 1)).toBeLessThanOrEqual(128);
            c.read(o, width);
          }
        },
      ),
    );
  });

  it('a device reset forgets select and subsel', () => {
    const t = rig({ description: keyboardDescription() });
    t.device.writeConfig(0, 2, 1); // select ID_NAME, subsel 0
    expect(t.device.readConfig(2, 1)).toBeGreaterThan(0);
    t.driver.reset();
    expect(t.device.readConfig(0, 2)).toBe(0);
    expect(t.device.readConfig(2, 1)).toBe(0);
  });
});
