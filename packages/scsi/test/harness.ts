// Test set-up: our ScsiDriver drives our ScsiDevice over core's LoopbackTransport (or the MMIO
// transport) in flat guest memory; the device's interrupt calls the driver's handler.
import { BumpAllocator, FlatGuestMemory, type Segment } from '@virtio/ring';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverTransport, type VirtioDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { MmioTransport, probeMmio } from '@virtio/mmio';
import { MemoryBackend } from '@virtio/blk';
import {
  SCSI_DRIVER_FEATURES,
  ScsiDevice,
  ScsiDisk,
  ScsiDriver,
  type ScsiCommand,
  type ScsiCommandResult,
  type ScsiDeviceOptions,
  type ScsiDriverOptions,
  type ScsiLogicalUnit,
} from '../src/index.js';

export const MEM_SIZE = 8 << 20;
export const DATA_BASE = 0x10000;
export const RING_BASE = 4 << 20;

export const RING_MODES = [
  { name: 'split', ring: 0n },
  { name: 'split+indirect+event_idx', ring: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', ring: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', ring: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

const ALL_RING = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

export interface RigOptions extends ScsiDeviceOptions, Partial<Omit<ScsiDriverOptions, 'memory' | 'allocator'>> {
  readonly ring?: bigint;
  readonly transport?: 'loopback' | 'mmio';
  /** Disk size in bytes for the default unit at target 0 lun 0 (default 1 MiB). */
  readonly diskSize?: number;
  readonly readOnly?: boolean;
  readonly wrap?: (device: ScsiDevice) => VirtioDevice;
}

export function rig(opts: RigOptions = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const backend = new MemoryBackend({ size: opts.diskSize ?? 1 << 20, readOnly: opts.readOnly });
  const disk = new ScsiDisk({ backend, serial: 'SN0001' });
  const device = new ScsiDevice({ ...opts, units: opts.units ?? [{ target: 0, lun: 0, unit: disk }] });
  const attached = opts.wrap ? opts.wrap(device) : device;
  const allocator = new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE);
  const wanted = ((opts.wantedFeatures ?? SCSI_DRIVER_FEATURES) & ~ALL_RING) | (opts.ring ?? 0n);
  let onInterrupt: () => void = () => {};
  let transport: DriverTransport;
  let state;
  if (opts.transport === 'mmio') {
    const mmio = new MmioTransport(attached, { memory, interruptLine: (asserted) => asserted && onInterrupt() });
    const probe = probeMmio(mmio);
    if (!probe.ok) throw new Error(probe.reason);
    transport = probe.transport;
    state = mmio.state;
  } else {
    const loop = new LoopbackTransport(attached, { memory, transport: 'mmio' });
    loop.onInterrupt = () => onInterrupt();
    transport = loop;
    state = loop.state;
  }
  const driver = new ScsiDriver(transport, { ...opts, memory, allocator, wantedFeatures: wanted });
  onInterrupt = () => driver.handleInterrupt();
  return { memory, backend, disk, device, attached, driver, state, allocator, transport };
}

/** Lets microtasks and the device's batches run. */
export async function settle(rounds = 10): Promise<void> {
  for (let i = 0; i < rounds; i++) await new Promise<void>((r) => setTimeout(r, 0));
}

export const seg = (addr: number, len: number): Segment[] => [{ addr, len }];

export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}

/** CDB builders (big-endian fields). */
export const cdb = {
  testUnitReady: () => new Uint8Array(6),
  inquiry: (alloc: number, evpd = false, page = 0) => Uint8Array.of(0x12, evpd ? 1 : 0, page, alloc >> 8, alloc & 0xff, 0),
  requestSense: (alloc: number) => Uint8Array.of(0x03, 0, 0, 0, alloc, 0),
  readCapacity10: () => Uint8Array.of(0x25, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  readCapacity16: (alloc = 32) => Uint8Array.of(0x9e, 0x10, 0, 0, 0, 0, 0, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0),
  rw10: (write: boolean, lba: number, blocks: number) => {
    const c = new Uint8Array(10);
    c[0] = write ? 0x2a : 0x28;
    new DataView(c.buffer).setUint32(2, lba);
    new DataView(c.buffer).setUint16(7, blocks);
    return c;
  },
  rw16: (write: boolean, lba: number, blocks: number) => {
    const c = new Uint8Array(16);
    c[0] = write ? 0x8a : 0x88;
    new DataView(c.buffer).setBigUint64(2, BigInt(lba));
    new DataView(c.buffer).setUint32(10, blocks);
    return c;
  },
  syncCache10: () => Uint8Array.of(0x35, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  syncCache16: () => Uint8Array.of(0x91, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0),
  modeSense6: (page: number, alloc: number) => Uint8Array.of(0x1a, 0, page, 0, alloc, 0),
  modeSense10: (page: number, alloc: number) => Uint8Array.of(0x5a, 0, page, 0, 0, 0, 0, alloc >> 8, alloc & 0xff, 0),
  reportLuns: (alloc: number) => Uint8Array.of(0xa0, 0, 0, 0, 0, 0, alloc >>> 24, (alloc >> 16) & 0xff, (alloc >> 8) & 0xff, alloc & 0xff, 0, 0),
};

/** A logical unit whose commands finish only when the test releases them. */
export class GatedUnit implements ScsiLogicalUnit {
  readonly peripheralType: number;
  readonly held: { cmd: ScsiCommand; release: (r?: ScsiCommandResult) => void }[] = [];
  resets = 0;
  readonly attentions: [number, number][] = [];
  asyncEvents = 0;
  constructor(peripheralType = 0) {
    this.peripheralType = peripheralType;
  }
  execute(cmd: ScsiCommand): Promise<ScsiCommandResult> {
    return new Promise((resolve) => this.held.push({ cmd, release: (r) => resolve(r ?? { status: 0 }) }));
  }
  reset(): void {
    this.resets++;
  }
  unitAttention(asc: number, ascq: number): void {
    this.attentions.push([asc, ascq]);
  }
  releaseAll(): void {
    for (const h of this.held.splice(0)) h.release();
  }
}
