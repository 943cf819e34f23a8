// Concurrency, batching, out-of-order completion, resets with requests in flight, zoned types.
import { describe, expect, it } from 'vitest';
import {
  MemoryBackend,
  VIRTIO_BLK_S_OK,
  VIRTIO_BLK_S_UNSUPP,
  VIRTIO_BLK_T_IN,
  VIRTIO_BLK_T_ZONE_APPEND,
  VIRTIO_BLK_T_ZONE_CLOSE,
  VIRTIO_BLK_T_ZONE_FINISH,
  VIRTIO_BLK_T_ZONE_OPEN,
  VIRTIO_BLK_T_ZONE_REPORT,
  VIRTIO_BLK_T_ZONE_RESET,
  VIRTIO_BLK_T_ZONE_RESET_ALL,
} from '../src/index.js';
import { GatedBackend, settle } from './gated-backend.js';
import { DATA_BASE, pattern, rig, seg } from './harness.js';
import { DATA, HDR, rawRig, STATUS } from './raw.js';

const S = 512;

describe('concurrency', () => {
  it('completes requests in the order the backend finishes them, not the order submitted', async () => {
    const gated = new GatedBackend(new MemoryBackend({ data: pattern(1 << 20, 2) }));
    const t = rig({ backend: gated });
    const order: number[] = [];
    const reqs = [0, 1, 2, 3].map((i) => t.driver.read(i, seg(DATA_BASE + i * S, S)).then((s) => (order.push(i), s)));
    await settle();
    expect(gated.pending.length).toBe(4);
    const [a, b, c, d] = gated.pending;
    await c.release();
    await settle();
    await a.release();
    await settle();
    await d.release();
    await b.release();
    expect(await Promise.all(reqs)).toEqual([0, 0, 0, 0]);
    expect(order).toEqual([2, 0, 3, 1]);
  });

  it('pushes a batch of completions with one notification decision', async () => {
    const t = rawRig();
    for (let i = 0; i < 32; i++) {
      t.header(VIRTIO_BLK_T_IN, i, HDR + i * 16);
      t.q.add([{ addr: HDR + i * 16, len: 16 }], [{ addr: DATA + i * S, len: S }, { addr: STATUS + i, len: 1 }], i);
    }
    t.dev.kick(0);
    await settle();
    expect(t.interrupts).toBe(1);
    let n = 0;
    while (t.q.reap()) n++;
    expect(n).toBe(32);
  });

  it('a backend failure fails only its own request', async () => {
    const gated = new GatedBackend(new MemoryBackend());
    const t = rig({ backend: gated });
    const r1 = t.driver.read(0, seg(DATA_BASE, S));
    const r2 = t.driver.read(1, seg(DATA_BASE + S, S));
    await settle();
    gated.pending[0].fail();
    await gated.pending[0].release(); // the second call: the first one left `pending` when it failed
    expect(await r1).toBe(1);
    expect(await r2).toBe(VIRTIO_BLK_S_OK);
  });
});

describe('resets with requests in flight', () => {
  it('drops completions from before a device reset: no status byte, no used element', async () => {
    const gated = new GatedBackend(new MemoryBackend({ data: pattern(1 << 20, 3) }));
    const t = rawRig({ backend: gated });
    t.q.add([t.header(VIRTIO_BLK_T_IN, 0)], [{ addr: DATA, len: S }, t.status()], 1);
    t.dev.kick(0);
    await settle();
    expect(t.device.inFlight).toBe(1);
    t.transport.setStatus(0);
    const idle = t.device.whenIdle();
    await gated.pending[0].release();
    await idle;
    await settle();
    expect(t.device.inFlight).toBe(0);
    expect(t.memory.readU8(STATUS)).toBe(0xff);
    expect(t.q.reap()).toBeNull();
    expect(t.interrupts).toBe(0);
  });

  it('drops completions of a queue reset with VIRTIO_F_RING_RESET', async () => {
    const gated = new GatedBackend(new MemoryBackend());
    const t = rawRig({ backend: gated });
    t.q.add([t.header(VIRTIO_BLK_T_IN, 0)], [{ addr: DATA, len: S }, t.status()], 1);
    t.dev.kick(0);
    await settle();
    // The queue reset waits for the read in flight: the synchronous driver side cannot see it end.
    expect(t.transport.resetQueue(0)).toBe(false);
    expect(t.state.queue(0)!.resetting).toBe(true);
    await gated.pending[0].release();
    await t.state.whenResetComplete();
    expect(t.state.queue(0)!.enabled).toBe(false);
    await settle();
    expect(t.memory.readU8(STATUS)).toBe(0xff);
    expect(t.interrupts).toBe(0);
  });

  it('serves requests again after a reset and re-initialization', async () => {
    const t = rig();
    expect(await t.driver.write(0, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
    t.driver.reset();
    const { BlkDriver } = await import('../src/index.js');
    // The rig's interrupt still goes to the old driver: the new one polls.
    const again = new BlkDriver(t.transport, { memory: t.memory, allocator: t.allocator });
    const ok = again.read(0, seg(DATA_BASE + S, S));
    await settle();
    again.poll();
    expect(await ok).toBe(VIRTIO_BLK_S_OK);
    expect(t.memory.readU8(DATA_BASE + S)).toBe(t.memory.readU8(DATA_BASE));
  });
});

describe('zoned request types without VIRTIO_BLK_F_ZONED', () => {
  // A device that is not zoned (zoned devices: zoned.test.ts): every zone request is rejected
  // with UNSUPP, nothing done.
  it('[blk.dev.24] rejects zone requests with UNSUPP', async () => {
    const backend = new MemoryBackend({ data: pattern(1 << 20, 6) });
    const t = rawRig({ backend, secureErase: true });
    const types = [
      VIRTIO_BLK_T_ZONE_APPEND,
      VIRTIO_BLK_T_ZONE_REPORT,
      VIRTIO_BLK_T_ZONE_OPEN,
      VIRTIO_BLK_T_ZONE_CLOSE,
      VIRTIO_BLK_T_ZONE_FINISH,
      VIRTIO_BLK_T_ZONE_RESET,
      VIRTIO_BLK_T_ZONE_RESET_ALL,
    ];
    t.memory.write(DATA, new Uint8Array(S).fill(0x11));
    for (const type of types) {
      expect(await t.request(type, 0, [{ addr: DATA, len: S }], type === VIRTIO_BLK_T_ZONE_REPORT)).toEqual([VIRTIO_BLK_S_UNSUPP, type === VIRTIO_BLK_T_ZONE_REPORT ? 0 : 1]);
      expect(await t.request(type, 0)).toEqual([VIRTIO_BLK_S_UNSUPP, 1]);
    }
    expect(Buffer.compare(backend.data, pattern(1 << 20, 6))).toBe(0);
  });
});
