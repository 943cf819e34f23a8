import { expect, it } from 'vitest';
import { BumpAllocator, FlatGuestMemory, createDeviceQueue, createDriverQueue } from '../src/index.js';

it('moves one buffer driver -> device -> driver', () => {
  const mem = new FlatGuestMemory(new ArrayBuffer(1 << 16));
  const alloc = new BumpAllocator(0x1000, 0x8000);
  const features = { indirectDesc: true, eventIdx: false, inOrder: false };
  const drv = createDriverQueue<string>(mem, alloc, { size: 8, packed: false, features });
  const dev = createDeviceQueue(mem, drv.config);
  mem.write(0x9000, new TextEncoder().encode('ping'));
  expect(drv.add([{ addr: 0x9000, len: 4 }], [{ addr: 0xa000, len: 16 }], 'tok')).toBe(true);
  expect(drv.kick()).toBe(true);
  const c = dev.pop()!;
  expect(c.readableLength).toBe(4);
  expect(c.writable).toEqual([{ addr: 0xa000, len: 16 }]);
  mem.write(0xa000, new TextEncoder().encode('pong'));
  dev.push(c, 4);
  expect(dev.needsNotification()).toBe(true);
  expect(drv.reap()).toEqual({ token: 'tok', len: 4 });
  expect(drv.reap()).toBeNull();
});
