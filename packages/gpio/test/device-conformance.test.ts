// Device conformance (spec 5.18.6-5.18.7), observed byte by byte through a hand-written driver.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_F_VERSION_1 } from '@virtio/core';
import {
  encodeLineNames,
  GpioDevice,
  SimulatedGpioLines,
  VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE,
  VIRTIO_GPIO_CONFIG_NGPIO,
  VIRTIO_GPIO_CONFIG_PADDING,
  VIRTIO_GPIO_DIRECTION_IN,
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_IRQ_STATUS_INVALID,
  VIRTIO_GPIO_IRQ_STATUS_VALID,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW,
  VIRTIO_GPIO_IRQ_TYPE_NONE,
  VIRTIO_GPIO_MSG_GET_DIRECTION,
  VIRTIO_GPIO_MSG_GET_LINE_NAMES,
  VIRTIO_GPIO_MSG_GET_VALUE,
  VIRTIO_GPIO_MSG_SET_DIRECTION,
  VIRTIO_GPIO_MSG_SET_IRQ_TYPE,
  VIRTIO_GPIO_MSG_SET_VALUE,
  VIRTIO_GPIO_STATUS_ERR,
  VIRTIO_GPIO_STATUS_OK,
} from '../src/index.js';
import { NAMES, rawRig } from './harness.js';

const OK = VIRTIO_GPIO_STATUS_OK;
const ERR = VIRTIO_GPIO_STATUS_ERR;
const VALID = VIRTIO_GPIO_IRQ_STATUS_VALID;
const INVALID = VIRTIO_GPIO_IRQ_STATUS_INVALID;

/** The spec's example block (spec 5.18.6.1): lines 0, 5 and 7 named, 10 lines. */
const SPEC_EXAMPLE = [
  ...'MMC-CD', 0, 0, 0, 0, 0, ...'Red LED Vdd', 0, 0, ...'ethernet reset', 0, 0, 0,
].map((c) => (typeof c === 'string' ? c.charCodeAt(0) : c));

describe('GPIO device configuration', () => {
  it('[gpio.dev.2] ngpio, zero padding and gpio_names_size are all set in the configuration space', () => {
    const t = rawRig();
    expect(t.transport.readConfig(VIRTIO_GPIO_CONFIG_NGPIO, 2)).toBe(10);
    expect(t.transport.readConfig(VIRTIO_GPIO_CONFIG_PADDING, 2)).toBe(0);
    expect(t.transport.readConfig(VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE, 4)).toBe(SPEC_EXAMPLE.length);
    const wide = rawRig({ lines: { ngpio: 0xffff, names: undefined } });
    expect(wide.transport.readConfig(VIRTIO_GPIO_CONFIG_NGPIO, 2)).toBe(0xffff);
    expect(wide.transport.readConfig(VIRTIO_GPIO_CONFIG_NGPIO, 4)).toBe(0xffff);
  });

  it('[gpio.dev.3] gpio_names_size is zero without names, and GET_LINE_NAMES then fails', () => {
    for (const names of [undefined, [], [null, '', undefined]]) {
      const t = rawRig({ lines: { names } });
      expect(t.transport.readConfig(VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE, 4)).toBe(0);
      expect([...t.send(VIRTIO_GPIO_MSG_GET_LINE_NAMES, 0, 0, 4).response]).toEqual([ERR, 0]);
    }
  });

  it('[gpio.dev.4] gpio_names_size is the size of the gpio-names block: zero-terminated, unique names', () => {
    const t = rawRig();
    expect(t.transport.readConfig(VIRTIO_GPIO_CONFIG_GPIO_NAMES_SIZE, 4)).toBe(SPEC_EXAMPLE.length);
    const c = t.send(VIRTIO_GPIO_MSG_GET_LINE_NAMES, 0, 0, 1 + SPEC_EXAMPLE.length);
    expect(c.len).toBe(1 + SPEC_EXAMPLE.length);
    expect([...c.response]).toEqual([OK, ...SPEC_EXAMPLE]);
    expect(c.response.filter((b) => b === 0).length).toBe(1 + 10); // status + one terminator per line
    // Names the device cannot present as the spec requires are refused up front.
    expect(() => encodeLineNames(3, ['a', 'b', 'a'])).toThrow(RangeError);
    expect(() => encodeLineNames(2, ['caf\u00e9'])).toThrow(RangeError);
    expect(() => encodeLineNames(2, ['a\0b'])).toThrow(RangeError);
    expect(() => new GpioDevice({ lines: new SimulatedGpioLines({ ngpio: 2, names: ['x', 'x'] }) })).toThrow(RangeError);
  });
});

