import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { hasFeature } from '@virtio/core';
import { FileBackend } from '../src/node/index.js';
import { VIRTIO_BLK_F_RO, VIRTIO_BLK_S_OK, VIRTIO_BLK_SECTOR_SIZE } from '../src/index.js';
import { GatedBackend, settle } from './gated-backend.js';
import { DATA_BASE, pattern, rig, seg } from './harness.js';

const S = VIRTIO_BLK_SECTOR_SIZE;
const dir = mkdtempSync(join(tmpdir(), 'virtio-blk-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
function image(bytes: Uint8Array | number): string {
  const p = join(dir, `disk-${n++}.img`);
  writeFileSync(p, typeof bytes === 'number' ? new Uint8Array(bytes) : bytes);
  return p;
}

describe('FileBackend', () => {
  it('fails at start-up with a clear error for a missing file', async () => {
    await expect(FileBackend.open(join(dir, 'nope.img'))).rejects.toThrow(`blk: cannot open disk image ${join(dir, 'nope.img')}: ENOENT`);
  });

  it('fails at start-up for something that is not a regular file', async () => {
    await expect(FileBackend.open(dir, { readOnly: true })).rejects.toThrow(/^blk: cannot open disk image .*: EINVAL/);
  });

  it('reads and writes scattered views at positions, and its size is the file size', async () => {
    const p = image(pattern(64 * S, 3));
    const b = await FileBackend.open(p);
    expect(b.size).toBe(64 * S);
    const v = [new Uint8Array(100), new Uint8Array(412), new Uint8Array(S)];
    await b.read(2 * S, v);
    const flat = new Uint8Array(2 * S);
    flat.set(v[0]);
    flat.set(v[1], 100);
    flat.set(v[2], S);
    expect(flat).toEqual(pattern(64 * S, 3).subarray(2 * S, 4 * S));
    await b.write(10 * S, [pattern(S, 9), pattern(S, 10)]);
    await b.flush();
    const file = readFileSync(p);
    expect(new Uint8Array(file.subarray(10 * S, 11 * S))).toEqual(pattern(S, 9));
    expect(new Uint8Array(file.subarray(11 * S, 12 * S))).toEqual(pattern(S, 10));
    await b.close();
  });

  it('[blk.dev.18] punches holes for write zeroes with unmap and zeroes without it', async () => {
    const p = image(new Uint8Array(1 << 20).fill(0xaa));
    const b = await FileBackend.open(p);
    await b.writeZeroes(0, 1 << 19, true);
    await b.writeZeroes(1 << 19, S, false);
    await b.flush();
    const file = readFileSync(p);
    expect(file.subarray(0, (1 << 19) + S).every((x) => x === 0)).toBe(true);
    expect(file[(1 << 19) + S]).toBe(0xaa);
    expect(file.length).toBe(1 << 20);
    if (b.deallocates) expect(statSync(p).blocks * 512).toBeLessThanOrEqual((1 << 19) + 4096);
    await b.discard(1 << 19, 1 << 19);
    expect(readFileSync(p).every((x) => x === 0)).toBe(true);
    await b.close();
  });
});

describe('block device over a disk image file', () => {
  it('[blk.dev.21] data the guest wrote is in the file once its FLUSH completed', async () => {
    const p = image(1 << 20);
    const t = rig({ backend: await FileBackend.open(p) });
    expect(t.driver.config.writeback).toBe(true);
    const data = pattern(16 * S, 5);
    t.memory.write(DATA_BASE, data);
    expect(await t.driver.write(100, seg(DATA_BASE, data.length))).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.flush()).toBe(VIRTIO_BLK_S_OK);
    expect(new Uint8Array(readFileSync(p).subarray(100 * S, 116 * S))).toEqual(data);
  });

  it('[blk.dev.21] FLUSH completes only after the backend flush (fdatasync) completed', async () => {
    const p = image(1 << 20);
    const gated = new GatedBackend(await FileBackend.open(p));
    const t = rig({ backend: gated });
    let done = false;
    const flush = t.driver.flush().then((s) => ((done = true), s));
    await settle();
    expect(gated.pending.map((c) => c.op)).toEqual(['flush']);
    expect(done).toBe(false);
    await gated.pending[0].release();
    expect(await flush).toBe(VIRTIO_BLK_S_OK);
    expect(gated.log).toEqual(['flush start', 'flush done']);
  });

  it('[blk.dev.21] [blk.drv.19] with writeback 0 a write completes only after it was flushed to the file', async () => {
    const p = image(1 << 20);
    const gated = new GatedBackend(await FileBackend.open(p));
    const t = rig({ backend: gated });
    const switched = t.driver.setWriteback(false);
    await settle();
    // [blk.drv.19] switching to writethrough does not commit earlier volatile writes: the driver flushes.
    expect(gated.pending.map((c) => c.op)).toEqual(['flush']);
    await gated.pending[0].release();
    expect(await switched).toBe(VIRTIO_BLK_S_OK);
    expect(t.device.writebackCache).toBe(false);
    gated.log.length = 0;
    t.memory.write(DATA_BASE, pattern(S, 1));
    let done = false;
    const w = t.driver.write(0, seg(DATA_BASE, S)).then((s) => ((done = true), s));
    await settle();
    await gated.pending[0].release();
    await settle();
    expect(done).toBe(false);
    expect(gated.pending.map((c) => c.op)).toEqual(['flush']);
    await gated.pending[0].release();
    expect(await w).toBe(VIRTIO_BLK_S_OK);
    expect(gated.log).toEqual(['write start', 'write done', 'flush start', 'flush done']);
    expect(new Uint8Array(readFileSync(p).subarray(0, S))).toEqual(pattern(S, 1));
  });

  it('a read-only image offers VIRTIO_BLK_F_RO, reads, and the driver refuses to write it', async () => {
    const p = image(pattern(1 << 20, 4));
    const t = rig({ backend: await FileBackend.open(p, { readOnly: true }) });
    expect(hasFeature(t.device.deviceFeatures, VIRTIO_BLK_F_RO)).toBe(true);
    t.memory.write(DATA_BASE, new Uint8Array(S).fill(1));
    // The driver itself refuses to write to a read-only disk; an adversarial one is tested elsewhere.
    await expect(t.driver.write(0, seg(DATA_BASE, S))).rejects.toThrow(/read-only/);
    expect(await t.driver.read(0, seg(DATA_BASE, S))).toBe(VIRTIO_BLK_S_OK);
    const b = new Uint8Array(S);
    t.memory.read(DATA_BASE, b);
    expect(b).toEqual(pattern(1 << 20, 4).subarray(0, S));
    expect(Buffer.compare(readFileSync(p), pattern(1 << 20, 4))).toBe(0);
  });

  it('discards and write-zeroes through the device read back as zeroes', async () => {
    const p = image(new Uint8Array(1 << 20).fill(0x55));
    const t = rig({ backend: await FileBackend.open(p) });
    expect(await t.driver.writeZeroes([{ sector: 8, numSectors: 8 }], true)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.writeZeroes([{ sector: 32, numSectors: 1 }], false)).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.discard([{ sector: 64, numSectors: 64 }])).toBe(VIRTIO_BLK_S_OK);
    expect(await t.driver.flush()).toBe(VIRTIO_BLK_S_OK);
    const file = readFileSync(p);
    expect(file.subarray(8 * S, 16 * S).every((x) => x === 0)).toBe(true);
    expect(file.subarray(32 * S, 33 * S).every((x) => x === 0)).toBe(true);
    expect(file[16 * S]).toBe(0x55);
    expect(file[33 * S]).toBe(0x55);
  });
});
