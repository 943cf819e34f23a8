// The I2C adapter over the real MMIO transport (feature negotiation through registers, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { I2cDevice, I2cDriver, I2cEeprom, SimulatedI2cBus } from '../src/index.js';
import { settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('I2C over MMIO ($name)', ({ features }) => {
  it('[i2c.dev.1] negotiates VIRTIO_I2C_F_ZERO_LENGTH_REQUEST through the registers and runs transfers', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const eeprom = new I2cEeprom({ size: 256 });
    let driver: I2cDriver | undefined;
    const mmio = new MmioTransport(new I2cDevice({ bus: new SimulatedI2cBus().attach(0x50, eeprom) }), {
      memory,
      interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()),
    });
    driver = I2cDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
    expect(driver.device.features & 1n).toBe(1n);
    const w = driver.write(0x50, Uint8Array.of(0x10, 0xde, 0xad));
    await settle();
    await w;
    const r = driver.writeRead(0x50, Uint8Array.of(0x10), 2);
    await settle();
    expect([...(await r)]).toEqual([0xde, 0xad]);
    expect(await Promise.all([driver.probe(0x50), driver.probe(0x51), settle()]).then(([a, b]) => [a, b])).toEqual([true, false]);
  });
});
