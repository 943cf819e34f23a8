import { describe, expect, it } from 'vitest';
import {
  ABS_X,
  BTN_LEFT,
  EV_ABS,
  EV_KEY,
  EV_LED,
  EV_REL,
  EV_SYN,
  keyboardDescription,
  keyEvents,
  KEY_A,
  LED_CAPSL,
  LED_NUML,
  mouseDescription,
  RecordingStatusSink,
  relativeMoveEvents,
  absoluteMoveEvents,
  tabletDescription,
  type InputEvent,
} from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('input round trip over $name', ({ features }) => {
  it('the driver reads the keyboard description from the query space', () => {
    const t = rig({}, features);
    const d = t.driver.description;
    const k = keyboardDescription();
    expect(d.name).toBe(k.name);
    expect(d.serial).toBe(k.serial);
    expect(d.ids).toEqual(k.ids);
    expect([...d.events.keys()].sort()).toEqual([...k.events.keys()].sort());
    for (const [type, codes] of k.events) expect(d.events.get(type)).toEqual(codes);
  });

  it('delivers key presses in order, each sequence ending in EV_SYN', async () => {
    const t = rig({}, features);
    expect(t.device.send(keyEvents(KEY_A, true))).toBe(true);
    expect(t.device.send(keyEvents(KEY_A, false))).toBe(true);
    await settle();
    expect(t.driver.takeEvents()).toEqual([...keyEvents(KEY_A, true), ...keyEvents(KEY_A, false)]);
  });

  it('delivers far more events than the eventq holds, buffers recycled by the driver', async () => {
    const t = rig({ description: mouseDescription(), queueSize: 8 }, features);
    const want: InputEvent[] = [];
    for (let i = 0; i < 50; i++) {
      const seq = relativeMoveEvents(i - 25, -i || 1);
      want.push(...seq);
      expect(t.device.send(seq)).toBe(true);
      await settle();
    }
    await settle();
    expect(t.driver.takeEvents()).toEqual(want);
    expect(t.device.stats.dropped).toBe(0);
  });

  it('a mouse reports buttons and negative relative motion', async () => {
    const t = rig({ description: mouseDescription() }, features);
    t.device.send([...keyEvents(BTN_LEFT, true).slice(0, 1), ...relativeMoveEvents(-3, 7)]);
    await settle();
    expect(t.driver.takeEvents()).toEqual([
      { type: EV_KEY, code: BTN_LEFT, value: 1 },
      { type: EV_REL, code: 0, value: -3 },
      { type: EV_REL, code: 1, value: 7 },
      { type: EV_SYN, code: 0, value: 0 },
    ]);
  });

  it('a tablet advertises its axes with ABS_INFO and reports absolute positions', async () => {
    const t = rig({ description: tabletDescription(1920, 1080) }, features);
    expect(t.driver.description.absInfo?.get(ABS_X)).toEqual({ min: 0, max: 1919, fuzz: 0, flat: 0, res: 0 });
    expect(t.driver.description.absInfo?.get(1)?.max).toBe(1079);
    t.device.send(absoluteMoveEvents(1919, 0));
    await settle();
    expect(t.driver.takeEvents()).toEqual(absoluteMoveEvents(1919, 0));
    expect(t.driver.takeEvents()).toEqual([]);
    expect(absoluteMoveEvents(1, 2)[0].type).toBe(EV_ABS);
  });

  it('keyboard LED feedback travels the statusq to the host sink', async () => {
    const sink = new RecordingStatusSink();
    const t = rig({ status: sink }, features);
    const done = Promise.all([
      t.driver.sendStatus({ type: EV_LED, code: LED_CAPSL, value: 1 }),
      t.driver.sendStatus({ type: EV_LED, code: LED_NUML, value: 0 }),
    ]);
    await settle();
    await done;
    expect(sink.value(EV_LED, LED_CAPSL)).toBe(1);
    expect(sink.value(EV_LED, LED_NUML)).toBe(0);
    expect(t.device.stats.statusEvents).toBe(2);
  });

  it('[input.dev.2] a sequence is buffered or dropped whole, never split', async () => {
    const t = rig({ description: mouseDescription(), bufferEvents: 3 }, features, { eventBuffers: 1 });
    const a = relativeMoveEvents(1, 2); // 3 events: 1 goes out now, 2 wait for buffers
    const b = relativeMoveEvents(5, 0); // 2 events: do not fit beside a's 2 waiting ones
    expect(t.device.send(a)).toBe(true);
    expect(t.device.pending).toBe(2);
    expect(t.device.send(b)).toBe(false);
    for (let i = 0; i < 4; i++) await settle();
    expect(t.driver.takeEvents()).toEqual(a);
    expect(t.device.stats).toMatchObject({ delivered: 3, dropped: 2 });
  });
});

describe('input host API', () => {
  it('drops events sent before DRIVER_OK is gone (after a reset) and reports it', () => {
    const t = rig();
    t.driver.reset();
    expect(t.device.send(keyEvents(KEY_A, true))).toBe(false);
    expect(t.device.stats.dropped).toBe(2);
  });

  it('refuses out-of-range event fields without sending any of the sequence', () => {
    const t = rig();
    expect(() => t.device.send([{ type: EV_KEY, code: KEY_A, value: 1 }, { type: 0x10000, code: 0, value: 0 }])).toThrow(RangeError);
    expect(() => t.device.send([{ type: EV_KEY, code: KEY_A, value: 2 ** 31 }])).toThrow(RangeError);
    expect(t.device.stats.delivered).toBe(0);
  });

  it('refuses descriptions that do not fit the configuration layout', () => {
    expect(() => rig({ description: { ...keyboardDescription(), name: 'x'.repeat(129) } })).toThrow(RangeError);
    expect(() => rig({ description: { name: 'k', events: new Map([[EV_KEY, [1024]]]) } })).toThrow(RangeError);
    expect(() => tabletDescription(0, 10)).toThrow(RangeError);
  });
});
