// Guest RAM: anonymous shared memory (memfd) mapped into this process, viewable from any thread.
import { KvmError } from '../sys/errors.js';
import * as libc from '../sys/libc.js';
import { check, closeFd, mapShared } from '../sys/calls.js';

/** Largest span one ArrayBuffer view of guest RAM covers, in bytes (koffi.view aborts beyond 4 GiB). */
export const GUEST_RAM_CHUNK = 2 ** 32;
const PAGE = 4096;

/**
 * A block of host memory that backs guest RAM: memfd_create + ftruncate + mmap(MAP_SHARED |
 * MAP_NORESERVE). `hostAddress` goes to {@link Vm.setUserMemoryRegion}; a worker thread given
 * `hostAddress` and `size` rebuilds its own views with {@link GuestRam.fromAddress}. Views are
 * zero-copy and become dangling after {@link GuestRam.close} unmaps the memory: close last.
 */
export class GuestRam {
  /** The memfd backing this RAM (another process may mmap it), or -1 for a borrowed mapping. */
  readonly fd: number;
  /** Size in bytes (a multiple of 4096). */
  readonly size: number;
  /** Host virtual address of the first byte. */
  readonly hostAddress: bigint;
  #views: ArrayBuffer[] | null = null;
  #closed = false;

  private constructor(fd: number, size: number, hostAddress: bigint) {
    this.fd = fd;
    this.size = size;
    this.hostAddress = hostAddress;
  }

  /**
   * Allocates `size` bytes (a positive multiple of 4096) of zeroed, lazily backed memory.
   * @throws RangeError for a bad size; KvmError when memfd_create, ftruncate or mmap fails.
   */
  static allocate(size: number, name = 'virtio-guest-ram'): GuestRam {
    checkSize(size);
    const fd = check('memfd_create', libc.memfdCreate(name, libc.MFD_CLOEXEC));
    try {
      check('ftruncate', libc.ftruncate(fd, size));
      return new GuestRam(fd, size, mapShared('mmap guest RAM', fd, size, libc.MAP_NORESERVE));
    } catch (error) {
      closeFd(fd);
      throw error;
    }
  }

  /**
   * Wraps memory another thread allocated (same process): views only, close() unmaps nothing.
   * @throws RangeError for a bad size or a null address.
   */
  static fromAddress(hostAddress: bigint, size: number): GuestRam {
    checkSize(size);
    if (hostAddress === 0n) throw new RangeError('GuestRam.fromAddress: null host address');
    return new GuestRam(-1, size, hostAddress);
  }

  /**
   * Zero-copy views of the whole RAM, in order, each at most {@link GUEST_RAM_CHUNK} bytes: byte
   * `offset` lives in `views()[Math.floor(offset / GUEST_RAM_CHUNK)]`. Built once, then cached.
   * @throws KvmError after close().
   */
  views(): ArrayBuffer[] {
    if (this.#closed) throw new KvmError('GuestRam.views', 9 /* EBADF */, 'guest RAM is closed');
    if (this.#views === null) {
      const views: ArrayBuffer[] = [];
      for (let offset = 0; offset < this.size; offset += GUEST_RAM_CHUNK) {
        views.push(libc.view(this.hostAddress + BigInt(offset), Math.min(GUEST_RAM_CHUNK, this.size - offset)));
      }
      this.#views = views;
    }
    return this.#views;
  }

  /**
   * A Uint8Array over `length` bytes at byte `offset` into this RAM; `length` defaults to the
   * rest of the RAM or of the 4 GiB chunk holding `offset`, whichever ends first.
   * @throws RangeError when the range leaves the RAM or crosses a 4 GiB chunk boundary.
   */
  bytes(offset = 0, length = Math.min(this.size, (Math.floor(offset / GUEST_RAM_CHUNK) + 1) * GUEST_RAM_CHUNK) - offset): Uint8Array {
    if (!Number.isSafeInteger(offset) || !Number.isSafeInteger(length) || offset < 0 || length < 0 || offset + length > this.size) {
      throw new RangeError(`GuestRam.bytes: [${offset}, +${length}) is outside ${this.size} bytes`);
    }
    const chunk = Math.floor(offset / GUEST_RAM_CHUNK);
    const start = offset - chunk * GUEST_RAM_CHUNK;
    if (start + length > GUEST_RAM_CHUNK) throw new RangeError('GuestRam.bytes: range crosses a 4 GiB chunk boundary');
    return new Uint8Array(this.views()[chunk], start, length);
  }

  /** Unmaps the memory and closes the memfd (owned RAM); forgets the views either way. Idempotent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#views = null;
    if (this.fd >= 0) {
      libc.munmap(this.hostAddress, this.size);
      closeFd(this.fd);
    }
  }
}

/** Allocates guest RAM: see {@link GuestRam.allocate}. */
export function allocateGuestRam(size: number): GuestRam {
  return GuestRam.allocate(size);
}

function checkSize(size: number): void {
  if (!Number.isSafeInteger(size) || size <= 0 || size % PAGE !== 0) {
    throw new RangeError(`guest RAM size must be a positive multiple of ${PAGE} bytes, got ${size}`);
  }
}
