import { describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  VIRTIO_BLK_F_FLUSH,
  VIRTIO_BLK_F_MQ,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_SECTOR_SIZE,
} from '../src/index.js';
import { hasFeature, isPacked } from '@virtio/core';
import { DATA_BASE, pattern, rig, RING_MODES, seg } from './harness.js';

const S = VIRTIO_BLK_SECTOR_SIZE;

for (const transport of ['loopback', 'mmio'] as const) {
  for (const mode of RING_MODES) {
    describe(`our driver against our device (${transport}, ${mode.name})`, () => {
      it('writes, reads back, flushes and names the disk', async () => {
        const t = rig({ ring: mode.ring, transport, id: 'disk-0' });
        expect(isPacked(t.driver.features)).toBe(mode.name.startsWith('packed'));
        expect(t.driver.config.capacity).toBe((1 << 20) / S);
        const data = pattern(8 * S, 7);
        t.memory.write(DATA_BASE, data);
        expect(await t.driver.write(10, seg(DATA_BASE, data.length))).toBe(VIRTIO_BLK_S_OK);
        expect((t.backend as MemoryBackend).data.subarray(10 * S, 18 * S)).toEqual(data);
        expect(await t.driver.read(10, [{ addr: 0x40000, len: 3 * S }, { addr: 0x50000, len: 5 * S }])).toBe(VIRTIO_BLK_S_OK);
        const back = new Uint8Array(8 * S);
        t.memory.read(0x40000, back.subarray(0, 3 * S));
        t.memory.read(0x50000, back.subarray(3 * S));
        expect(back).toEqual(data);
        expect(await t.driver.flush()).toBe(VIRTIO_BLK_S_OK);
        expect((t.backend as MemoryBackend).flushes).toBe(1);
        expect(await t.driver.getId()).toEqual({ status: VIRTIO_BLK_S_OK, id: 'disk-0' });
      });

      it('keeps many requests in flight and completes them all', async () => {
        const t = rig({ ring: mode.ring, transport, queueSize: 64 });
        const n = 200;
        const writes = [];
        for (let i = 0; i < n; i++) {
          t.memory.write(DATA_BASE + i * S, pattern(S, i + 1));
          writes.push(t.driver.write(i, seg(DATA_BASE + i * S, S)));
        }
        expect(await Promise.all(writes)).toEqual(new Array(n).fill(VIRTIO_BLK_S_OK));
        const reads = [];
        for (let i = 0; i < n; i++) reads.push(t.driver.read(n - 1 - i, seg(0x100000 + i * S, S)));
        expect(await Promise.all(reads)).toEqual(new Array(n).fill(VIRTIO_BLK_S_OK));
        for (let i = 0; i < n; i++) {
          const b = new Uint8Array(S);
          t.memory.read(0x100000 + i * S, b);
          expect(b).toEqual(pattern(S, n - i));
        }
        expect(t.driver.inFlight).toBe(0);
      });
    });
  }
}

describe('multiqueue', () => {
  it('spreads requests over num_queues request queues', async () => {
    const t = rig({ numQueues: 4 });
    expect(hasFeature(t.driver.features, VIRTIO_BLK_F_MQ)).toBe(true);
    expect(t.driver.numQueues).toBe(4);
    expect(t.driver.config.numQueues).toBe(4);
    const all = [];
    for (let q = 0; q < 4; q++) {
      t.memory.write(DATA_BASE + q * S, pattern(S, 100 + q));
      all.push(t.driver.write(q, seg(DATA_BASE + q * S, S), q));
    }
    expect(await Promise.all(all)).toEqual([0, 0, 0, 0]);
    for (let q = 0; q < 4; q++) expect((t.backend as MemoryBackend).data.subarray(q * S, (q + 1) * S)).toEqual(pattern(S, 100 + q));
  });

  it('uses one queue when the driver does not accept VIRTIO_BLK_F_MQ', async () => {
    const t = rig({ numQueues: 4, driverFeatures: 1n << BigInt(VIRTIO_BLK_F_FLUSH) });
    expect(t.driver.numQueues).toBe(1);
    expect(await t.driver.read(0, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
  });
});
