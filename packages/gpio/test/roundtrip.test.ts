// Our GpioDriver against our GpioDevice: the typed API end to end, over every ring layout.
import { describe, expect, it } from 'vitest';
import {
  GpioDriverError,
  VIRTIO_GPIO_DIRECTION_IN,
  VIRTIO_GPIO_DIRECTION_NONE,
  VIRTIO_GPIO_DIRECTION_OUT,
  VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH,
  VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH,
} from '../src/index.js';
import { NAMES, rig, settle, VARIANTS } from './harness.js';

/** Runs `p` while interrupts are delivered. */
const done = async <T>(p: Promise<T>): Promise<T> => {
  for (let i = 0; i < 4; i++) await settle();
  return p;
};

describe.each(VARIANTS)('GPIO round trip over $name', ({ features }) => {
  it('reads line names and configuration', async () => {
    const t = rig({ features });
    expect(t.driver.ngpio).toBe(10);
    expect(await done(t.driver.lineNames())).toEqual(NAMES);
    const bare = rig({ features, lines: { names: undefined } });
    expect(bare.driver.namesSize).toBe(0);
    expect(await bare.driver.lineNames()).toEqual(new Array(10).fill(null));
  });

  it('drives outputs and reads inputs', async () => {
    const t = rig({ features });
    await done(t.driver.setValue(0, 1));
    await done(t.driver.setDirection(0, VIRTIO_GPIO_DIRECTION_OUT));
    expect(t.lines.output(0)).toBe(1);
    expect(await done(t.driver.getDirection(0))).toBe(VIRTIO_GPIO_DIRECTION_OUT);
    await done(t.driver.setValue(0, 0));
    expect(t.lines.output(0)).toBe(0);
    await done(t.driver.setDirection(1, VIRTIO_GPIO_DIRECTION_IN));
    t.lines.setInput(1, 1);
    expect(await done(t.driver.getValue(1))).toBe(1);
    t.lines.setInput(1, 0);
    expect(await done(t.driver.getValue(1))).toBe(0);
    await done(t.driver.setDirection(0, VIRTIO_GPIO_DIRECTION_NONE));
    expect(t.lines.output(0)).toBeUndefined();
  });

  it('delivers edge interrupts, one per edge when handled in time, and stops after disable', async () => {
    const t = rig({ features });
    const seen: number[] = [];
    await done(t.driver.setDirection(3, VIRTIO_GPIO_DIRECTION_IN));
    await done(t.driver.enableInterrupt(3, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, (l) => void seen.push(l)));
    for (const level of [1, 0, 1, 0] as const) {
      t.lines.setInput(3, level);
      await done(Promise.resolve());
    }
    expect(seen).toEqual([3, 3, 3, 3]);
    await done(t.driver.disableInterrupt(3));
    t.lines.setInput(3, 1);
    await done(Promise.resolve());
    expect(seen).toHaveLength(4);
  });

  it('a level interrupt fires again while the line stays active once the handler returns', async () => {
    const t = rig({ features });
    let count = 0;
    await done(
      t.driver.enableInterrupt(4, VIRTIO_GPIO_IRQ_TYPE_LEVEL_HIGH, () => {
        // The client acknowledges at the source on the third interrupt.
        if (++count === 3) t.lines.setInput(4, 0);
      }),
    );
    t.lines.setInput(4, 1);
    for (let i = 0; i < 8; i++) await settle();
    expect(count).toBe(3);
  });

  it('reset rejects pending calls and returns every line to NONE', async () => {
    const t = rig({ features });
    await done(t.driver.setDirection(2, VIRTIO_GPIO_DIRECTION_OUT));
    await done(t.driver.enableInterrupt(5, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => {}));
    const p = t.driver.getValue(2);
    t.driver.reset();
    await expect(p).rejects.toThrow(GpioDriverError);
    expect(t.lines.direction(2)).toBe(VIRTIO_GPIO_DIRECTION_NONE);
    await expect(t.driver.getValue(2)).rejects.toThrow(GpioDriverError);
  });
});

describe('GPIO interrupt lines and the eventq room', () => {
  it('refuses more lines with interrupts than the eventq holds; a disabled line frees its room', async () => {
    const t = rig({ driver: { queueSize: 4 } });
    expect(t.driver.maxInterruptLines).toBe(2);
    await done(t.driver.enableInterrupt(0, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => {}));
    await done(t.driver.enableInterrupt(1, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => {}));
    await expect(t.driver.enableInterrupt(2, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, () => {})).rejects.toThrow(GpioDriverError);
    await done(t.driver.disableInterrupt(0));
    const seen: number[] = [];
    await done(t.driver.enableInterrupt(2, VIRTIO_GPIO_IRQ_TYPE_EDGE_BOTH, (l) => void seen.push(l)));
    t.lines.setInput(2, 1);
    await done(Promise.resolve());
    expect(seen).toEqual([2]);
  });
});
