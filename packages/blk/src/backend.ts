/**
 * The storage behind a block device. Offsets and lengths are in bytes; the device only calls
 * with ranges inside `[0, size)` that are multiples of 512 bytes. Every call may run
 * concurrently with others (many requests in flight); a rejected promise completes the
 * request with VIRTIO_BLK_S_IOERR.
 */
import type { BlkLifetime } from './protocol.js';

export interface BlockBackend {
  /** Size of the disk in bytes (the device exposes `floor(size / 512)` sectors). */
  readonly size: number;
  /** The disk cannot be written: the device offers VIRTIO_BLK_F_RO. */
  readonly readOnly: boolean;
  /**
   * Whether discard and write zeroes with unmap can deallocate storage (hole punching): the
   * device reports it in `write_zeroes_may_unmap`. Default false.
   */
  readonly deallocates?: boolean;
  /** Device ID string for VIRTIO_BLK_T_GET_ID (ASCII, at most 20 bytes used). */
  readonly id?: string;
  /**
   * Fills `views` in order with the bytes at `offset`. The views usually alias guest memory
   * (zero-copy); the backend must not keep them after the promise settles.
   */
  read(offset: number, views: readonly Uint8Array[]): Promise<void>;
  /** Writes the concatenation of `views` at `offset`. Same view rules as {@link read}. */
  write(offset: number, views: readonly Uint8Array[]): Promise<void>;
  /** Makes every completed write durable (fdatasync for a file). */
  flush(): Promise<void>;
  /** Deallocates `[offset, offset + length)`; later reads of it may return anything. */
  discard(offset: number, length: number): Promise<void>;
  /**
   * Makes `[offset, offset + length)` read as zeroes. With `unmap` the backend may deallocate
   * the range instead of writing zeroes (reads must still return zeroes).
   */
  writeZeroes(offset: number, length: number, unmap: boolean): Promise<void>;
  /**
   * Lifetime metrics of the storage, when it has meaningful ones (eMMC, UFS). Without this
   * method the device never offers VIRTIO_BLK_F_LIFETIME (spec 5.2.6.4).
   */
  lifetime?(): Promise<BlkLifetime>;
  /** Releases the backend (closes files). */
  close?(): Promise<void>;
}
