// Host read-back of the blk check's disk image: data range digest, zeroed range, ext2 file via debugfs.
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, rmSync, writeFileSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { BLK_FS_FILE, BLK_LAYOUT } from '../src/checks/blk.js';
import { blkImageFacts, findDebugfs } from '../src/verify/blk.js';

const dir = mkdtempSync(join(tmpdir(), 'tg-verify-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const sha = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const mke2fs = ['/usr/sbin/mke2fs', '/sbin/mke2fs'].find((p) => existsSync(p));

function result(extra: Record<string, unknown> = {}): { check: string; ok: boolean; [k: string]: unknown } {
  const { data, writeZeroes } = BLK_LAYOUT;
  return {
    check: 'blk',
    ok: true,
    data_sector: data.offset / 512,
    data_sectors: data.bytes / 512,
    zero_sector: writeZeroes.offset / 512,
    zero_sectors: writeZeroes.bytes / 512,
    write_zeroes: true,
    fs_file: BLK_FS_FILE,
    ...extra,
  };
}

describe('blkImageFacts', () => {
  const payload = Buffer.alloc(BLK_LAYOUT.data.bytes);
  for (let i = 0; i < payload.length; i++) payload[i] = (i * 131 + 7) & 0xff;

  it('digests the reported data range and tells whether the write-zeroes range is zero', () => {
    const image = join(dir, 'plain.img');
    writeFileSync(image, new Uint8Array(16 << 20));
    const fd = openSync(image, 'r+');
    writeSync(fd, payload, 0, payload.length, BLK_LAYOUT.data.offset);
    closeSync(fd);
    const facts = blkImageFacts(image, result({ fs_file: undefined }));
    expect(facts).toEqual({ dataSha256: sha(payload), zeroRangeIsZero: true, fsFileSha256: null });
    const fd2 = openSync(image, 'r+');
    writeSync(fd2, Buffer.from([1]), 0, 1, BLK_LAYOUT.writeZeroes.offset + BLK_LAYOUT.writeZeroes.bytes - 1);
    closeSync(fd2);
    expect(blkImageFacts(image, result({ fs_file: undefined })).zeroRangeIsZero).toBe(false);
    expect(blkImageFacts(image, result({ fs_file: undefined, write_zeroes: false })).zeroRangeIsZero).toBeNull();
  });

  it('refuses a result without the range fields and an image shorter than the range', () => {
    const image = join(dir, 'short.img');
    writeFileSync(image, new Uint8Array(1 << 20));
    expect(() => blkImageFacts(image, result({ data_sector: -1 }))).toThrow(/data_sector/);
    expect(() => blkImageFacts(image, result())).toThrow(/ends before sector/);
  });

  it.skipIf(!findDebugfs() || !mke2fs)('reads the check file out of an ext2 image with debugfs', () => {
    const content = join(dir, 'root');
    mkdirSync(content);
    writeFileSync(join(content, BLK_FS_FILE.slice(1)), payload);
    const image = join(dir, 'fs.img');
    writeFileSync(image, new Uint8Array(16 << 20));
    execFileSync(mke2fs!, ['-q', '-F', '-t', 'ext2', '-d', content, image, String(BLK_LAYOUT.fsBytes / 1024)], { stdio: 'ignore' });
    expect(blkImageFacts(image, result()).fsFileSha256).toBe(sha(payload));
    expect(blkImageFacts(image, result({ fs_file: '/missing' })).fsFileSha256).toBe('');
  });
});
