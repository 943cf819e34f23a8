// Test-only helpers for the packed ring tests: guest memory, a driver/device pair in one
// process, and a raw ring writer for an adversarial driver.
import { FreeListAllocator } from '../src/alloc/free-list.js';
import { FlatGuestMemory } from '../src/memory/flat.js';
import type { GuestMemory } from '../src/memory/guest-memory.js';
import { PackedDeviceQueue } from '../src/packed/device-queue.js';
import { PackedDriverQueue } from '../src/packed/driver-queue.js';
import type { QueueConfig, RingFeatures } from '../src/queue/types.js';

export const AVAIL = 1 << 7;
export const USED = 1 << 15;
export const NEXT = 1;
export const WRITE = 2;
export const INDIRECT = 4;

export function features(f: Partial<RingFeatures> = {}): RingFeatures {
  return { indirectDesc: false, eventIdx: false, inOrder: false, ...f };
}

/** A driver and a device on the same packed ring, rings and tables from the low 1 MiB. */
export function packedPair(size: number, f: Partial<RingFeatures> = {}, memBytes = 4 << 20) {
  const memory = new FlatGuestMemory(new ArrayBuffer(memBytes));
  const allocator = new FreeListAllocator(0x1000, (1 << 20) - 0x1000);
  const driver = new PackedDriverQueue<number>(memory, allocator, { size, packed: true, features: features(f) });
  const device = new PackedDeviceQueue(memory, driver.config);
  return { memory, allocator, driver, device };
}

/** Data buffers live above 1 MiB: buffer k is 256 bytes at 1 MiB + 256 k. */
export function buf(k: number, len = 256) {
  return { addr: (1 << 20) + 256 * k, len };
}

/**
 * A hand-written packed ring in a 64 KiB guest: descriptor ring at 0x1000, driver event
 * suppression at 0x800, device event suppression at 0x900, buffers from 0x4000.
 */
export class RawRing {
  readonly memory: GuestMemory;
  readonly config: QueueConfig;
  constructor(size: number, f: Partial<RingFeatures> = {}, memory: GuestMemory = new FlatGuestMemory(new ArrayBuffer(0x10000))) {
    this.memory = memory;
    this.config = { size, descTable: 0x1000, driverArea: 0x800, deviceArea: 0x900, packed: true, features: features(f) };
  }
  device(): PackedDeviceQueue {
    return new PackedDeviceQueue(this.memory, this.config);
  }
  /** Writes descriptor `i` of the ring; `wrap` picks the AVAIL/USED bits of an available descriptor. */
  desc(i: number, addr: number, len: number, id: number, flags: number, wrap = 1): void {
    this.entry(this.config.descTable + 16 * i, addr, len, id, flags | (wrap ? AVAIL : USED));
  }
  /** Writes a raw struct pvirtq_desc at `at` (ring slot or indirect table entry). */
  entry(at: number, addr: number, len: number, id: number, flags: number): void {
    this.memory.writeU64(at, BigInt(addr));
    this.memory.writeU32(at + 8, len);
    this.memory.writeU16(at + 12, id);
    this.memory.writeU16(at + 14, flags);
  }
  flags(i: number): number {
    return this.memory.readU16(this.config.descTable + 16 * i + 14);
  }
  id(i: number): number {
    return this.memory.readU16(this.config.descTable + 16 * i + 12);
  }
  len(i: number): number {
    return this.memory.readU32(this.config.descTable + 16 * i + 8);
  }
  /** Driver Event Suppression: (desc word, flags word). */
  driverEvent(desc: number, flags: number): void {
    this.memory.writeU16(this.config.driverArea, desc);
    this.memory.writeU16(this.config.driverArea + 2, flags);
  }
  deviceEventFlags(): number {
    return this.memory.readU16(this.config.deviceArea + 2);
  }
  deviceEventDesc(): number {
    return this.memory.readU16(this.config.deviceArea);
  }
}

/** Ring bytes of descriptor `i` of a driver-laid-out ring. */
export function descBytes(memory: GuestMemory, config: QueueConfig, i: number): Uint8Array {
  return memory.view(config.descTable + 16 * i, 16).slice();
}
