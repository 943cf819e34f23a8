// A hostile driver: malformed requestq and eventq chains, random bytes, a failing backend.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  decodeLineNames,
  GpioStatusError,
  SimulatedGpioLines,
  VIRTIO_GPIO_DIRECTION_IN,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_EVENTQ,
  VIRTIO_GPIO_IRQ_STATUS_INVALID,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING,
  VIRTIO_GPIO_MSG_GET_VALUE,
  VIRTIO_GPIO_MSG_SET_DIRECTION,
  VIRTIO_GPIO_MSG_SET_IRQ_TYPE,
  VIRTIO_GPIO_MSG_SET_VALUE,
  VIRTIO_GPIO_REQUESTQ,
  VIRTIO_GPIO_STATUS_ERR,
  VIRTIO_GPIO_STATUS_OK,
  type GpioBackend,
} from '../src/index.js';
import { rawRig, rig, SCRATCH, settle, VARIANTS } from './harness.js';

const ERR = VIRTIO_GPIO_STATUS_ERR;
const OK = VIRTIO_GPIO_STATUS_OK;

describe('adversarial GPIO requests (device)', () => {
  it('answers ERR for lines out of range, unknown types and out-of-range values', () => {
    const t = rawRig();
    const cases: [number, number, number][] = [
      [VIRTIO_GPIO_MSG_GET_VALUE, 10, 0],
      [VIRTIO_GPIO_MSG_GET_VALUE, 0xffff, 0],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 3],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 0xffffffff],
      [VIRTIO_GPIO_MSG_SET_VALUE, 0, 2],
      [VIRTIO_GPIO_MSG_SET_VALUE, 0, 0x100],
      [0, 0, 0],
      [7, 0, 0],
      [0xffff, 0, 0],
    ];
    for (const [type, gpio, value] of cases) expect([...t.send(type, gpio, value).response], `${type}/${gpio}/${value}`).toEqual([ERR, 0]);
    expect(t.needsReset()).toBe(false);
  });

  it('a request shorter than struct virtio_gpio_request or a 1-byte response gets ERR, not a guess', () => {
    const t = rawRig();
    const q = t.dd.queues[VIRTIO_GPIO_REQUESTQ]!;
    t.memory.write(SCRATCH, Uint8Array.of(VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 1, 0, VIRTIO_GPIO_DIRECTION_OUT, 0, 0));
    t.memory.write(SCRATCH + 0x100, Uint8Array.of(0xee, 0xee));
    q.add([{ addr: SCRATCH, len: 7 }], [{ addr: SCRATCH + 0x100, len: 2 }], 0);
    t.memory.write(SCRATCH + 0x200, Uint8Array.of(VIRTIO_GPIO_MSG_SET_DIRECTION, 0, 1, 0, VIRTIO_GPIO_DIRECTION_OUT, 0, 0, 0));
    t.memory.write(SCRATCH + 0x300, Uint8Array.of(0xee, 0xee));
    q.add([{ addr: SCRATCH + 0x200, len: 8 }], [{ addr: SCRATCH + 0x300, len: 1 }], 1);
    t.dd.kick(VIRTIO_GPIO_REQUESTQ);
    expect([q.reap()?.len, q.reap()?.len]).toEqual([2, 1]);
    expect([t.memory.readU8(SCRATCH + 0x100), t.memory.readU8(SCRATCH + 0x101), t.memory.readU8(SCRATCH + 0x300), t.memory.readU8(SCRATCH + 0x301)]).toEqual([ERR, 0, ERR, 0xee]);
    expect(t.lines.direction(1)).toBe(0);
    expect(t.needsReset()).toBe(false);
  });

  it('a request and response split over several buffers are read and written across them', () => {
    const t = rawRig();
    const q = t.dd.queues[VIRTIO_GPIO_REQUESTQ]!;
    t.memory.write(SCRATCH, Uint8Array.of(VIRTIO_GPIO_MSG_SET_VALUE, 0, 4));
    t.memory.write(SCRATCH + 0x40, Uint8Array.of(0, 1, 0, 0, 0));
    q.add([{ addr: SCRATCH, len: 3 }, { addr: SCRATCH + 0x40, len: 5 }], [{ addr: SCRATCH + 0x80, len: 1 }, { addr: SCRATCH + 0xc0, len: 1 }], 0);
    t.dd.kick(VIRTIO_GPIO_REQUESTQ);
    expect(q.reap()?.len).toBe(2);
    expect([t.memory.readU8(SCRATCH + 0x80), t.memory.readU8(SCRATCH + 0xc0)]).toEqual([OK, 0]);
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 4, VIRTIO_GPIO_DIRECTION_OUT);
    expect(t.lines.output(4)).toBe(1);
  });

  it('a requestq chain without a device-writable byte sets DEVICE_NEEDS_RESET; the device then ignores the rings', () => {
    const t = rawRig();
    const q = t.dd.queues[VIRTIO_GPIO_REQUESTQ]!;
    q.add([{ addr: SCRATCH, len: 8 }], [], 0);
    t.dd.kick(VIRTIO_GPIO_REQUESTQ);
    expect(t.needsReset()).toBe(true);
    t.submit(VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_OUT);
    expect(t.flush()).toEqual([]);
    t.lines.setInput(0, 1);
    expect(t.lines.direction(0)).toBe(0);
  });

  it('eventq chains: too short, unknown line, not enabled, a second pair for a line: back INVALID at once', () => {
    const t = rawRig();
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 2, VIRTIO_GPIO_DIRECTION_IN);
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 2, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
    const q = t.dd.queues[VIRTIO_GPIO_EVENTQ]!;
    t.memory.write(SCRATCH, Uint8Array.of(2, 0, 10, 0, 3, 0, 2, 0));
    t.memory.write(SCRATCH + 0x100, new Uint8Array(8).fill(0xee));
    q.add([{ addr: SCRATCH, len: 1 }], [{ addr: SCRATCH + 0x100, len: 1 }], 'short');
    q.add([{ addr: SCRATCH + 2, len: 2 }], [{ addr: SCRATCH + 0x101, len: 1 }], 'line 10');
    q.add([{ addr: SCRATCH + 4, len: 2 }], [{ addr: SCRATCH + 0x102, len: 1 }], 'line 3, not enabled');
    q.add([{ addr: SCRATCH + 6, len: 2 }], [{ addr: SCRATCH + 0x103, len: 1 }], 'line 2');
    q.add([{ addr: SCRATCH + 6, len: 2 }], [{ addr: SCRATCH + 0x104, len: 1 }], 'line 2 again');
    t.dd.kick(VIRTIO_GPIO_EVENTQ);
    const back: unknown[] = [];
    let u;
    while ((u = q.reap()) !== null) back.push(u.token);
    expect(back).toEqual(['short', 'line 10', 'line 3, not enabled', 'line 2 again']);
    expect([...Array(5).keys()].map((i) => t.memory.readU8(SCRATCH + 0x100 + i))).toEqual([
      VIRTIO_GPIO_IRQ_STATUS_INVALID, VIRTIO_GPIO_IRQ_STATUS_INVALID, VIRTIO_GPIO_IRQ_STATUS_INVALID, 0xee, VIRTIO_GPIO_IRQ_STATUS_INVALID,
    ]);
    expect(t.needsReset()).toBe(false);
  });

  it('an eventq chain without a device-writable byte sets DEVICE_NEEDS_RESET', () => {
    const t = rawRig();
    const q = t.dd.queues[VIRTIO_GPIO_EVENTQ]!;
    q.add([{ addr: SCRATCH, len: 2 }], [], 0);
    t.dd.kick(VIRTIO_GPIO_EVENTQ);
    expect(t.needsReset()).toBe(true);
  });

  it('a backend that throws makes the message fail with ERR; the device goes on', () => {
    const sim = new SimulatedGpioLines({ ngpio: 4 });
    const lines: GpioBackend = {
      ngpio: 4,
      setDirection: (l, d, v) => {
        if (l === 3) throw new Error('pin 3 is reserved');
        sim.setDirection(l, d, v);
      },
      getValue: (l) => {
        if (l === 2) throw new Error('no');
        return sim.getValue(l);
      },
      setValue: () => {
        throw new Error('stuck');
      },
      watch: (fn) => sim.watch(fn),
    };
    const t = rawRig({ device: { lines } });
    expect(t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 3, VIRTIO_GPIO_DIRECTION_OUT).response[0]).toBe(ERR);
    expect(t.send(VIRTIO_GPIO_MSG_GET_VALUE, 2, 0).response[0]).toBe(ERR);
    expect(t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VIRTIO_GPIO_DIRECTION_OUT).response[0]).toBe(OK);
    expect(t.send(VIRTIO_GPIO_MSG_SET_VALUE, 1, 1).response[0]).toBe(ERR);
    expect(t.send(VIRTIO_GPIO_MSG_GET_VALUE, 1, 0).response).toEqual(Uint8Array.of(OK, 0));
    expect(t.needsReset()).toBe(false);
  });

  it.each(VARIANTS)('random requestq and eventq chains never throw out of the device, never write outside their buffers ($name)', ({ features }) => {
    const seg = fc.record({ off: fc.integer({ min: 0, max: 0x7ff0 }), len: fc.integer({ min: 0, max: 24 }) });
    const chain = fc.record({
      queue: fc.constantFrom(VIRTIO_GPIO_REQUESTQ, VIRTIO_GPIO_EVENTQ),
      out: fc.array(seg, { maxLength: 3 }),
      in: fc.array(seg, { maxLength: 3 }),
    });
    const bytes = fc.uint8Array({ minLength: 0x8000, maxLength: 0x8000 });
    fc.assert(
      fc.property(fc.array(chain, { minLength: 1, maxLength: 12 }), bytes, fc.array(fc.tuple(fc.integer({ min: 0, max: 9 }), fc.boolean()), { maxLength: 8 }), (chains, data, edges) => {
        const t = rawRig({ features });
        t.memory.write(SCRATCH, data.subarray(0, 0x8000));
        // Every writable segment is in the second half of the scratch area: only those bytes may change.
        const readOnly = new Uint8Array(0x8000);
        t.memory.read(SCRATCH, readOnly);
        for (const [line, level] of edges.slice(0, 4)) {
          t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, line, 1 + (line % 3));
          t.lines.setInput(line, level ? 1 : 0);
        }
        for (const c of chains) {
          const q = t.dd.queues[c.queue];
          if (!q) continue;
          const out = c.out.map((s) => ({ addr: SCRATCH + (s.off & 0x3fff), len: s.len }));
          const inSegs = c.in.map((s) => ({ addr: SCRATCH + 0x4000 + (s.off & 0x3fff), len: s.len }));
          if (out.length + inSegs.length === 0 || !q.add(out, inSegs, 0)) continue;
          t.dd.kick(c.queue);
        }
        for (const [line, level] of edges) t.lines.setInput(line, level ? 1 : 0);
        const after = new Uint8Array(0x4000);
        t.memory.read(SCRATCH, after);
        expect(after).toEqual(readOnly.subarray(0, 0x4000));
      }),
      { numRuns: 60 },
    );
  });
});

