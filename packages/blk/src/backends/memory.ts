/**
 * A disk held in memory: runtime-neutral, for tests, benchmarks and ephemeral scratch disks.
 */
import type { BlockBackend } from '../backend.js';
import type { BlkLifetime } from '../protocol.js';

export interface MemoryBackendOptions {
  /** Size in bytes (default 1 MiB); ignored when `data` is given. */
  readonly size?: number;
  /** The disk contents, used in place (not copied). */
  readonly data?: Uint8Array;
  readonly readOnly?: boolean;
  readonly id?: string;
  /** Lifetime metrics to report (makes the device offer VIRTIO_BLK_F_LIFETIME). */
  readonly lifetime?: BlkLifetime;
}

export class MemoryBackend implements BlockBackend {
  /** The disk contents. */
  readonly data: Uint8Array;
  readonly readOnly: boolean;
  readonly id: string | undefined;
  /** Number of flush() calls, for callers checking flush ordering. */
  flushes = 0;
  readonly lifetime?: () => Promise<BlkLifetime>;

  /** @throws RangeError for a negative or non-integer size */
  constructor(opts: MemoryBackendOptions = {}) {
    const size = opts.size ?? 1 << 20;
    if (!opts.data && (!Number.isSafeInteger(size) || size < 0)) throw new RangeError(`blk: bad memory disk size ${size}`);
    this.data = opts.data ?? new Uint8Array(size);
    this.readOnly = opts.readOnly ?? false;
    this.id = opts.id;
    const lifetime = opts.lifetime;
    if (lifetime) this.lifetime = () => Promise.resolve(lifetime);
  }

  get size(): number {
    return this.data.byteLength;
  }

  read(offset: number, views: readonly Uint8Array[]): Promise<void> {
    let off = this.#check(offset, total(views));
    for (const v of views) {
      v.set(this.data.subarray(off, off + v.byteLength));
      off += v.byteLength;
    }
    return Promise.resolve();
  }

  write(offset: number, views: readonly Uint8Array[]): Promise<void> {
    let off = this.#checkWritable(offset, total(views));
    for (const v of views) {
      this.data.set(v, off);
      off += v.byteLength;
    }
    return Promise.resolve();
  }

  flush(): Promise<void> {
    this.flushes++;
    return Promise.resolve();
  }

  discard(offset: number, length: number): Promise<void> {
    return this.writeZeroes(offset, length, true);
  }

  writeZeroes(offset: number, length: number, _unmap: boolean): Promise<void> {
    const off = this.#checkWritable(offset, length);
    this.data.fill(0, off, off + length);
    return Promise.resolve();
  }

  #checkWritable(offset: number, length: number): number {
    if (this.readOnly) throw new Error('blk: memory disk is read-only');
    return this.#check(offset, length);
  }

  #check(offset: number, length: number): number {
    if (!(offset >= 0 && length >= 0 && offset + length <= this.data.byteLength)) {
      throw new RangeError(`blk: [${offset}, +${length}) outside the ${this.data.byteLength}-byte memory disk`);
    }
    return offset;
  }
}

function total(views: readonly Uint8Array[]): number {
  let n = 0;
  for (const v of views) n += v.byteLength;
  return n;
}
