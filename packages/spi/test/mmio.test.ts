// The SPI controller over the real MMIO transport (configuration registers, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { SimulatedSpiBus, SPI_DEFAULT_CONFIG, SPI_EEPROM_READ, SpiDevice, SpiDriver, SpiEeprom } from '../src/index.js';
import { settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('SPI over MMIO ($name)', ({ features }) => {
  it('[spi.dev.1] the driver reads struct virtio_spi_config through the registers and runs a transfer', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const eeprom = new SpiEeprom({ size: 256, contents: Uint8Array.of(0x5a, 0xa5) });
    let driver: SpiDriver | undefined;
    const config = { ...SPI_DEFAULT_CONFIG, csMaxNumber: 3, maxFreqHz: 50_000_000 };
    const mmio = new MmioTransport(new SpiDevice({ bus: new SimulatedSpiBus().attach(2, eeprom), config }), {
      memory,
      interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()),
    });
    driver = SpiDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
    expect(driver.config).toEqual(config);
    const rx = driver.exchange(2, Uint8Array.of(SPI_EEPROM_READ, 0, 0, 0, 0), { csChange: 1, freq: 50_000_000 });
    await settle();
    expect([...(await rx)].slice(3)).toEqual([0x5a, 0xa5]);
  });
});
