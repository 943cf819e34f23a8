// The entropy device over the real MMIO transport (register encoding, interrupt line).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { EntropyDevice, EntropyDriver } from '../src/index.js';
import { settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('entropy over MMIO ($name)', ({ features }) => {
  it('[entropy.dev.1] a driver reads random bytes from the CSPRNG-backed device', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    let driver: EntropyDriver | undefined;
    const mmio = new MmioTransport(new EntropyDevice(), { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = EntropyDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0xff000), ringFeatures: features });
    const p = driver.read(4096);
    await settle();
    const bytes = await p;
    expect(bytes.length).toBe(4096);
    expect(new Set(bytes).size).toBeGreaterThan(200);
  });
});
