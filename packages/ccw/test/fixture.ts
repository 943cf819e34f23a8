// Test fixture: one CcwTransport over an EchoDevice on an enabled subchannel, with helpers
// that issue single virtio-ccw commands as raw CCWs.
import { EchoDevice, type EchoDeviceOptions } from '@virtio/core/testing';
import { BumpAllocator, createDriverQueue, type DriverQueue } from '@virtio/ring';
import { expect } from 'vitest';
import {
  CCW_CMD_READ_FEAT,
  CCW_CMD_READ_STATUS,
  CCW_CMD_SET_VIRTIO_REV,
  CCW_CMD_SET_VQ,
  CCW_CMD_WRITE_FEAT,
  CCW_CMD_WRITE_STATUS,
  CcwTransport,
  type ChannelProgramResult,
} from '../src/index.js';
import { RawGuest, be16, be32, be64, le32 } from './guest.js';

export interface Fixture {
  guest: RawGuest;
  device: EchoDevice;
  transport: CcwTransport;
  /** I/O interrupts raised; adapter interrupts raised, by isc. */
  irq: { io: number; adapter: number[] };
  /** Runs one CCW with `count` defaulting to the data length. */
  cmd(cmd: number, data?: readonly number[], opts?: { flags?: number; count?: number }): ChannelProgramResult & { addr: number };
  setRevision(rev: number): ChannelProgramResult;
  writeStatus(v: number): ChannelProgramResult;
  /** READ_STATUS (revision 2): the status byte, or the failed result. */
  readStatus(): number | ChannelProgramResult;
  readFeatures(index: number): number;
  writeFeatures(index: number, value: number): ChannelProgramResult;
}

export function fixture(opts: { transitional?: boolean; device?: EchoDeviceOptions } = {}): Fixture {
  const guest = new RawGuest();
  const device = new EchoDevice(opts.device);
  const irq = { io: 0, adapter: [] as number[] };
  const transport = new CcwTransport(device, {
    memory: guest.memory,
    transitional: opts.transitional,
    interrupts: { ioInterrupt: () => irq.io++, adapterInterrupt: (isc) => irq.adapter.push(isc) },
  });
  transport.enableSubchannel();
  const cmd: Fixture['cmd'] = (code, data = [], o = {}) => {
    const addr = guest.data(data);
    const result = transport.startSubchannel(guest.program({ cmd: code, flags: o.flags ?? 0, count: o.count ?? data.length, cda: addr }));
    return { ...result, addr };
  };
  return {
    guest,
    device,
    transport,
    irq,
    cmd,
    setRevision: (rev) => cmd(CCW_CMD_SET_VIRTIO_REV, [...be16(rev), 0, 0]),
    writeStatus: (v) => cmd(CCW_CMD_WRITE_STATUS, [v]),
    readStatus: () => {
      const r = cmd(CCW_CMD_READ_STATUS, [0xee]);
      return r.status === 'ok' ? guest.memory.readU8(r.addr) : r;
    },
    readFeatures: (index) => {
      const r = cmd(CCW_CMD_READ_FEAT, [0, 0, 0, 0, index]);
      if (r.status !== 'ok') throw new Error(`READ_FEAT: ${r.status}`);
      return guest.memory.readU32(r.addr);
    },
    writeFeatures: (index, value) => cmd(CCW_CMD_WRITE_FEAT, [...le32(value), index]),
  };
}

export const OK = { status: 'ok' };
export const REJECT = { status: 'unit-check', sense: 'command-reject' };

/** Status bits (spec 2.1). */
export const ACK = 1;
export const DRIVER = 2;
export const DRIVER_OK = 4;
export const FEATURES_OK = 8;

/** vq_info_block bytes for queue `index` (revision 1 and 2). */
export function vqInfo(q: { desc: number; driver: number; device: number; index: number; size: number; res0?: number }): number[] {
  return [...be64(q.desc), ...be32(q.res0 ?? 0), ...be16(q.index), ...be16(q.size), ...be64(q.driver), ...be64(q.device)];
}

/**
 * Negotiates revision `rev` (1 or 2; unless one is set already) with feature bits 32-63 =
 * `featureWord1` (VERSION_1 only by default), sets up queue 0 with a split driver
 * queue of size 16 laid out in the guest, and sets DRIVER_OK.
 */
export function bringUp(f: Fixture, rev = 2, featureWord1 = 1): DriverQueue<number> {
  if (f.transport.revision === undefined) expect(f.setRevision(rev)).toMatchObject(OK);
  expect(f.writeStatus(ACK)).toMatchObject(OK);
  expect(f.writeStatus(ACK | DRIVER)).toMatchObject(OK);
  expect(f.writeFeatures(1, featureWord1)).toMatchObject(OK); // bit 0 = VIRTIO_F_VERSION_1 (bit 32)
  expect(f.writeStatus(ACK | DRIVER | FEATURES_OK)).toMatchObject(OK);
  const alloc = new BumpAllocator(f.guest.alloc(0x4000, 4096), 0x4000);
  const features = { indirectDesc: false, eventIdx: false, inOrder: false };
  const queue = createDriverQueue<number>(f.guest.memory, alloc, { size: 16, packed: false, features });
  const c = queue.config;
  expect(f.cmd(CCW_CMD_SET_VQ, vqInfo({ desc: c.descTable, driver: c.driverArea, device: c.deviceArea, index: 0, size: 16 }))).toMatchObject(OK);
  expect(f.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK)).toMatchObject(OK);
  return queue;
}

/** Exposes one buffer pair on `queue` (`out` bytes to echo, as many bytes of room) and notifies. */
export function echo(f: Fixture, queue: DriverQueue<number>, out: readonly number[], token = 1): { inAddr: number } {
  const outAddr = f.guest.data(out);
  const inAddr = f.guest.alloc(out.length);
  expect(queue.add([{ addr: outAddr, len: out.length }], [{ addr: inAddr, len: out.length }], token)).toBe(true);
  queue.kick();
  expect(f.transport.notify(0)).toBe(true);
  return { inAddr };
}
