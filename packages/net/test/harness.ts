// Test set-up: our NetDriver drives our NetDevice over core's LoopbackTransport (or the MMIO
// transport) in flat guest memory; the device's interrupt calls the driver's handler.
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED, type DriverTransport, type VirtioTransportState } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { MmioTransport, probeMmio } from '@virtio/mmio';
import {
  CallbackBackend,
  NET_DRIVER_FEATURES,
  NetDevice,
  NetDriver,
  type NetBackend,
  type NetDeviceOptions,
  type NetHeader,
} from '../src/index.js';

export const MEM_SIZE = 16 << 20;

export const RING_MODES = [
  { name: 'split', ring: 0n },
  { name: 'split+indirect+event_idx', ring: featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
  { name: 'packed', ring: featureMask(VIRTIO_F_RING_PACKED) },
  { name: 'packed+indirect+event_idx', ring: featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) },
] as const;

export interface Received {
  readonly frame: Uint8Array;
  readonly header: NetHeader;
  readonly pair: number;
}

export interface RigOptions extends Partial<NetDeviceOptions> {
  readonly ring?: bigint;
  readonly transport?: 'loopback' | 'mmio';
  /** Device features the driver accepts (ring bits come from `ring`). */
  readonly driverFeatures?: bigint;
  readonly queueSize?: number;
  readonly rxBufferSize?: number;
  readonly vnetHeader?: boolean;
  /** The callback backend vouches for the checksums it marks DATA_VALID. */
  readonly checksumsValidated?: boolean;
  /** Interrupts are only counted; the test calls driver.handleInterrupt() itself. */
  readonly manualInterrupts?: boolean;
}

export function rig(opts: RigOptions = {}) {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const sent: { frame: Uint8Array; header: Uint8Array | null }[] = [];
  const callback = new CallbackBackend({ vnetHeader: opts.vnetHeader ?? false, checksumsValidated: opts.checksumsValidated, onFrame: (frame, header) => sent.push({ frame, header }) });
  const backend: NetBackend = opts.backend ?? callback;
  const device = new NetDevice({ ...opts, backend });
  const allocator = new BumpAllocator(0x10000, MEM_SIZE - 0x10000);
  const received: Received[] = [];
  let configChanges = 0;
  let onInterrupt: () => void = () => {};
  let transport: DriverTransport;
  let state: VirtioTransportState;
  if (opts.transport === 'mmio') {
    const mmio = new MmioTransport(device, { memory, interruptLine: (asserted) => asserted && onInterrupt() });
    const probe = probeMmio(mmio);
    if (!probe.ok) throw new Error(probe.reason);
    transport = probe.transport;
    state = mmio.state;
  } else {
    const loop = new LoopbackTransport(device, { memory, transport: 'mmio' });
    loop.onInterrupt = () => onInterrupt();
    transport = loop;
    state = loop.state;
  }
  const driver = new NetDriver(transport, {
    memory,
    allocator,
    wantedFeatures: (opts.driverFeatures ?? NET_DRIVER_FEATURES) | (opts.ring ?? 0n),
    queueSize: opts.queueSize,
    rxBufferSize: opts.rxBufferSize,
    onFrame: (frame, header, pair) => received.push({ frame, header, pair }),
    onConfigChange: () => configChanges++,
  });
  let interrupts = 0;
  onInterrupt = opts.manualInterrupts ? () => void interrupts++ : () => driver.handleInterrupt();
  return { memory, allocator, device, driver, callback, sent, received, transport, state, configChanges: () => configChanges, interrupts: () => interrupts };
}

/** An Ethernet frame of `len` bytes to `dst` with deterministic payload. */
export function ethFrame(len: number, seed = 1, dst: ArrayLike<number> = [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]): Uint8Array {
  const f = new Uint8Array(len);
  f.set(dst, 0);
  f.set([0x02, 0, 0, 0, 0, 0x99], 6);
  f[12] = 0x88;
  f[13] = 0xb5; // local experimental EtherType
  let x = seed >>> 0 || 1;
  for (let i = 14; i < len; i++) {
    x = (x * 1103515245 + 12345) >>> 0;
    f[i] = x >>> 24;
  }
  return f;
}

export const BROADCAST = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff];

/** Puts a transmit chain [header bytes ++ frame] on transmitq1 behind the driver's checks, and kicks. */
export function rawTransmit(r: ReturnType<typeof rig>, header: Uint8Array, frame: Uint8Array): void {
  const addr = r.allocator.alloc(header.length + frame.length, 8);
  r.memory.write(addr, header);
  r.memory.write(addr + header.length, frame);
  r.driver.device.queues[1]!.add([{ addr, len: header.length + frame.length }], [], addr);
  r.driver.device.kick(1);
}

/** A 12-byte struct virtio_net_hdr. */
export function hdrBytes(flags: number, gsoType: number, gsoSize = 0, csumStart = 0, csumOffset = 0, hdrLen = 0): Uint8Array {
  const b = new Uint8Array(12);
  const v = new DataView(b.buffer);
  b[0] = flags;
  b[1] = gsoType;
  v.setUint16(2, hdrLen, true);
  v.setUint16(4, gsoSize, true);
  v.setUint16(6, csumStart, true);
  v.setUint16(8, csumOffset, true);
  return b;
}

/**
 * Puts a raw control chain [readable bytes] + [writable bytes, 0xee-filled] on controlq
 * (`ctrlIndex`) behind the driver's checks and kicks; returns the ack address (the first
 * writable byte; command-specific-result follows it).
 */
export function rawCommand(r: ReturnType<typeof rig>, ctrlIndex: number, readable: Uint8Array, writable = 1): number {
  const addr = r.allocator.alloc(readable.length + writable + 1, 8);
  r.memory.write(addr, readable);
  const ack = addr + readable.length;
  r.memory.write(ack, new Uint8Array(Math.max(writable, 1)).fill(0xee));
  r.driver.device.queues[ctrlIndex]!.add(readable.length ? [{ addr, len: readable.length }] : [], writable ? [{ addr: ack, len: writable }] : [], addr);
  r.driver.device.kick(ctrlIndex);
  return ack;
}
