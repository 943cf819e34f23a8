import { describe, expect, it } from 'vitest';
import type { DriverQueue, GuestAllocator } from '@virtio/ring';
import { createDriverQueue } from '@virtio/ring';
import {
  featureMask,
  initializeDevice,
  ringFeatures,
  type DriverDevice,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_RING_PACKED,
} from '@virtio/core';
import { ECHO_DEVICE_ID } from '@virtio/core/testing';
import { MmioReg, MmioTransport, legacyQueueAddresses, probeMmio, type MmioDriverTransport } from '@virtio/mmio';
import { RegisterSpy, mmio, type Access } from './harness.js';

function driverFor(regs: ConstructorParameters<typeof RegisterSpy>[0]): MmioDriverTransport {
  const probe = probeMmio(regs);
  if (!probe.ok) throw new Error(probe.reason);
  expect(probe.deviceId).toBe(ECHO_DEVICE_ID);
  return probe.transport;
}

function echo(dev: DriverDevice, t: ReturnType<typeof mmio>, bytes: number[], index = 0): number[] {
  const q = dev.queues[index] as DriverQueue<number>;
  t.memory.write(0x1000, Uint8Array.from(bytes));
  expect(q.add([{ addr: 0x1000, len: bytes.length }], [{ addr: 0x2000, len: bytes.length }], 1)).toBe(true);
  dev.kick(index);
  expect(t.line.at(-1)).toBe(true);
  expect(dev.handleInterrupt().usedBuffer).toBe(true);
  expect(t.line.at(-1)).toBe(false);
  expect(t.transport.interruptStatus).toBe(0);
  const used = q.reap();
  expect(used?.len).toBe(bytes.length);
  const out = new Uint8Array(bytes.length);
  t.memory.read(0x2000, out);
  return [...out];
}

const WRITE_ONLY = new Set<number>([
  MmioReg.DeviceFeaturesSel, MmioReg.DriverFeatures, MmioReg.DriverFeaturesSel, MmioReg.QueueSel, MmioReg.QueueSize,
  MmioReg.QueueNotify, MmioReg.InterruptACK, MmioReg.QueueDescLow, MmioReg.QueueDescHigh, MmioReg.QueueDriverLow,
  MmioReg.QueueDriverHigh, MmioReg.QueueDeviceLow, MmioReg.QueueDeviceHigh, MmioReg.SHMSel,
]);
const READ_ONLY = new Set<number>([
  MmioReg.MagicValue, MmioReg.Version, MmioReg.DeviceID, MmioReg.VendorID, MmioReg.DeviceFeatures, MmioReg.QueueSizeMax,
  MmioReg.InterruptStatus, MmioReg.SHMLenLow, MmioReg.SHMLenHigh, MmioReg.SHMBaseLow, MmioReg.SHMBaseHigh, MmioReg.ConfigGeneration,
]);
const READ_WRITE = new Set<number>([MmioReg.QueueReady, MmioReg.Status, MmioReg.QueueReset]);

function checkAccesses(log: readonly Access[], configSize: number): void {
  for (const a of log) {
    if (a.offset >= MmioReg.Config) {
      expect(a.offset + a.width).toBeLessThanOrEqual(MmioReg.Config + configSize);
      expect(a.offset % a.width).toBe(0);
      continue;
    }
    expect(a.width).toBe(4);
    expect(a.offset % 4).toBe(0);
    const known = WRITE_ONLY.has(a.offset) || READ_ONLY.has(a.offset) || READ_WRITE.has(a.offset);
    expect(known, `offset 0x${a.offset.toString(16)}`).toBe(true);
    if (a.op === 'r') expect(WRITE_ONLY.has(a.offset), `read of W 0x${a.offset.toString(16)}`).toBe(false);
    else expect(READ_ONLY.has(a.offset), `write of R 0x${a.offset.toString(16)}`).toBe(false);
  }
}

