// The GPIO device over the real MMIO transport (register encoding, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { GpioDevice, GpioDriver, SimulatedGpioLines, VIRTIO_GPIO_DIRECTION_OUT, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING } from '../src/index.js';
import { NAMES, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('GPIO over MMIO ($name)', ({ features }) => {
  it('[gpio.dev.2] the driver reads ngpio and gpio_names_size through the config registers, drives a line and gets an interrupt', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const lines = new SimulatedGpioLines({ ngpio: 10, names: NAMES });
    let driver: GpioDriver | undefined;
    const mmio = new MmioTransport(new GpioDevice({ lines }), { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = GpioDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
    expect([driver.ngpio, driver.namesSize, driver.irq]).toEqual([10, 41, true]);
    const names = driver.lineNames();
    await settle();
    expect((await names)[7]).toBe('ethernet reset');
    const set = Promise.all([driver.setValue(5, 1), driver.setDirection(5, VIRTIO_GPIO_DIRECTION_OUT)]);
    await settle();
    await set;
    expect(lines.output(5)).toBe(1);
    const seen: number[] = [];
    const irq = driver.enableInterrupt(0, VIRTIO_GPIO_IRQ_TYPE_EDGE_RISING, (l) => void seen.push(l));
    await settle();
    await irq;
    lines.setInput(0, 1);
    await settle();
    expect(seen).toEqual([0]);
  });
});
