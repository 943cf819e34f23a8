// Test set-up: our BlkDriver drives our BlkDevice over core's LoopbackTransport (or the MMIO
// transport) in flat guest memory; the device's interrupt calls the driver's handler.
import { BumpAllocator, FlatGuestMemory, type Segment } from '@virtio/ring';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverTransport, type VirtioDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { MmioTransport, probeMmio } from '@virtio/mmio';
import { BLK_DRIVER_FEATURES, BlkDevice, BlkDriver, MemoryBackend, type BlkDeviceOptions, type BlockBackend } from '../src/index.js';

export const MEM_SIZE = 8 << 20;
/** Test data buffers live in [DATA_BASE, RING_BASE); rings and request slots above. */
export const DATA_BASE = 0x10000;
export const RING_BASE = 4 << 20;

/** Ring feature sets every end-to-end test runs under. */
export const RING_MODES = [
  { name: 'split', ring: 0n },
  { name: 'split+indirect+event_idx', ring: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', ring: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', ring: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

const ALL_RING = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED);

export interface RigOptions extends Partial<BlkDeviceOptions> {
  /** Ring features the driver accepts (the device offers all). */
  readonly ring?: bigint;
  readonly transport?: 'loopback' | 'mmio';
  readonly driverFeatures?: bigint;
  readonly driverQueues?: number;
  readonly driverQueueSize?: number;
  /** The driver's `zoned` option. */
  readonly driverZoned?: boolean;
  /** Puts something between the transport and the device (e.g. a RecordingDevice). */
  readonly wrap?: (device: BlkDevice) => VirtioDevice;
}

export function rig(opts: RigOptions = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const backend: BlockBackend = opts.backend ?? new MemoryBackend({ size: 1 << 20 });
  const device = new BlkDevice({ ...opts, backend });
  const attached = opts.wrap ? opts.wrap(device) : device;
  const allocator = new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE);
  const wanted = ((opts.driverFeatures ?? BLK_DRIVER_FEATURES) & ~ALL_RING) | (opts.ring ?? 0n);
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
  const driver = new BlkDriver(transport, {
    memory,
    allocator,
    wantedFeatures: wanted,
    queues: opts.driverQueues,
    queueSize: opts.driverQueueSize,
    zoned: opts.driverZoned,
  });
  onInterrupt = () => driver.handleInterrupt();
  return { memory, backend, device, attached, driver, state, allocator, transport };
}

/** A guest buffer of `len` bytes at `addr`, as one segment. */
export const seg = (addr: number, len: number): Segment[] => [{ addr, len }];

/** Deterministic bytes for sector-sized test data. */
export function pattern(len: number, seed: number): Uint8Array {
  const b = new Uint8Array(len);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    b[i] = x >>> 24;
  }
  return b;
}
