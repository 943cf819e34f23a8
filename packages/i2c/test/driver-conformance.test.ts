// Driver conformance (spec 5.16.6): what our I2cDriver puts on the ring, and what it takes back.
import { describe, expect, it } from 'vitest';
import { DeviceInitError, VIRTIO_CONFIG_S_FAILED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import { decodeI2cAddress, I2cDriver, I2cDriverError, VIRTIO_I2C_MSG_ERR, VIRTIO_I2C_MSG_OK } from '../src/index.js';
import { rig, settle, VARIANTS, type RingOp } from './harness.js';
import { ScriptedI2cDevice } from './hostile-device.js';

const FAIL_NEXT = 1;
const M_RD = 2;

/** Decodes a popped request's out_hdr. */
const hdr = (e: RingOp) => {
  const v = new DataView(e.request.buffer, e.request.byteOffset, e.request.byteLength);
  return { addr: v.getUint16(0, true), padding: v.getUint16(2, true), flags: v.getUint32(4, true) };
};
const pops = (t: { log: RingOp[] }) => t.log.filter((e) => e.op === 'pop');

function scripted(fill = 0xab, offerZeroLength = true) {
  const memory = new FlatGuestMemory(new Uint8Array(0x100000));
  const device = new ScriptedI2cDevice(fill, offerZeroLength);
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const driver = I2cDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, 0xf0000) });
  transport.onInterrupt = () => queueMicrotask(() => driver.handleInterrupt());
  return { device, driver, transport };
}

describe('I2C driver negotiation', () => {
  it('[i2c.drv.1] accepts VIRTIO_I2C_F_ZERO_LENGTH_REQUEST and aborts (FAILED) when the device does not offer it', () => {
    const t = rig();
    expect(t.driver.device.features & 1n).toBe(1n);
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const transport = new LoopbackTransport(new ScriptedI2cDevice(0, false), { memory, transport: 'mmio' });
    expect(() => I2cDriver.initialize(transport, { memory, allocator: new FreeListAllocator(0x1000, 0xf0000) })).toThrow(DeviceInitError);
    expect(transport.getStatus() & VIRTIO_CONFIG_S_FAILED).toBe(VIRTIO_CONFIG_S_FAILED);
  });
});

describe.each(VARIANTS)('I2C driver conformance over $name', ({ features }) => {
  it('[i2c.drv.2] [i2c.drv.3] sets addr (7-bit and 10-bit forms) and flags, reserved bits and padding zero', async () => {
    const t = rig({ features });
    const p = t.driver.transfer([
      { addr: 0x50, write: Uint8Array.of(0) },
      { addr: 0x50, read: 2 },
      { addr: 0x2a5, tenBit: true, write: Uint8Array.of(0, 0, 9) },
    ]);
    await settle();
    expect((await p).completed).toBe(3);
    const h = pops(t).map(hdr);
    expect(h.map((x) => decodeI2cAddress(x.addr))).toEqual([
      { address: 0x50, tenBit: false },
      { address: 0x50, tenBit: false },
      { address: 0x2a5, tenBit: true },
    ]);
    expect(h.map((x) => x.addr)).toEqual([0xa0, 0xa0, 0xa5f4]);
    expect(h.every((x) => x.padding === 0 && (x.flags & ~(FAIL_NEXT | M_RD)) === 0)).toBe(true);
  });

  it('[i2c.drv.4] sends no buf for a zero-length request', async () => {
    const t = rig({ features });
    const p = Promise.all([t.driver.probe(0x50), t.driver.probe(0x51), t.driver.transfer([{ addr: 0x50, read: 0 }])]);
    await settle();
    const [present, absent, read0] = await p;
    expect([present, absent, read0.completed]).toEqual([true, false, 1]);
    for (const e of pops(t)) expect([e.chain.readableLength, e.chain.writableLength, e.chain.readable.length, e.chain.writable.length]).toEqual([8, 1, 1, 1]);
  });

  it('[i2c.drv.6] [i2c.drv.7] sets M_RD exactly for reads: read buf device-writable, write buf device-readable', async () => {
    const t = rig({ features });
    const p = t.driver.transfer([
      { addr: 0x50, write: Uint8Array.of(0x10, 7, 8) },
      { addr: 0x50, write: Uint8Array.of(0x10) },
      { addr: 0x50, read: 2 },
    ]);
    await settle();
    expect([...((await p).data[2] as Uint8Array)]).toEqual([7, 8]);
    const popped = pops(t);
    expect(popped.map((e) => hdr(e).flags & M_RD)).toEqual([0, 0, M_RD]);
    expect(popped.map((e) => [e.chain.readableLength, e.chain.writableLength])).toEqual([[11, 1], [9, 1], [8, 3]]);
  });

  it('[i2c.drv.8] queues the requests of a transfer in order, FAIL_NEXT on all but the last, transfers in call order', async () => {
    const t = rig({ features, driver: { queueSize: 16 } });
    const calls = [0, 1, 2, 3, 4, 5].map((i) =>
      t.driver.transfer([
        { addr: 0x50, write: Uint8Array.of(0x60 + i, i) },
        { addr: 0x50, write: Uint8Array.of(0x60 + i) },
        { addr: 0x50, read: 1 },
      ]),
    );
    for (let i = 0; i < 10; i++) await settle();
    const results = await Promise.all(calls);
    expect(results.map((r) => r.data[2]?.[0])).toEqual([0, 1, 2, 3, 4, 5]);
    const popped = pops(t);
    expect(popped.map((e) => hdr(e).flags & FAIL_NEXT)).toEqual(new Array(6).fill([FAIL_NEXT, FAIL_NEXT, 0]).flat());
    expect(popped.filter((_, i) => i % 3 === 0).map((e) => e.request[8])).toEqual([0x60, 0x61, 0x62, 0x63, 0x64, 0x65]);
  });
});

describe('I2C driver against a scripted device', () => {
  it('[i2c.drv.5] never uses buf of a read the device failed', async () => {
    const t = scripted(0xab);
    t.device.statuses.push(VIRTIO_I2C_MSG_ERR);
    const p = t.driver.transfer([{ addr: 0x50, read: 4 }]);
    await settle();
    expect(await p).toEqual({ completed: 0, data: [undefined] });
    const ok = t.driver.read(0x50, 4);
    await settle();
    expect([...(await ok)]).toEqual([0xab, 0xab, 0xab, 0xab]);
    t.device.statuses.push(VIRTIO_I2C_MSG_ERR);
    const [failed] = await Promise.allSettled([t.driver.read(0x50, 4), settle()]);
    expect(failed.status === 'rejected' && failed.reason).toBeInstanceOf(I2cDriverError);
  });

  it('[i2c.drv.9] treats the first failed request and the rest of its group as failed, whatever their status', async () => {
    const t = scripted(0x5a);
    t.device.statuses.push(VIRTIO_I2C_MSG_OK, VIRTIO_I2C_MSG_ERR, VIRTIO_I2C_MSG_OK, VIRTIO_I2C_MSG_OK);
    const p = t.driver.transfer([
      { addr: 0x50, read: 1 },
      { addr: 0x50, read: 1 },
      { addr: 0x50, read: 1 },
      { addr: 0x50, write: Uint8Array.of(1) },
    ]);
    await settle();
    const r = await p;
    expect(r.completed).toBe(1);
    expect(r.data).toEqual([Uint8Array.of(0x5a), undefined, undefined, undefined]);
  });
});
