// Smoke test of the published package: a plain Node ESM script importing the built dist.
// From /work/main:  npm pack -w @virtio/ring --pack-destination /tmp/ring-pack
//                   mkdir /tmp/ring-smoke && cd /tmp/ring-smoke && npm init -y
//                   npm install /tmp/ring-pack/virtio-ring-*.tgz && node <this file>
// It moves one buffer driver -> device -> driver over each ring layout and exits non-zero on failure.
import assert from 'node:assert/strict';
import { ChainReader, ChainWriter, FlatGuestMemory, FreeListAllocator, createDeviceQueue, createDriverQueue } from '@virtio/ring';

for (const packed of [false, true]) {
  const mem = new FlatGuestMemory(new SharedArrayBuffer(1 << 16));
  const heap = new FreeListAllocator(0x1000, 0xf000);
  const features = { indirectDesc: true, eventIdx: true, inOrder: false };
  const driver = createDriverQueue(mem, heap, { size: 16, packed, features });
  const device = createDeviceQueue(mem, driver.config);

  const request = heap.alloc(4, 1);
  const reply = heap.alloc(64, 1);
  mem.write(request, new TextEncoder().encode('ping'));
  assert.equal(driver.add([{ addr: request, len: 4 }], [{ addr: reply, len: 64 }], 'req-1'), true);
  assert.equal(driver.kick(), true);

  const chain = device.pop();
  assert.equal(new TextDecoder().decode(new ChainReader(mem, chain.readable).readBytes(4)), 'ping');
  const w = new ChainWriter(mem, chain.writable);
  w.write(new TextEncoder().encode('pong'));
  device.push(chain, w.written);
  assert.equal(device.needsNotification(), true);

  const used = driver.reap();
  assert.deepEqual(used, { token: 'req-1', len: 4 });
  assert.equal(new TextDecoder().decode(mem.view(reply, used.len)), 'pong');
  console.log(`${packed ? 'packed' : 'split'}: one buffer moved both ways`);
}