describe('GPIO requestq (device)', () => {
  it('[gpio.dev.1] every response has all its fields set, on success and on failure', () => {
    const t = rawRig();
    const cases: [number, number, number, number[]][] = [
      [VIRTIO_GPIO_MSG_GET_DIRECTION, 3, 0, [OK, VIRTIO_GPIO_DIRECTION_NONE]],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 3, VIRTIO_GPIO_DIRECTION_IN, [OK, 0]],
      [VIRTIO_GPIO_MSG_GET_DIRECTION, 3, 0, [OK, VIRTIO_GPIO_DIRECTION_IN]],
      [VIRTIO_GPIO_MSG_GET_VALUE, 3, 0, [OK, 0]],
      [VIRTIO_GPIO_MSG_SET_VALUE, 3, 1, [OK, 0]],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, [OK, 0]],
      [VIRTIO_GPIO_MSG_GET_VALUE, 10, 0, [ERR, 0]],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 3, 7, [ERR, 0]],
      [0x7777, 3, 0, [ERR, 0]],
    ];
    for (const [type, gpio, value, want] of cases) {
      const c = t.send(type, gpio, value);
      expect([...c.response], `message ${type} line ${gpio} value ${value}`).toEqual(want);
      expect(c.len).toBe(2);
    }
    // GET_LINE_NAMES failing on a short buffer zeroes the whole response it was given.
    const c = t.send(VIRTIO_GPIO_MSG_GET_LINE_NAMES, 0, 0, 8);
    expect([...c.response]).toEqual([ERR, 0, 0, 0, 0, 0, 0, 0]);
  });

  it('[gpio.dev.5] messages for one line are processed in order and answered in order', () => {
    const t = rawRig();
    const seq: [number, number][] = [
      [VIRTIO_GPIO_MSG_SET_VALUE, 1],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, VIRTIO_GPIO_DIRECTION_OUT],
      [VIRTIO_GPIO_MSG_GET_VALUE, 0],
      [VIRTIO_GPIO_MSG_SET_VALUE, 0],
      [VIRTIO_GPIO_MSG_GET_VALUE, 0],
      [VIRTIO_GPIO_MSG_SET_VALUE, 1],
      [VIRTIO_GPIO_MSG_GET_VALUE, 0],
      [VIRTIO_GPIO_MSG_GET_DIRECTION, 0],
    ];
    const addrs = seq.map(([type, value]) => t.submit(type, 2, value));
    const done = t.flush();
    expect(done.map((c) => c.addr)).toEqual(addrs);
    expect(done.map((c) => [...c.response])).toEqual([
      [OK, 0], [OK, 0], [OK, 1], [OK, 0], [OK, 0], [OK, 0], [OK, 1], [OK, VIRTIO_GPIO_DIRECTION_OUT],
    ]);
    expect(t.lines.output(2)).toBe(1);
  });

  it('[gpio.dev.7] SET_DIRECTION NONE discards all state of the line', () => {
    const t = rawRig();
    t.send(VIRTIO_GPIO_MSG_SET_VALUE, 4, 1);
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 4, VIRTIO_GPIO_DIRECTION_IN);
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 4, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
    t.unmask(4);
    expect(t.events()).toEqual([]);
    expect([...t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 4, VIRTIO_GPIO_DIRECTION_NONE).response]).toEqual([OK, 0]);
    // The interrupt went with it: its buffer is back INVALID and an edge no longer fires.
    expect(t.events()).toEqual([{ line: 4, status: INVALID, len: 1 }]);
    expect([...t.send(VIRTIO_GPIO_MSG_GET_DIRECTION, 4, 0).response]).toEqual([OK, VIRTIO_GPIO_DIRECTION_NONE]);
    t.unmask(4);
    expect(t.events()).toEqual([{ line: 4, status: INVALID, len: 1 }]);
    t.lines.setInput(4, 1);
    expect(t.events()).toEqual([]);
    // The output value is forgotten: switching to output now drives low, not the old high.
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 4, VIRTIO_GPIO_DIRECTION_OUT);
    expect(t.lines.output(4)).toBe(0);
  });

  it('SET_VALUE before SET_DIRECTION output is the level the line starts driving', () => {
    const t = rawRig();
    t.send(VIRTIO_GPIO_MSG_SET_VALUE, 1, 1);
    expect(t.lines.output(1)).toBeUndefined();
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VIRTIO_GPIO_DIRECTION_OUT);
    expect(t.lines.output(1)).toBe(1);
  });
});

