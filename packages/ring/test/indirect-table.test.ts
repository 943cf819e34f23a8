// Driver-side indirect tables are written through a host view resolved once per table; a
// table with no single view (it spans two adjacent regions) is written through GuestMemory.
import { describe, expect, it } from 'vitest';
import { BumpAllocator, RegionGuestMemory, createDeviceQueue, createDriverQueue, type GuestAllocator } from '../src/index.js';

/** Rings from a bump allocator in high memory; indirect tables at `tableAt`, straddling 0x1000. */
function setup(packed: boolean) {
  const memory = new RegionGuestMemory([
    { base: 0, bytes: new ArrayBuffer(0x1000) },
    { base: 0x1000, bytes: new ArrayBuffer(0x1000) },
    { base: 0x10_0000, bytes: new ArrayBuffer(0x10000) },
  ]);
  const rings = new BumpAllocator(0x10_0000, 0x10000);
  let tables = 0;
  const allocator: GuestAllocator = {
    alloc: (len, align) => (len === 48 && tables++ === 0 ? 0x1000 - 16 : rings.alloc(len, align)),
    free: () => {},
  };
  const features = { indirectDesc: true, eventIdx: false, inOrder: false };
  const driver = createDriverQueue<number>(memory, allocator, { size: 8, packed, features });
  const device = createDeviceQueue(memory, driver.config);
  return { driver, device };
}

describe('driver-side indirect tables', () => {
  for (const packed of [false, true]) {
    it(`${packed ? 'packed' : 'split'}: a table spanning two regions and one inside a region both reach the device intact`, () => {
      const { driver, device } = setup(packed);
      const out = [{ addr: 0x100, len: 4 }];
      const inSegs = [
        { addr: 0x200, len: 8 },
        { addr: 0x10_8000, len: 16 },
      ];
      for (let k = 0; k < 2; k++) {
        expect(driver.add(out, inSegs, k, { indirect: true })).toBe(true);
        driver.kick();
        const c = device.pop()!;
        expect([...c.readable]).toEqual(out);
        expect([...c.writable]).toEqual(inSegs);
      }
    });
  }
});