describe('what the driver takes from the device', () => {
  it('decodes a hostile gpio-names block without overrun: missing terminators, bytes >= 0x80, too few strings', () => {
    expect(decodeLineNames(3, Uint8Array.of(0x41, 0x42))).toEqual(['AB', null, null]);
    expect(decodeLineNames(2, Uint8Array.of(0x41, 0xff, 0x42, 0, 0, 0x43, 0))).toEqual(['AB', null]);
    expect(decodeLineNames(1, new Uint8Array(0))).toEqual([null]);
  });

  it('a message the device answers with ERR rejects with GpioStatusError; other messages go on', async () => {
    const sim = new SimulatedGpioLines({ ngpio: 2 });
    const lines: GpioBackend = {
      ngpio: 2,
      setDirection: (l, d, v) => sim.setDirection(l, d, v),
      getValue: (l) => {
        if (l === 1) throw new Error('unreadable');
        return sim.getValue(l);
      },
      setValue: (l, v) => sim.setValue(l, v),
      watch: (fn) => sim.watch(fn),
    };
    const t = rig({ device: { lines } });
    const [bad, good] = await Promise.allSettled([t.driver.getValue(1), t.driver.getValue(0), settle()]);
    expect(bad.status === 'rejected' && bad.reason).toBeInstanceOf(GpioStatusError);
    expect(good).toEqual({ status: 'fulfilled', value: 0 });
    // Line numbers beyond ngpio never reach the ring.
    expect(() => t.driver.getValue(2)).toThrow(RangeError);
  });
});
