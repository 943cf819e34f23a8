// The console over the real MMIO transport (register encoding, interrupt line) on both sides,
// as the reference VMM will expose it to a guest.
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { ConsoleDevice, ConsoleDriver, MemoryPortBackend } from '../src/index.js';
import { enc, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('console over MMIO ($name)', ({ features }) => {
  it('multiport console: ports announced, data both ways, resize', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x200000));
    const out = new MemoryPortBackend();
    const device = new ConsoleDevice({ maxPorts: 2, size: { cols: 80, rows: 24 }, ports: [{ backend: out }, { name: 'agent' }] });
    let driver: ConsoleDriver | undefined;
    const got: number[] = [];
    const resizes: string[] = [];
    const mmio = new MmioTransport(device, { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = ConsoleDriver.initialize(new MmioDriverTransport(mmio), {
      memory,
      allocator: new FreeListAllocator(0x1000, 0x1ff000),
      ringFeatures: features,
      events: { data: (_p, b) => got.push(...b), resize: (p, s) => resizes.push(`${p}:${s.cols}x${s.rows}`) },
    });
    await settle();
    expect([...driver.ports.keys()]).toEqual([0, 1]);
    expect(driver.ports.get(1)!.name).toBe('agent');
    await driver.write(0, enc('$ '));
    expect(out.text()).toBe('$ ');
    device.port(0)!.push(enc('uname\n'));
    device.resize(100, 40);
    await settle();
    expect(new TextDecoder().decode(Uint8Array.from(got))).toBe('uname\n');
    expect(resizes).toEqual(['0:80x24', '0:100x40']);
  });
});