describe('GPIO interrupts (device)', () => {
  const enable = (t: ReturnType<typeof rawRig>, line: number, type: number) => {
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, line, VIRTIO_GPIO_DIRECTION_IN);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, line, type).response[0]).toBe(OK);
  };

  it('[gpio.dev.8] an edge sensed while the interrupt is enabled but masked is latched and delivered on unmask', () => {
    const t = rawRig();
    enable(t, 6, VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING);
    t.lines.setInput(6, 1);
    t.lines.setInput(6, 0); // falling edge while masked
    t.lines.setInput(6, 1); // the line is high again when unmasked
    expect(t.events()).toEqual([]);
    t.unmask(6);
    expect(t.events()).toEqual([{ line: 6, status: VALID, len: 1 }]);
    // Delivered once: the latch is consumed.
    t.unmask(6);
    expect(t.events()).toEqual([]);
  });

  it('[gpio.dev.9] a level interrupt sensed while masked is not latched', () => {
    const t = rawRig();
    enable(t, 1, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH);
    t.lines.setInput(1, 1);
    t.lines.setInput(1, 0); // active, then inactive again, all while masked
    t.unmask(1);
    expect(t.events()).toEqual([]);
    t.lines.setInput(1, 1);
    expect(t.events()).toEqual([{ line: 1, status: VALID, len: 1 }]);
    // Still active when unmasked again: notified again.
    t.unmask(1);
    expect(t.events()).toEqual([{ line: 1, status: VALID, len: 1 }]);
  });

  it('[gpio.dev.10] disabling the interrupt discards a latched edge', () => {
    const t = rawRig();
    enable(t, 2, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
    t.lines.setInput(2, 1); // latched
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 2, VIRTIO_GPIO_IRQ_TYPE_NONE);
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 2, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING);
    t.unmask(2);
    expect(t.events()).toEqual([]);
    t.lines.setInput(2, 0);
    t.lines.setInput(2, 1);
    expect(t.events()).toEqual([{ line: 2, status: VALID, len: 1 }]);
  });

  it('[gpio.dev.11] no interrupt event unless the interrupt is both enabled and unmasked', () => {
    const t = rawRig();
    // Unmasked but not enabled: the buffer comes straight back INVALID, edges do nothing.
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_IN);
    t.unmask(0);
    expect(t.events()).toEqual([{ line: 0, status: INVALID, len: 1 }]);
    t.lines.setInput(0, 1);
    expect(t.events()).toEqual([]);
    // Enabled but masked: nothing until unmasked (a level interrupt that is active).
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 0, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH);
    expect(t.events()).toEqual([]);
    t.unmask(0);
    expect(t.events()).toEqual([{ line: 0, status: VALID, len: 1 }]);
    // Masked again after delivery: another level change is not reported.
    t.lines.setInput(0, 0);
    t.lines.setInput(0, 1);
    expect(t.events()).toEqual([]);
  });

  it('[gpio.dev.12] SET_IRQ_TYPE NONE returns a held buffer INVALID', () => {
    const t = rawRig();
    enable(t, 9, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH);
    t.unmask(9);
    expect(t.events()).toEqual([]);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 9, VIRTIO_GPIO_IRQ_TYPE_NONE).response[0]).toBe(OK);
    expect(t.events()).toEqual([{ line: 9, status: INVALID, len: 1 }]);
    // Without a held buffer, disabling returns nothing.
    t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 9, VIRTIO_GPIO_IRQ_TYPE_NONE);
    expect(t.events()).toEqual([]);
  });

  it.each([
    ['EDGE_RISING', VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, [1, 0, 1, 0], [true, false, true, false]],
    ['EDGE_FALLING', VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING, [1, 0, 1, 0], [false, true, false, true]],
    ['EDGE_BOTH', VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, [1, 0, 1, 0], [true, true, true, true]],
  ] as const)('%s fires on the right edges', (_name, type, levels, fires) => {
    const t = rawRig();
    enable(t, 5, type);
    for (let i = 0; i < levels.length; i++) {
      t.unmask(5);
      t.lines.setInput(5, levels[i]);
      const ev = t.events();
      expect(ev.length > 0, `level ${levels[i]} (#${i})`).toBe(fires[i]);
      if (!fires[i]) {
        // Take the unused buffer back by disabling and re-enabling.
        t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5, VIRTIO_GPIO_IRQ_TYPE_NONE);
        expect(t.events()).toEqual([{ line: 5, status: INVALID, len: 1 }]);
        t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5, type);
      }
    }
  });

  it('LEVEL_LOW fires while the line is low and unmasked, again on each unmask while it stays low', () => {
    const t = rawRig({ lines: { inputs: [1, 1, 1, 1, 1, 1, 1, 1, 1, 1] } });
    enable(t, 3, VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW);
    t.unmask(3);
    expect(t.events()).toEqual([]);
    t.lines.setInput(3, 0);
    expect(t.events()).toEqual([{ line: 3, status: VALID, len: 1 }]);
    t.unmask(3);
    expect(t.events()).toEqual([{ line: 3, status: VALID, len: 1 }]);
    t.lines.setInput(3, 1);
    t.unmask(3);
    expect(t.events()).toEqual([]);
  });

  it('refuses SET_IRQ_TYPE without VIRTIO_GPIO_F_IRQ, on an output line, with an unknown type, or changing an enabled type', () => {
    const none = rawRig({ features: 0n });
    expect(none.dd.features & featureMask(0)).toBe(0n);
    expect(none.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 0, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING).response[0]).toBe(ERR);
    const t = rawRig();
    t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 0, VIRTIO_GPIO_DIRECTION_OUT);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 0, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING).response[0]).toBe(ERR);
    for (const bad of [5, 6, 7, 9, 0x10, 0xffffffff]) expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1, bad).response[0]).toBe(ERR);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW).response[0]).toBe(OK);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_LEVEL_LOW).response[0]).toBe(OK);
    expect(t.send(VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 1, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH).response[0]).toBe(ERR);
    // A line with an enabled interrupt cannot become an output.
    expect(t.send(VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VIRTIO_GPIO_DIRECTION_OUT).response[0]).toBe(ERR);
  });

  it('a device without VIRTIO_GPIO_F_IRQ does not offer it', () => {
    const d = new GpioDevice({ lines: new SimulatedGpioLines({ ngpio: 1 }), irq: false, ringFeatures: 0n });
    expect(d.deviceFeatures).toBe(featureMask(VIRTIO_F_VERSION_1));
    expect(NAMES.length).toBe(10);
  });
});
