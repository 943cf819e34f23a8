import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, existsSync, mkdtempSync, openSync, readFileSync, readSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { VmmtestCheckResult } from '../guest/vmmtest.js';

/** What the host reads back from the disk image of a `blk` check run. */
export interface BlkImageFacts {
  /** SHA-256 (hex) of the image over the data range the check reported (data_sector, data_sectors). */
  readonly dataSha256: string;
  /** Whether the write-zeroes range reads as zeros; null when the check did not zero it. */
  readonly zeroRangeIsZero: boolean | null;
  /** SHA-256 of the check's file read from the image's ext2 filesystem with debugfs; null without debugfs. */
  readonly fsFileSha256: string | null;
}

const SECTOR = 512;

function readRange(image: string, sector: number, sectors: number): Buffer {
  const buf = Buffer.alloc(sectors * SECTOR);
  const fd = openSync(image, 'r');
  try {
    let done = 0;
    while (done < buf.length) {
      const n = readSync(fd, buf, done, buf.length - done, sector * SECTOR + done);
      if (n === 0) throw new Error(`${image}: ends before sector ${sector + sectors}`);
      done += n;
    }
  } finally {
    closeSync(fd);
  }
  return buf;
}

/** Path of e2fsprogs' debugfs on this host, if installed. */
export function findDebugfs(): string | undefined {
  return ['/usr/sbin/debugfs', '/sbin/debugfs', '/usr/bin/debugfs'].find((p) => existsSync(p));
}

const sha256 = (b: Uint8Array): string => createHash('sha256').update(b).digest('hex');
const int = (r: VmmtestCheckResult, key: string): number => {
  const v = r[key];
  if (typeof v !== 'number' || !Number.isSafeInteger(v) || v < 0) throw new Error(`blk result has no valid ${key}`);
  return v;
};

/**
 * Reads back, from the raw image the `blk` check's disk was backed by, what the guest reported:
 * the data range's digest, the write-zeroes range and the filesystem file (via `debugfs -R dump`).
 * Compare `dataSha256` with the result's `sha256` and `fsFileSha256` with `fs_sha256`.
 * @throws Error when the result lacks the range fields or the image is shorter than them.
 */
export function blkImageFacts(image: string, result: VmmtestCheckResult): BlkImageFacts {
  const dataSha256 = sha256(readRange(image, int(result, 'data_sector'), int(result, 'data_sectors')));
  const zeroRangeIsZero =
    result.write_zeroes === true ? readRange(image, int(result, 'zero_sector'), int(result, 'zero_sectors')).every((b) => b === 0) : null;
  const debugfs = findDebugfs();
  let fsFileSha256: string | null = null;
  if (debugfs && typeof result.fs_file === 'string') {
    const dir = mkdtempSync(join(tmpdir(), 'vmmtest-debugfs-'));
    try {
      const out = join(dir, 'file');
      execFileSync(debugfs, ['-R', `dump ${result.fs_file} ${out}`, image], { stdio: 'ignore' });
      fsFileSha256 = existsSync(out) ? sha256(readFileSync(out)) : '';
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }
  return { dataSha256, zeroRangeIsZero, fsFileSha256 };
}
