// The socket device over the real MMIO transport (register encoding, interrupt line, 64-bit config read).
import { describe, expect, it } from 'vitest';
import { MmioDriverTransport, MmioTransport } from '@virtio/mmio';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { VMADDR_CID_HOST, VsockDevice, VsockDriver } from '../src/index.js';
import { concat, pattern, settle, VARIANTS } from './harness.js';

describe.each(VARIANTS)('vsock over MMIO ($name)', ({ features }) => {
  it('reads guest_cid and carries a stream both ways', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x400000));
    const device = new VsockDevice({ guestCid: 0x12345 });
    let driver: VsockDriver | undefined;
    const mmio = new MmioTransport(device, { memory, interruptLine: (up) => up && queueMicrotask(() => driver?.handleInterrupt()) });
    driver = VsockDriver.initialize(new MmioDriverTransport(mmio), { memory, allocator: new FreeListAllocator(0x1000, 0x3ff000), ringFeatures: features });
    expect(driver.guestCid).toBe(0x12345);
    const got: Uint8Array[] = [];
    device.listen(22, (c) => (c.ondata = (d) => (got.push(d), c.write(d))));
    const guest = await driver.connect(VMADDR_CID_HOST, 22);
    const back: Uint8Array[] = [];
    guest.ondata = (d) => back.push(d);
    guest.write(pattern(10000));
    await settle(5);
    expect(concat(got)).toEqual(pattern(10000));
    expect(concat(back)).toEqual(pattern(10000));
  });
});
