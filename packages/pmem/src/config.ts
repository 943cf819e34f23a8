/**
 * struct virtio_pmem_config (spec 5.19.4): le64 start, le64 size, read-only. Under a negotiated
 * VIRTIO_PMEM_F_SHMEM_REGION both read 0 (the range is shared memory region 0).
 */
import { PMEM_CONFIG_SIZE } from './protocol.js';

export class PmemConfig {
  readonly size = PMEM_CONFIG_SIZE;
  readonly #bytes = new Uint8Array(PMEM_CONFIG_SIZE);
  readonly #view = new DataView(this.#bytes.buffer);

  /** Presents `start` and `size` (bytes; both < 2^53), or zeros when `start` is undefined. */
  present(start: number | undefined, size: number): void {
    this.#view.setBigUint64(0, BigInt(start ?? 0), true);
    this.#view.setBigUint64(8, BigInt(start === undefined ? 0 : size), true);
  }

  /** Reads `width` bytes at `offset` (offset + width <= size, checked by the transport). */
  read(offset: number, width: 1 | 2 | 4): number {
    if (width === 1) return this.#view.getUint8(offset);
    if (width === 2) return this.#view.getUint16(offset, true);
    return this.#view.getUint32(offset, true);
  }
}
