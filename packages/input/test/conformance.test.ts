// Conformance of the configuration query space and of the driver's use of it and of the queues.
import { describe, expect, it } from 'vitest';
import {
  ABS_X,
  EV_ABS,
  EV_KEY,
  EV_LED,
  EV_REL,
  EV_REP,
  InputConfigSpace,
  keyboardDescription,
  keyEvents,
  KEY_A,
  LED_CAPSL,
  mouseDescription,
  tabletDescription,
  VIRTIO_INPUT_CFG_ABS_INFO,
  VIRTIO_INPUT_CFG_EV_BITS,
  VIRTIO_INPUT_CFG_ID_DEVIDS,
  VIRTIO_INPUT_CFG_ID_NAME,
  VIRTIO_INPUT_CFG_ID_SERIAL,
  VIRTIO_INPUT_CFG_PROP_BITS,
  VIRTIO_INPUT_CFG_UNSET,
  VIRTIO_INPUT_CONFIG_SIZE,
  VIRTIO_INPUT_CONFIG_U,
  VIRTIO_INPUT_EVENT_SIZE,
  VIRTIO_INPUT_EVENTQ,
  VIRTIO_INPUT_STATUSQ,
} from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

function query(c: InputConfigSpace, select: number, subsel: number): Uint8Array {
  c.write(0, 1, select);
  c.write(1, 1, subsel);
  const size = c.read(VIRTIO_INPUT_CONFIG_SIZE, 1);
  return Uint8Array.from({ length: size }, (_, i) => c.read(VIRTIO_INPUT_CONFIG_U + i, 1));
}

describe('input configuration space (device)', () => {
  it('[input.dev.1] size is zero for every select/subsel combination the device does not support', () => {
    const mouse = new InputConfigSpace({ ...mouseDescription(), serial: undefined, ids: undefined });
    const zero: [number, number][] = [
      [VIRTIO_INPUT_CFG_UNSET, 0],
      [VIRTIO_INPUT_CFG_ID_NAME, 1],
      [VIRTIO_INPUT_CFG_ID_SERIAL, 0],
      [VIRTIO_INPUT_CFG_ID_DEVIDS, 0],
      [VIRTIO_INPUT_CFG_PROP_BITS, 3],
      [VIRTIO_INPUT_CFG_EV_BITS, EV_ABS],
      [VIRTIO_INPUT_CFG_EV_BITS, EV_LED],
      [VIRTIO_INPUT_CFG_ABS_INFO, ABS_X],
      [0x04, 0],
      [0xff, 0xff],
    ];
    // A supported query first, so a size left over from it would show.
    expect(query(mouse, VIRTIO_INPUT_CFG_EV_BITS, EV_REL).length).toBeGreaterThan(0);
    for (const [sel, sub] of zero) {
      expect(query(mouse, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY).length).toBeGreaterThan(0);
      expect(query(mouse, sel, sub), `select ${sel} subsel ${sub}`).toHaveLength(0);
    }
    // A keyboard has no properties: PROP_BITS size 0 as well.
    expect(query(new InputConfigSpace(keyboardDescription()), VIRTIO_INPUT_CFG_PROP_BITS, 0)).toHaveLength(0);
  });

  it('answers the name without a NUL terminator, ids little-endian, bitmaps by code', () => {
    const c = new InputConfigSpace(keyboardDescription('kbd'));
    expect(new TextDecoder().decode(query(c, VIRTIO_INPUT_CFG_ID_NAME, 0))).toBe('kbd');
    expect([...query(c, VIRTIO_INPUT_CFG_ID_DEVIDS, 0)]).toEqual([6, 0, 0xf4, 0x1a, 1, 0, 1, 0]);
    const keys = query(c, VIRTIO_INPUT_CFG_EV_BITS, EV_KEY);
    expect(keys.length).toBe(16);
    expect(keys[0]).toBe(0xfe); // KEY_ESC..KEY_7, not code 0 (KEY_RESERVED)
    expect(keys[KEY_A >> 3] & (1 << (KEY_A & 7))).not.toBe(0);
    // EV_REP is supported with no codes: size 1, empty bitmap.
    expect([...query(c, VIRTIO_INPUT_CFG_EV_BITS, EV_REP)]).toEqual([0]);
  });

  it('answers ABS_INFO as five signed le32 fields', () => {
    const c = new InputConfigSpace({ name: 't', events: new Map([[EV_ABS, [ABS_X]]]), absInfo: new Map([[ABS_X, { min: -5, max: 100, fuzz: 1, flat: 2, res: 3 }]]) });
    const b = query(c, VIRTIO_INPUT_CFG_ABS_INFO, ABS_X);
    const v = new DataView(b.buffer);
    expect(b.length).toBe(20);
    expect([0, 4, 8, 12, 16].map((o) => v.getInt32(o, true))).toEqual([-5, 100, 1, 2, 3]);
  });

  it('ignores driver writes to size and u (read-only) and answers select/subsel written in one 16-bit write', () => {
    const c = new InputConfigSpace(tabletDescription());
    c.write(0, 2, VIRTIO_INPUT_CFG_ABS_INFO | (ABS_X << 8));
    expect(c.read(VIRTIO_INPUT_CONFIG_SIZE, 1)).toBe(20);
    c.write(VIRTIO_INPUT_CONFIG_SIZE, 1, 0);
    c.write(VIRTIO_INPUT_CONFIG_U + 4, 4, 0xdeadbeef);
    expect(c.read(VIRTIO_INPUT_CONFIG_SIZE, 1)).toBe(20);
    expect(c.read(VIRTIO_INPUT_CONFIG_U + 4, 4)).toBe(32767);
  });
});

