// Driver conformance (spec 5.18.6-5.18.7): what our GpioDriver puts on the rings, as the device saw it.
import { describe, expect, it } from 'vitest';
import {
  GpioDriverError,
  VIRTIO_GPIO_DIRECTION_IN,
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_EVENTQ,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH,
  VIRTIO_GPIO_IRQ_TYPE_NONE,
  VIRTIO_GPIO_MSG_GET_DIRECTION,
  VIRTIO_GPIO_MSG_GET_LINE_NAMES,
  VIRTIO_GPIO_MSG_GET_VALUE,
  VIRTIO_GPIO_MSG_SET_DIRECTION,
  VIRTIO_GPIO_MSG_SET_IRQ_TYPE,
  VIRTIO_GPIO_MSG_SET_VALUE,
  VIRTIO_GPIO_REQUESTQ,
} from '../src/index.js';
import { rig, settle, VARIANTS, type RingOp } from './harness.js';

/** Decodes a popped requestq request: [type, gpio, value]. */
const msg = (b: Uint8Array) => {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  return [v.getUint16(0, true), v.getUint16(2, true), v.getUint32(4, true)];
};
const pops = (log: RingOp[], qi: number) => log.filter((e) => e.op === 'pop' && e.qi === qi);

describe.each(VARIANTS)('GPIO driver conformance over $name', ({ features }) => {
  it('[gpio.drv.1] [gpio.drv.2] [gpio.drv.3] [gpio.drv.4] every message goes on the requestq as a device-readable request and a device-writable response', async () => {
    const t = rig({ features });
    await Promise.all([
      t.driver.lineNames(),
      t.driver.getDirection(1),
      t.driver.setDirection(1, VIRTIO_GPIO_DIRECTION_IN),
      t.driver.getValue(1),
      t.driver.setValue(2, 1),
      t.driver.enableInterrupt(3, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {}),
      settle(),
    ]);
    const popped = pops(t.log, VIRTIO_GPIO_REQUESTQ);
    expect(popped.map((e) => msg(e.request))).toEqual([
      [VIRTIO_GPIO_MSG_GET_LINE_NAMES, 0, 0],
      [VIRTIO_GPIO_MSG_GET_DIRECTION, 1, 0],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 1, VIRTIO_GPIO_DIRECTION_IN],
      [VIRTIO_GPIO_MSG_GET_VALUE, 1, 0],
      [VIRTIO_GPIO_MSG_SET_VALUE, 2, 1],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 3, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING],
    ]);
    for (const [i, e] of popped.entries()) {
      expect(e.chain.readableLength).toBe(8);
      // GET_LINE_NAMES: struct virtio_gpio_response_N with N = gpio_names_size.
      expect(e.chain.writableLength).toBe(i === 0 ? 1 + t.driver.namesSize : 2);
    }
  });

  it('[gpio.drv.5] sends several messages for the same and different lines in parallel', async () => {
    const t = rig({ features });
    const all = Promise.all([t.driver.setValue(0, 1), t.driver.setValue(0, 0), t.driver.setValue(1, 1), t.driver.getValue(0), t.driver.getValue(1)]);
    // All five were exposed before the driver saw any answer.
    expect(t.driver.pending).toBe(5);
    await settle();
    await all;
    expect(pops(t.log, VIRTIO_GPIO_REQUESTQ)).toHaveLength(5);
  });

  it('[gpio.drv.6] sends no IRQ message and sets up no eventq without VIRTIO_GPIO_F_IRQ', async () => {
    for (const t of [rig({ features, device: { irq: false } }), rig({ features, driver: { irq: false } })]) {
      expect(t.driver.irq).toBe(false);
      expect(t.driver.device.queues[VIRTIO_GPIO_EVENTQ]).toBeUndefined();
      await expect(t.driver.enableInterrupt(0, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {})).rejects.toThrow(GpioDriverError);
      await t.driver.disableInterrupt(0);
      await settle();
      expect(pops(t.log, VIRTIO_GPIO_REQUESTQ).map((e) => msg(e.request)[0])).not.toContain(VIRTIO_GPIO_MSG_SET_IRQ_TYPE);
    }
  });

  it('[gpio.drv.7] sends no IRQ message for a line configured for output', async () => {
    const t = rig({ features });
    const out = t.driver.setDirection(4, VIRTIO_GPIO_DIRECTION_OUT);
    await settle();
    await out;
    await expect(t.driver.enableInterrupt(4, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {})).rejects.toThrow(GpioDriverError);
    await settle();
    expect(pops(t.log, VIRTIO_GPIO_REQUESTQ).map((e) => msg(e.request)[0])).toEqual([VIRTIO_GPIO_MSG_SET_DIRECTION]);
  });

  it('[gpio.drv.8] sets the trigger type to NONE when done with the line: disableInterrupt and SET_DIRECTION NONE', async () => {
    const t = rig({ features });
    const run = async (p: Promise<void>) => {
      await settle();
      await p;
    };
    await run(t.driver.enableInterrupt(5, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {}));
    await run(t.driver.disableInterrupt(5));
    await run(t.driver.enableInterrupt(6, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {}));
    await run(t.driver.setDirection(6, VIRTIO_GPIO_DIRECTION_NONE));
    expect(pops(t.log, VIRTIO_GPIO_REQUESTQ).map((e) => msg(e.request))).toEqual([
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 5, VIRTIO_GPIO_IRQ_TYPE_NONE],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 6, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 6, VIRTIO_GPIO_IRQ_TYPE_NONE],
      [VIRTIO_GPIO_MSG_SET_DIRECTION, 6, VIRTIO_GPIO_DIRECTION_NONE],
    ]);
  });

  it('[gpio.drv.9] changes the trigger type of an enabled interrupt by disabling it first', async () => {
    const t = rig({ features });
    const a = t.driver.enableInterrupt(7, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, () => {});
    const b = t.driver.enableInterrupt(7, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH, () => {});
    for (let i = 0; i < 5; i++) await settle();
    await Promise.all([a, b]);
    expect(pops(t.log, VIRTIO_GPIO_REQUESTQ).map((e) => msg(e.request))).toEqual([
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 7, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 7, VIRTIO_GPIO_IRQ_TYPE_NONE],
      [VIRTIO_GPIO_MSG_SET_IRQ_TYPE, 7, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH],
    ]);
  });

  it('[gpio.drv.10] [gpio.drv.11] enables the interrupt, then unmasks it, and is notified', async () => {
    const t = rig({ features });
    const seen: number[] = [];
    const p = t.driver.enableInterrupt(8, VIRTIO_GPIO_IRQ_TYPE_EDGE_FALLING, (line) => void seen.push(line));
    await settle();
    await p;
    await settle();
    const order = t.log.filter((e) => e.op === 'pop').map((e) => (e.qi === VIRTIO_GPIO_EVENTQ ? 'unmask' : `msg ${msg(e.request)[0]}`));
    expect(order).toEqual([`msg ${VIRTIO_GPIO_MSG_SET_IRQ_TYPE}`, 'unmask']);
    t.lines.setInput(8, 1);
    t.lines.setInput(8, 0);
    await settle();
    expect(seen).toEqual([8]);
  });

  it('[gpio.drv.12] [gpio.drv.13] one eventq buffer pair per line, never two for the same line', async () => {
    const t = rig({ features });
    let slow: (() => void) | undefined;
    const lines = [0, 1, 2];
    const run = async (p: Promise<void>) => {
      await settle();
      await p;
    };
    for (const l of lines) await run(t.driver.enableInterrupt(l, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => new Promise<void>((r) => (slow = r))));
    // Storms of edges while handlers are pending, re-enables with other types, disables.
    for (let round = 0; round < 6; round++) {
      for (const l of lines) {
        t.lines.setInput(l, (round & 1) as 0 | 1);
        await settle();
        slow?.();
        await settle();
      }
      await run(t.driver.enableInterrupt(round % 3, round & 1 ? VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING : VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => {}));
      if (round === 3) await run(t.driver.disableInterrupt(1));
    }
    const outstanding = new Map<number, number>();
    const lineOf = new Map<number, number>();
    for (const e of t.log.filter((e) => e.qi === VIRTIO_GPIO_EVENTQ)) {
      if (e.op === 'pop') {
        // [gpio.drv.12] a pair: the 2-byte virtio_gpio_irq_request and the 1-byte response.
        expect([e.chain.readableLength, e.chain.writableLength]).toEqual([2, 1]);
        const line = e.request[0] | (e.request[1] << 8);
        lineOf.set(e.chain.id, line);
        outstanding.set(line, (outstanding.get(line) ?? 0) + 1);
        expect(outstanding.get(line), `line ${line}`).toBe(1);
      } else {
        const line = lineOf.get(e.chain.id) as number;
        outstanding.set(line, (outstanding.get(line) ?? 0) - 1);
      }
    }
    expect(new Set(lineOf.values())).toEqual(new Set(lines));
    expect(pops(t.log, VIRTIO_GPIO_EVENTQ).length).toBeGreaterThan(lines.length * 3);
  });
});
