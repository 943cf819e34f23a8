// The input device over the real MMIO transport (register encoding, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { InputDevice, InputDriver, keyboardDescription, keyEvents, KEY_A, EV_LED, LED_CAPSL, RecordingStatusSink } from '../src/index.js';
import { settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('input over MMIO ($name)', ({ features }) => {
  it('a keyboard over MMIO: description, key events and LED feedback', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const sink = new RecordingStatusSink();
    const device = new InputDevice({ description: keyboardDescription(), status: sink });
    let driver: InputDriver | undefined;
    const mmio = new MmioTransport(device, { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = InputDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
    expect(driver.description.name).toBe('virtio-ts keyboard');
    device.send(keyEvents(KEY_A, true));
    const led = driver.sendStatus({ type: EV_LED, code: LED_CAPSL, value: 1 });
    await settle();
    await led;
    expect(driver.takeEvents()).toEqual(keyEvents(KEY_A, true));
    expect(sink.value(EV_LED, LED_CAPSL)).toBe(1);
  });
});