describe.each(VARIANTS)('input driver conformance over $name', ({ features }) => {
  it('[input.drv.1] every query writes both select and subsel', () => {
    const t = rig({ description: tabletDescription() }, features);
    const writes = t.config.filter((a) => a.op === 'write');
    expect(writes.length).toBeGreaterThan(0);
    for (let i = 0; i < writes.length; i += 2) {
      expect([writes[i].offset, writes[i + 1].offset].sort()).toEqual([0, 1]);
    }
    expect(t.driver.description.name).toBe('virtio-ts tablet');
    expect(t.driver.description.events.get(EV_ABS)).toEqual([0, 1]);
  });

  it('[input.drv.2] the driver writes no configuration field besides select and subsel', () => {
    const t = rig({ description: tabletDescription() }, features);
    const offsets = new Set(t.config.filter((a) => a.op === 'write').map((a) => a.offset));
    const widths = new Set(t.config.filter((a) => a.op === 'write').map((a) => a.width));
    expect([...offsets].sort()).toEqual([0, 1]);
    expect([...widths]).toEqual([1]);
  });

  it('[input.drv.3] the driver reads size before u and never past size bytes of u', () => {
    const t = rig({ description: mouseDescription() }, features);
    let size = -1;
    let reads = 0;
    for (const a of t.config) {
      if (a.op === 'write') size = -1;
      else if (a.offset === VIRTIO_INPUT_CONFIG_SIZE) size = a.value;
      else if (a.offset >= VIRTIO_INPUT_CONFIG_U) {
        expect(size).toBeGreaterThanOrEqual(0);
        expect(a.offset + a.width).toBeLessThanOrEqual(VIRTIO_INPUT_CONFIG_U + size);
        reads++;
      }
    }
    expect(reads).toBeGreaterThan(0);
  });

  it('[input.drv.4] eventq buffers are device-writable only and hold a whole virtio_input_event', async () => {
    const t = rig({ queueSize: 4 }, features);
    for (let i = 0; i < 6; i++) {
      t.device.send(keyEvents(KEY_A, i % 2 === 0));
      await settle();
    }
    const chains = t.popped[VIRTIO_INPUT_EVENTQ];
    expect(chains.length).toBe(12);
    for (const c of chains) {
      expect(c.readable).toHaveLength(0);
      expect(c.writableLength).toBeGreaterThanOrEqual(VIRTIO_INPUT_EVENT_SIZE);
    }
  });

  it('[input.drv.5] statusq buffers hold a whole virtio_input_event', async () => {
    const t = rig({}, features);
    const p = t.driver.sendStatus({ type: EV_LED, code: LED_CAPSL, value: 1 });
    await settle();
    await p;
    const chains = t.popped[VIRTIO_INPUT_STATUSQ];
    expect(chains).toHaveLength(1);
    expect(chains[0].readableLength).toBeGreaterThanOrEqual(VIRTIO_INPUT_EVENT_SIZE);
    expect(chains[0].writable).toHaveLength(0);
  });

  it('[input.drv.6] the driver ignores events the device did not advertise', async () => {
    const t = rig({ description: mouseDescription() }, features);
    // The mouse does not advertise KEY_A nor EV_LED; the host sends them anyway.
    t.device.send([{ type: EV_KEY, code: KEY_A, value: 1 }, { type: EV_LED, code: 0, value: 1 }, ...keyEvents(0x110, true)]);
    await settle();
    expect(t.driver.takeEvents()).toEqual(keyEvents(0x110, true));
    expect(t.driver.ignored).toBe(2);
  });
});