describe('our MMIO driver drives our MMIO device', () => {
  it('[mmio.drv.16] initializes the echo device through the registers and echoes data, interrupting via InterruptStatus', () => {
    const t = mmio();
    const dev = initializeDevice(driverFor(t.transport), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    expect(t.state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(echo(dev, t, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(echo(dev, t, [9, 8])).toEqual([9, 8]);
    expect(t.state.counters).toMatchObject({ badAccesses: 0, ignoredWrites: 0 });
  });

  it('negotiates EVENT_IDX and INDIRECT_DESC, two queues, and reads config space generation-consistently', () => {
    const f = featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC);
    const t = mmio({ features: f, queues: 2 });
    const dev = initializeDevice(driverFor(t.transport), {
      memory: t.memory,
      allocator: t.allocator,
      wantedFeatures: f,
      queues: [{ index: 0 }, { index: 1, size: 64 }],
    });
    expect(dev.features & f).toBe(f);
    for (let i = 0; i < 20; i++) expect(echo(dev, t, [i], i % 2)).toEqual([i]);
    expect(dev.readConfig((c) => c.u32(0))).toBe(20);
  });

  it('negotiates VIRTIO_F_RING_PACKED and echoes through packed rings, including a size that is not a power of two', () => {
    const f = featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC);
    const t = mmio({ features: f, queues: 2 });
    const dev = initializeDevice(driverFor(t.transport), {
      memory: t.memory,
      allocator: t.allocator,
      wantedFeatures: f,
      queues: [{ index: 0, size: 6 }, { index: 1 }],
    });
    expect(dev.features & f).toBe(f);
    expect(dev.queues[0]!.config).toMatchObject({ packed: true, size: 6 });
    expect(t.state.queue(0)!.size).toBe(6);
    for (let i = 0; i < 30; i++) expect(echo(dev, t, [i, 255 - i], i % 2)).toEqual([i, 255 - i]);
  });

  it('[mmio.drv.1] [mmio.drv.2] [mmio.drv.15] the driver only makes 32-bit aligned accesses to table registers in their direction, and never touches SHM', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    const dev = initializeDevice(driverFor(spy), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    echo(dev, t, [5]);
    dev.readConfig((c) => c.u64(0));
    checkAccesses(spy.log, t.device.configSize);
    const shm = [MmioReg.SHMSel, MmioReg.SHMLenLow, MmioReg.SHMLenHigh, MmioReg.SHMBaseLow, MmioReg.SHMBaseHigh];
    expect(spy.log.some((a) => (shm as number[]).includes(a.offset))).toBe(false);
  });

  it('[basic.drv.10] reads a configuration space larger than the driver knows about, past 0x100 bytes', () => {
    const t = mmio();
    Object.defineProperty(t.device, 'configSize', { value: 0x300 });
    t.device.readConfig = (offset) => offset;
    const big = new MmioTransport(t.device, { memory: t.memory });
    expect(big.regionSize).toBe(0x400);
    const dev = initializeDevice(driverFor(big), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [] });
    expect(dev.readConfig((c) => [c.u32(0x2fc), c.u8(0x200)])).toEqual([0x2fc, 0x200]);
  });

  it('[mmio.drv.14] starts by reading MagicValue, Version, then DeviceID', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    initializeDevice(driverFor(spy), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [] });
    expect(spy.log.slice(0, 3).map((a) => [a.op, a.offset])).toEqual([
      ['r', MmioReg.MagicValue],
      ['r', MmioReg.Version],
      ['r', MmioReg.DeviceID],
    ]);
  });

  it('[mmio.drv.6] [mmio.drv.7] selects the feature word before each DeviceFeatures read and DriverFeatures write', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    initializeDevice(driverFor(spy), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [] });
    spy.log.forEach((a, i) => {
      if (a.offset === MmioReg.DeviceFeatures) expect(spy.log[i - 1].offset).toBe(MmioReg.DeviceFeaturesSel);
      if (a.offset === MmioReg.DriverFeatures) expect(spy.log[i - 1].offset).toBe(MmioReg.DriverFeaturesSel);
    });
    expect(spy.log.filter((a) => a.offset === MmioReg.DeviceFeatures).length).toBe(4);
  });

  it('[mmio.drv.8] writes a QueueSize no larger than QueueSizeMax, and refuses a larger configuration', () => {
    const t = mmio({ queueMaxSize: 16 });
    const spy = new RegisterSpy(t.transport);
    const driver = driverFor(spy);
    initializeDevice(driver, { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0, size: 1024 }] });
    const sizes = spy.log.filter((a) => a.op === 'w' && a.offset === MmioReg.QueueSize).map((a) => a.value);
    expect(sizes).toEqual([16]);
    const before = spy.log.length;
    const big = createDriverQueue(t.memory, t.allocator, { size: 32, packed: false, features: ringFeatures(0n) });
    driver.setupQueue(1, big.config);
    expect(spy.log.slice(before).some((a) => a.op === 'w' && a.offset === MmioReg.QueueSize)).toBe(false);
  });

  it('[mmio.drv.9] does not touch QueueSize or the queue addresses of a ready queue', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    const driver = driverFor(spy);
    const dev = initializeDevice(driver, { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    const before = spy.log.length;
    driver.setupQueue(0, dev.queues[0]!.config);
    const writes = spy.log.slice(before).filter((a) => a.op === 'w').map((a) => a.offset);
    expect(writes).toEqual([MmioReg.QueueSel]);
  });

  it('[mmio.drv.10] stops a queue by writing 0 to QueueReady and reading it back; the device then leaves it alone', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    const driver = driverFor(spy);
    const dev = initializeDevice(driver, { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    expect(driver.disableQueue(0)).toBe(true);
    const tail = spy.log.slice(-3).map((a) => [a.op, a.offset, a.value]);
    expect(tail).toEqual([['w', MmioReg.QueueSel, 0], ['w', MmioReg.QueueReady, 0], ['r', MmioReg.QueueReady, 0]]);
    dev.queues[0]!.add([{ addr: 0x1000, len: 1 }], [{ addr: 0x2000, len: 1 }], 'x');
    dev.kick(0);
    expect(t.device.readConfig(0, 4)).toBe(0);
  });

  it('[mmio.drv.17] after an interrupt reads InterruptStatus, then acknowledges what it handled', () => {
    const t = mmio();
    const spy = new RegisterSpy(t.transport);
    const dev = initializeDevice(driverFor(spy), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    t.device.host!.configChanged();
    const before = spy.log.length;
    expect(dev.handleInterrupt()).toEqual({ usedBuffer: false, configChange: true, needsReset: false });
    const seq = spy.log.slice(before).map((a) => [a.op, a.offset, a.value]);
    expect(seq[0]).toEqual(['r', MmioReg.InterruptStatus, 2]);
    expect(seq[1]).toEqual(['w', MmioReg.InterruptACK, 2]);
  });

  it('[mmio.drv.13] resets a queue through QueueReset and re-enables it', () => {
    const rr = featureMask(VIRTIO_F_RING_RESET);
    const t = mmio({ features: rr });
    const dev = initializeDevice(driverFor(t.transport), { memory: t.memory, allocator: t.allocator, wantedFeatures: rr, queues: [{ index: 0 }] });
    echo(dev, t, [1]);
    dev.resetQueue(0);
    dev.reenableQueue(0, { memory: t.memory, allocator: t.allocator, size: 4 });
    expect(t.state.queue(0)!.size).toBe(4);
    expect(echo(dev, t, [2, 3])).toEqual([2, 3]);
  });

  it('recovers from DEVICE_NEEDS_RESET seen through a configuration change interrupt', () => {
    const t = mmio();
    const dev = initializeDevice(driverFor(t.transport), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    // A descriptor index out of range: the device marks DEVICE_NEEDS_RESET.
    const q = dev.queues[0]!;
    t.memory.writeU16(q.config.descTable + 14, 1); // VIRTQ_DESC_F_NEXT on descriptor 0 ...
    t.memory.writeU16(q.config.descTable, 0);
    t.memory.writeU16(q.config.driverArea + 4, 0); // ring[0] = 0
    t.memory.writeU16(q.config.descTable + 12, 1);
    t.memory.writeU16(q.config.descTable + 14, 0xffff); // ... whose next is out of range
    t.memory.writeU16(q.config.driverArea + 2, 1); // avail idx = 1
    t.transport.write(MmioReg.QueueNotify, 4, 0);
    expect(dev.handleInterrupt().needsReset).toBe(true);
    dev.reset();
    expect(t.line.at(-1)).toBe(false);
    const again = initializeDevice(driverFor(t.transport), { memory: t.memory, allocator: t.allocator, wantedFeatures: 0n, queues: [{ index: 0 }] });
    expect(echo(again, t, [4])).toEqual([4]);
  });
});

describe('legacy interface (version 1)', () => {
  it('places a queue from GuestPageSize, QueueAlign and QueuePFN and echoes through it', () => {
    const t = mmio({}, { version: 1 });
    const tr = t.transport;
    expect(tr.read(MmioReg.Version, 4)).toBe(1);
    tr.write(MmioReg.Status, 4, ACK);
    tr.write(MmioReg.Status, 4, ACK | DRIVER);
    tr.write(MmioReg.GuestPageSize, 4, 4096);
    tr.write(MmioReg.QueueSel, 4, 0);
    expect(tr.read(MmioReg.QueuePFN, 4)).toBe(0);
    tr.write(MmioReg.QueueSize, 4, 8);
    tr.write(MmioReg.QueueAlign, 4, 4096);
    const pfn = 0x30;
    const addrs = legacyQueueAddresses(pfn, 4096, 8, 4096)!;
    const order = [addrs.desc, addrs.driver, addrs.device];
    const scripted: GuestAllocator = { alloc: () => order.shift()!, free() {} };
    const q = createDriverQueue<number>(t.memory, scripted, { size: 8, packed: false, features: ringFeatures(0n) });
    expect(q.config).toMatchObject({ descTable: addrs.desc, driverArea: addrs.driver, deviceArea: addrs.device });
    tr.write(MmioReg.QueuePFN, 4, pfn);
    expect(tr.read(MmioReg.QueuePFN, 4)).toBe(pfn);
    tr.write(MmioReg.Status, 4, ACK | DRIVER | DRIVER_OK);
    expect(tr.read(MmioReg.Status, 4)).toBe(ACK | DRIVER | DRIVER_OK);
    t.memory.write(0x1000, Uint8Array.of(6, 7));
    q.add([{ addr: 0x1000, len: 2 }], [{ addr: 0x2000, len: 2 }], 1);
    if (q.kick()) tr.write(MmioReg.QueueNotify, 4, 0);
    expect(q.reap()).toEqual({ token: 1, len: 2 });
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(1);
    tr.write(MmioReg.QueuePFN, 4, 0);
    expect(tr.read(MmioReg.QueuePFN, 4)).toBe(0);
  });

  it('has no QueueReady, ConfigGeneration or SHM registers', () => {
    const t = mmio({}, { version: 1 });
    for (const off of [MmioReg.QueueReady, MmioReg.ConfigGeneration, MmioReg.SHMLenLow, MmioReg.QueueReset]) {
      expect(t.transport.read(off, 4)).toBe(0);
    }
    expect(t.state.counters.badAccesses).toBe(4);
  });

  it('a version 2 device has no legacy registers', () => {
    const t = mmio();
    t.transport.write(MmioReg.GuestPageSize, 4, 4096);
    t.transport.write(MmioReg.QueuePFN, 4, 1);
    expect(t.transport.read(MmioReg.QueuePFN, 4)).toBe(0);
    expect(t.state.counters.badAccesses).toBe(3);
  });
});

describe('MmioTransport basics', () => {
  it('exposes the QueueNotify offset for an ioeventfd and a region covering registers and config', () => {
    expect(MmioTransport.NOTIFY_OFFSET).toBe(0x50);
    expect(mmio().transport.regionSize).toBe(0x200);
  });
});
