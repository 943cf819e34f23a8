/**
 * The memory behind --pmem (main thread): each file is copied into its own shared memory block
 * (memfd, like guest RAM) that becomes a KVM memory slot from 4 GiB up — above all guest RAM,
 * since devices need RAM below 3 GiB. The device thread writes a block back to its file when the
 * guest flushes (other-devices.ts). Not in the e820 map: the guest finds the range only through
 * the device's configuration (start, size).
 */
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { GUEST_RAM_CHUNK, GuestRam, type Vm } from '@virtio/kvm';
import { CliError } from '../cli/load-files.js';
import type { PmemSpec } from './options.js';

/** Guest-physical address of the first --pmem range. */
export const PMEM_BASE = 2 ** 32;
/** Size granularity of a --pmem file, in bytes (Linux maps the range in 2 MiB sections). */
export const PMEM_ALIGN = 2 * 2 ** 20;
/** First KVM memory slot used for pmem (the machine's RAM takes slots 0 and 1). */
const FIRST_SLOT = 8;
/** Bytes read per readSync call while loading a file. */
const READ_CHUNK = 64 * 2 ** 20;

/** One mapped --pmem range, as the device thread needs it. */
export interface PmemRegion {
  readonly path: string;
  /** Guest-physical address of the first byte. */
  readonly guestAddress: number;
  /** Host address of the memory block (decimal string of the pointer, for a worker's GuestRam.fromAddress). */
  readonly hostAddress: string;
  /** Bytes. */
  readonly size: number;
}

/** The mapped ranges and the blocks behind them (close after the device thread stopped). */
export interface PmemMemory {
  readonly regions: PmemRegion[];
  close(): void;
}

/**
 * Loads each --pmem file into a new memory block and maps it into the guest, one range after
 * the other from {@link PMEM_BASE}.
 * @throws CliError when a file cannot be read or its size is not a positive multiple of 2 MiB.
 */
export function mapPmem(vm: Vm, specs: readonly PmemSpec[]): PmemMemory {
  const blocks: GuestRam[] = [];
  const regions: PmemRegion[] = [];
  const close = () => blocks.forEach((b) => b.close());
  let next = PMEM_BASE;
  try {
    specs.forEach((s, i) => {
      const block = loadFile(s.path);
      blocks.push(block);
      vm.setUserMemoryRegion({ slot: FIRST_SLOT + i, guestPhysAddr: next, size: block.size, hostAddress: block.hostAddress });
      regions.push({ path: s.path, guestAddress: next, hostAddress: block.hostAddress.toString(), size: block.size });
      next += block.size;
    });
  } catch (e) {
    close();
    throw e;
  }
  return { regions, close };
}

function loadFile(path: string): GuestRam {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    throw new CliError(`cannot open pmem file ${path}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
  }
  try {
    const size = fstatSync(fd).size;
    if (size <= 0 || size % PMEM_ALIGN !== 0) throw new CliError(`pmem file ${path}: ${size} bytes is not a positive multiple of 2 MiB`);
    if (size > GUEST_RAM_CHUNK) throw new CliError(`pmem file ${path}: larger than 4 GiB`);
    const block = GuestRam.allocate(size, 'virtio-pmem');
    const bytes = block.bytes(0, size);
    for (let off = 0; off < size; ) {
      const n = readSync(fd, bytes, off, Math.min(READ_CHUNK, size - off), off);
      if (n === 0) break;
      off += n;
    }
    return block;
  } finally {
    closeSync(fd);
  }
}
