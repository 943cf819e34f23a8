// Test fixture: our driver against our device through an in-process channel subsystem, with
// a recording wrapper around the channel subsystem so tests can see what the driver issued.
import { initializeDevice, type DriverDevice, type InitializeOptions } from '@virtio/core';
import { EchoDevice, type EchoDeviceOptions } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import {
  CcwDriverTransport,
  CcwTransport,
  ChannelSubsystem,
  readCcw,
  type CcwDriverOptions,
  type ChannelProgramResult,
  type ChannelSubsystemAccess,
} from '../src/index.js';

export const SCHID = 0x0001_0007;

export interface IssuedCommand {
  readonly cmd: number;
  readonly count: number;
  readonly flags: number;
  readonly result: ChannelProgramResult['status'];
  /** The command's data as it was when the command was issued. */
  readonly data: readonly number[];
}

/** A ChannelSubsystemAccess that records every command and notification, and can be scripted to reject commands. */
export class RecordingCss implements ChannelSubsystemAccess {
  readonly commands: IssuedCommand[] = [];
  readonly notifications: { data: number; cookie: bigint; returned: bigint }[] = [];
  /** Return a unit check for a command instead of running it. */
  reject: (cmd: number, memory: FlatGuestMemory, cda: number) => boolean = () => false;

  constructor(
    readonly inner: ChannelSubsystem,
    readonly memory: FlatGuestMemory,
  ) {}

  enableSubchannel(schid: number): boolean {
    return this.inner.enableSubchannel(schid);
  }
  disableSubchannel(schid: number): boolean {
    return this.inner.disableSubchannel(schid);
  }
  testSubchannel(schid: number): boolean {
    return this.inner.testSubchannel(schid);
  }
  startSubchannel(schid: number, programAddress: number): ChannelProgramResult {
    const ccw = readCcw(this.memory, programAddress);
    const data = new Uint8Array(ccw.count);
    this.memory.read(ccw.cda, data);
    const result: ChannelProgramResult = this.reject(ccw.cmd, this.memory, ccw.cda)
      ? { status: 'unit-check', sense: 'command-reject', ccw: programAddress }
      : this.inner.startSubchannel(schid, programAddress);
    this.commands.push({ cmd: ccw.cmd, count: ccw.count, flags: ccw.flags, result: result.status, data: [...data] });
    return result;
  }
  notify(schid: number | bigint, data: number, cookie: bigint): bigint {
    const returned = this.inner.notify(schid, data, cookie);
    this.notifications.push({ data, cookie, returned });
    return returned;
  }
}

export interface Pair {
  memory: FlatGuestMemory;
  allocator: BumpAllocator;
  device: EchoDevice;
  transport: CcwTransport;
  css: RecordingCss;
  driver: CcwDriverTransport;
  /** Interrupts the device raised, in order. */
  interrupts: ('io' | `adapter:${number}`)[];
  /** Called on every interrupt (after recording it); set by tests. */
  onInterrupt: () => void;
}

export function pair(
  opts: { device?: EchoDeviceOptions; transitional?: boolean; driver?: Partial<CcwDriverOptions>; setup?: (p: Pair) => void } = {},
): Pair {
  const memory = new FlatGuestMemory(new Uint8Array(1 << 20));
  const allocator = new BumpAllocator(0x1000, (1 << 20) - 0x1000);
  const device = new EchoDevice(opts.device);
  const inner = new ChannelSubsystem();
  const p = { memory, allocator, device, interrupts: [], onInterrupt: () => {} } as unknown as Pair;
  p.transport = new CcwTransport(device, {
    memory,
    transitional: opts.transitional,
    interrupts: {
      ioInterrupt: () => {
        p.interrupts.push('io');
        p.onInterrupt();
      },
      adapterInterrupt: (isc) => {
        p.interrupts.push(`adapter:${isc}`);
        p.onInterrupt();
      },
    },
  });
  // A neighbour first, so the device under test does not get the first slot (host cookie 0).
  const neighbour = new CcwTransport(new EchoDevice(), { memory, interrupts: { ioInterrupt: () => {}, adapterInterrupt: () => {} } });
  inner.attach(SCHID - 1, neighbour);
  inner.attach(SCHID, p.transport);
  p.css = new RecordingCss(inner, memory);
  opts.setup?.(p);
  p.driver = CcwDriverTransport.open({ css: p.css, schid: SCHID, memory, allocator, ...opts.driver });
  return p;
}

/** Runs core's driver initialization with queue 0 (and any other requested). */
export function initialize(p: Pair, extra: Partial<InitializeOptions> = {}): DriverDevice {
  return initializeDevice(p.driver, {
    memory: p.memory,
    allocator: p.allocator,
    wantedFeatures: 0n,
    queues: [{ index: 0, size: 16 }],
    ...extra,
  });
}

/** Sends `bytes` through queue `index` of an initialized device and returns the echoed bytes (reaped on interrupt). */
export function roundTrip(p: Pair, dev: DriverDevice, bytes: readonly number[], index = 0): number[] {
  const q = dev.queues[index]!;
  const out = p.allocator.alloc(bytes.length, 8);
  const inn = p.allocator.alloc(bytes.length, 8);
  p.memory.write(out, Uint8Array.from(bytes));
  let reaped: { token: unknown; len: number } | null = null;
  p.onInterrupt = () => {
    const events = dev.handleInterrupt();
    if (events.usedBuffer) reaped ??= q.reap();
  };
  q.add([{ addr: out, len: bytes.length }], [{ addr: inn, len: bytes.length }], 'rt');
  dev.kick(index);
  if (!reaped) throw new Error('no interrupt delivered the used buffer');
  const got = new Uint8Array((reaped as { len: number }).len);
  p.memory.read(inn, got);
  return [...got];
}
