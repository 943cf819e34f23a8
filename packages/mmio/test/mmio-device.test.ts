import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  featureMask,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_NOTIFICATION_DATA,
  type VirtioDevice,
} from '@virtio/core';
import { EchoDevice } from '@virtio/core/testing';
import { FlatGuestMemory } from '@virtio/ring';
import { MmioDriverTransport, MmioReg, MmioTransport, probeMmio, type MmioRegisters } from '@virtio/mmio';
import { mmio } from './harness.js';

const LIVE = ACK | DRIVER | FEATURES_OK | DRIVER_OK;

/** Drives the registers by hand up to FEATURES_OK with `features` (low and high words). */
function negotiate(tr: MmioTransport, features: bigint): void {
  tr.write(MmioReg.Status, 4, 0);
  tr.write(MmioReg.Status, 4, ACK);
  tr.write(MmioReg.Status, 4, ACK | DRIVER);
  for (let sel = 0; sel < 2; sel++) {
    tr.write(MmioReg.DriverFeaturesSel, 4, sel);
    tr.write(MmioReg.DriverFeatures, 4, Number((features >> BigInt(32 * sel)) & 0xffffffffn));
  }
  tr.write(MmioReg.Status, 4, ACK | DRIVER | FEATURES_OK);
}

/** Configures queue `index` at fixed addresses and sets QueueReady. */
function readyQueue(tr: MmioTransport, index: number, size = 8): void {
  const base = 0x10000 + index * 0x1000;
  tr.write(MmioReg.QueueSel, 4, index);
  tr.write(MmioReg.QueueSize, 4, size);
  tr.write(MmioReg.QueueDescLow, 4, base);
  tr.write(MmioReg.QueueDescHigh, 4, 0);
  tr.write(MmioReg.QueueDriverLow, 4, base + 0x200);
  tr.write(MmioReg.QueueDriverHigh, 4, 0);
  tr.write(MmioReg.QueueDeviceLow, 4, base + 0x400);
  tr.write(MmioReg.QueueDeviceHigh, 4, 0);
  tr.write(MmioReg.QueueReady, 4, 1);
}

const V1 = 1n << 32n;

describe('MMIO device registers', () => {
  it('[mmio.dev.1] returns 0x74726976 in MagicValue', () => {
    expect(mmio().transport.read(MmioReg.MagicValue, 4)).toBe(0x74726976);
  });

  it('[mmio.dev.2] returns 2 in Version', () => {
    expect(mmio().transport.read(MmioReg.Version, 4)).toBe(2);
  });

  it('presents DeviceID, VendorID, feature words and QueueSizeMax', () => {
    const t = mmio({ features: featureMask(3), queueMaxSize: 64 }, { vendorId: 0x1234 });
    const tr = t.transport;
    expect(tr.read(MmioReg.DeviceID, 4)).toBe(t.device.deviceId);
    expect(tr.read(MmioReg.VendorID, 4)).toBe(0x1234);
    tr.write(MmioReg.DeviceFeaturesSel, 4, 0);
    expect(tr.read(MmioReg.DeviceFeatures, 4)).toBe(8);
    tr.write(MmioReg.DeviceFeaturesSel, 4, 1);
    expect(tr.read(MmioReg.DeviceFeatures, 4)).toBe(1);
    tr.write(MmioReg.DeviceFeaturesSel, 4, 0xffffffff);
    expect(tr.read(MmioReg.DeviceFeatures, 4)).toBe(0);
    tr.write(MmioReg.QueueSel, 4, 0);
    expect(tr.read(MmioReg.QueueSizeMax, 4)).toBe(64);
    tr.write(MmioReg.QueueSel, 4, 1);
    expect(tr.read(MmioReg.QueueSizeMax, 4)).toBe(0);
  });

  it('[mmio.dev.3] keeps each event bit in InterruptStatus until acknowledged; other bits stay zero', () => {
    const t = mmio({ hold: true });
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(0);
    t.device.host!.configChanged();
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(2);
    t.device.ctx!.interrupt.usedBuffer(0);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(3);
    expect(t.line).toEqual([true]);
    tr.write(MmioReg.InterruptACK, 4, 1);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(2);
    expect(t.line).toEqual([true]);
    tr.write(MmioReg.InterruptACK, 4, 0xfffffffe);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(0);
    expect(t.line).toEqual([true, false]);
  });

  it('[mmio.dev.4] on reset clears InterruptStatus and every QueueReady', () => {
    const t = mmio({ queues: 2 });
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0);
    readyQueue(tr, 1);
    tr.write(MmioReg.Status, 4, LIVE);
    t.device.host!.configChanged();
    tr.write(MmioReg.Status, 4, 0);
    expect(tr.read(MmioReg.Status, 4)).toBe(0);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(0);
    expect(t.line.at(-1)).toBe(false);
    for (const i of [0, 1]) {
      tr.write(MmioReg.QueueSel, 4, i);
      expect(tr.read(MmioReg.QueueReady, 4)).toBe(0);
    }
  });

  it('a platform reset behaves like Status = 0: status, InterruptStatus and the line all clear', () => {
    const t = mmio();
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    t.device.host!.configChanged();
    tr.reset();
    expect(tr.read(MmioReg.Status, 4)).toBe(0);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(0);
    expect(t.line).toEqual([true, false]);
    expect(t.device.resets).toBe(2);
  });

  it('[mmio.dev.5] changes ConfigGeneration when the configuration changes', () => {
    const t = mmio();
    const g = t.transport.read(MmioReg.ConfigGeneration, 4);
    t.device.host!.configChanged();
    expect(t.transport.read(MmioReg.ConfigGeneration, 4)).not.toBe(g);
  });

  it('[mmio.dev.6] does not access a virtqueue whose QueueReady is zero', () => {
    const t = mmio();
    const tr = t.transport;
    negotiate(tr, V1);
    tr.write(MmioReg.QueueSel, 4, 0);
    tr.write(MmioReg.QueueSize, 4, 8);
    tr.write(MmioReg.QueueDescLow, 4, 0x10000);
    tr.write(MmioReg.QueueDriverLow, 4, 0x10200);
    tr.write(MmioReg.QueueDeviceLow, 4, 0x10400);
    tr.write(MmioReg.Status, 4, LIVE);
    // Ring contents that would be processed if the queue were used: one chain available.
    t.memory.writeU16(0x10200 + 2, 1);
    t.memory.writeU32(0x10000 + 8, 4);
    tr.write(MmioReg.QueueNotify, 4, 0);
    expect(t.memory.readU16(0x10400 + 2)).toBe(0);
    expect(t.device.ctx!.queues[0]).toBeUndefined();
    // Once ready, the device takes the chain; after QueueReady = 0 it takes nothing more.
    readyQueue(tr, 0);
    expect(t.memory.readU16(0x10400 + 2)).toBe(1);
    tr.write(MmioReg.QueueReady, 4, 0);
    t.memory.writeU16(0x10200 + 6, 0);
    t.memory.writeU16(0x10200 + 2, 2);
    tr.write(MmioReg.QueueNotify, 4, 0);
    expect(t.memory.readU16(0x10400 + 2)).toBe(1);
  });

  it('[mmio.dev.7] presents 0 in QueueReset after a device reset', () => {
    const t = mmio({ features: featureMask(VIRTIO_F_RING_RESET) });
    const tr = t.transport;
    negotiate(tr, V1 | featureMask(VIRTIO_F_RING_RESET));
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    tr.write(MmioReg.QueueReset, 4, 1);
    tr.write(MmioReg.Status, 4, 0);
    tr.write(MmioReg.QueueSel, 4, 0);
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(0);
  });

  it('[mmio.dev.8] presents 0 in QueueReset after the queue is enabled with QueueReady', () => {
    const t = mmio({ features: featureMask(VIRTIO_F_RING_RESET) });
    const tr = t.transport;
    negotiate(tr, V1 | featureMask(VIRTIO_F_RING_RESET));
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    tr.write(MmioReg.QueueReset, 4, 1);
    readyQueue(tr, 0);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(1);
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(0);
  });

  it('[mmio.dev.9] resets the queue on QueueReset = 1, then presents 0 in QueueReset and QueueReady', () => {
    const t = mmio({ features: featureMask(VIRTIO_F_RING_RESET), hold: true });
    const tr = t.transport;
    negotiate(tr, V1 | featureMask(VIRTIO_F_RING_RESET));
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    const old = t.device.ctx!.queues[0]!;
    tr.write(MmioReg.QueueSel, 4, 0);
    tr.write(MmioReg.QueueReset, 4, 1);
    expect(tr.read(MmioReg.QueueReset, 4)).toBe(0);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(0);
    expect(t.state.queue(0)!.descTable).toBe(0);
    t.memory.writeU16(0x10200 + 2, 1);
    expect(old.pop()).toBeNull();
  });

  it('ignores QueueReset when VIRTIO_F_RING_RESET was not negotiated', () => {
    const t = mmio({ features: featureMask(VIRTIO_F_RING_RESET) });
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0);
    tr.write(MmioReg.Status, 4, LIVE);
    tr.write(MmioReg.QueueReset, 4, 1);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(1);
  });

  it('decodes QueueNotify as notification data when VIRTIO_F_NOTIFICATION_DATA was negotiated', () => {
    const nd = featureMask(VIRTIO_F_NOTIFICATION_DATA);
    const t = mmio({ features: nd, queues: 2 });
    const tr = t.transport;
    negotiate(tr, V1 | nd);
    readyQueue(tr, 1);
    tr.write(MmioReg.Status, 4, LIVE);
    tr.write(MmioReg.QueueNotify, 4, 0x8003_0001);
    expect(t.device.notifications).toEqual([{ queue: 1, data: 0x8003_0001 }]);
  });

  it('exposes shared memory regions; a non-existent one reads length -1 and base all ones', () => {
    const memory = new FlatGuestMemory(new Uint8Array(0x1000));
    const device = new EchoDevice();
    Object.defineProperty(device, 'sharedMemoryRegions', { value: [{ id: 1, size: 0x2_0000_1000 }] });
    const tr = new MmioTransport(device as VirtioDevice, { memory, sharedMemoryBase: (id) => (id === 1 ? 0x40_0000_0000 : undefined) });
    const probe = probeMmio(tr);
    expect(probe.ok).toBe(true);
    if (!probe.ok) return;
    expect(probe.transport.sharedMemory(1)).toEqual({ base: 0x40_0000_0000, size: 0x2_0000_1000 });
    expect(probe.transport.sharedMemory(0)).toBeUndefined();
    tr.write(MmioReg.SHMSel, 4, 7);
    expect([MmioReg.SHMLenLow, MmioReg.SHMLenHigh, MmioReg.SHMBaseLow, MmioReg.SHMBaseHigh].map((o) => tr.read(o, 4))).toEqual([
      0xffffffff, 0xffffffff, 0xffffffff, 0xffffffff,
    ]);
  });

  it('reads and writes the configuration space at 0x100 with 8, 16 and 32-bit accesses', () => {
    const tr = mmio().transport;
    tr.write(0x104, 4, 0x11223344);
    expect(tr.read(0x104, 4)).toBe(0x11223344);
    expect(tr.read(0x106, 2)).toBe(0x1122);
    expect(tr.read(0x107, 1)).toBe(0x11);
    tr.write(0x105, 1, 0xaa);
    expect(tr.read(0x104, 4)).toBe(0x1122aa44);
  });
});

describe('MMIO driver-side probing', () => {
  const fake = (values: Record<number, number>): MmioRegisters & { reads: number[] } => {
    const reads: number[] = [];
    return {
      reads,
      read: (o) => {
        reads.push(o);
        return values[o] ?? 0;
      },
      write: () => {},
    };
  };

  it('[mmio.drv.3] ignores a device whose MagicValue is wrong', () => {
    expect(probeMmio(fake({ [MmioReg.MagicValue]: 0x12345678, [MmioReg.Version]: 2, [MmioReg.DeviceID]: 1 }))).toEqual({ ok: false, reason: 'bad-magic' });
  });

  it('[mmio.drv.4] ignores a device whose Version is not 2', () => {
    expect(probeMmio(fake({ [MmioReg.MagicValue]: 0x74726976, [MmioReg.Version]: 1, [MmioReg.DeviceID]: 1 }))).toEqual({ ok: false, reason: 'bad-version' });
  });

  it('[mmio.drv.5] [mmio.drv.14] ignores DeviceID 0 without an error and touches no other register', () => {
    const regs = fake({ [MmioReg.MagicValue]: 0x74726976, [MmioReg.Version]: 2, [MmioReg.DeviceID]: 0 });
    expect(probeMmio(regs)).toEqual({ ok: false, reason: 'no-device' });
    expect(regs.reads).toEqual([MmioReg.MagicValue, MmioReg.Version, MmioReg.DeviceID]);
  });

  it('[mmio.drv.11] [mmio.drv.12] ignores undefined InterruptStatus bits and never acknowledges them', () => {
    const writes: [number, number][] = [];
    const regs: MmioRegisters = {
      read: (o) => (o === MmioReg.InterruptStatus ? 0xfffffff5 : o === MmioReg.MagicValue ? 0x74726976 : o === MmioReg.Version ? 2 : 1),
      write: (o, _w, v) => void writes.push([o, v]),
    };
    const probe = probeMmio(regs);
    if (!probe.ok) throw new Error('probe');
    expect(probe.transport.takeInterrupt()).toEqual({ usedBuffer: true, configChange: false });
    expect(writes).toEqual([[MmioReg.InterruptACK, 1]]);
  });

  it('[mmio.drv.13] does not consider a queue reset complete until QueueReset reads 0', () => {
    let pending = 3;
    const regs: MmioRegisters = {
      read: (o) => (o === MmioReg.QueueReset ? (pending-- > 0 ? 1 : 0) : 0),
      write: () => {},
    };
    expect(new MmioDriverTransport(regs).resetQueue(0)).toBe(true);
    expect(pending).toBe(-1);
    const stuck: MmioRegisters = { read: (o) => (o === MmioReg.QueueReset ? 1 : 0), write: () => {} };
    expect(new MmioDriverTransport(stuck).resetQueue(0)).toBe(false);
  });
});

describe('adversarial register sequences', () => {
  it('counts, never throws on, wrong widths, unaligned offsets, undefined registers and writes to read-only ones', () => {
    const t = mmio();
    const tr = t.transport;
    expect(tr.read(MmioReg.MagicValue, 2)).toBe(0);
    expect(tr.read(MmioReg.MagicValue + 1, 4)).toBe(0);
    expect(tr.read(0x018, 4)).toBe(0);
    expect(tr.read(MmioReg.QueueNotify, 4)).toBe(0);
    tr.write(MmioReg.MagicValue, 4, 1);
    tr.write(MmioReg.Status, 1, ACK);
    tr.write(0x0f0, 4, 1);
    expect(tr.read(0x100, 8)).toBe(0);
    expect(tr.read(0x1000, 4)).toBe(0);
    expect(tr.read(-4, 4)).toBe(0);
    expect(tr.read(MmioReg.Status, 4)).toBe(0);
    expect(t.state.counters.badAccesses).toBe(10);
  });

  it('ignores queue writes for a non-existent QueueSel and reads it as unavailable', () => {
    const t = mmio();
    const tr = t.transport;
    tr.write(MmioReg.QueueSel, 4, 0xffff);
    tr.write(MmioReg.QueueSize, 4, 8);
    tr.write(MmioReg.QueueDescLow, 4, 0x1000);
    tr.write(MmioReg.QueueReady, 4, 1);
    expect(tr.read(MmioReg.QueueSizeMax, 4)).toBe(0);
    expect(tr.read(MmioReg.QueueReady, 4)).toBe(0);
    expect(t.state.counters.ignoredWrites).toBe(3);
  });

  it('sets DEVICE_NEEDS_RESET at DRIVER_OK for a split queue size that is not a power of two', () => {
    const t = mmio();
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0, 6);
    tr.write(MmioReg.Status, 4, LIVE);
    expect(tr.read(MmioReg.Status, 4)).toBe(LIVE | NEEDS_RESET);
    expect(tr.read(MmioReg.InterruptStatus, 4)).toBe(2);
  });

  it('sets DEVICE_NEEDS_RESET for rings outside guest memory', () => {
    const t = mmio();
    const tr = t.transport;
    negotiate(tr, V1);
    readyQueue(tr, 0);
    tr.write(MmioReg.QueueSel, 4, 0);
    tr.write(MmioReg.QueueReady, 4, 0);
    tr.write(MmioReg.QueueDeviceHigh, 4, 0x10);
    tr.write(MmioReg.QueueReady, 4, 1);
    tr.write(MmioReg.Status, 4, LIVE);
    expect(tr.read(MmioReg.Status, 4) & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('survives any random register sequence: no throw, no access outside guest memory', () => {
    const offsets = [...Object.values(MmioReg), 0x101, 0x104, 0x108, 0x1fc, 0x0f0, 3];
    const access = fc.record({
      write: fc.boolean(),
      offset: fc.oneof(fc.constantFrom(...offsets), fc.integer({ min: -8, max: 0x300 })),
      width: fc.constantFrom(1, 2, 4, 8),
      value: fc.oneof(fc.constantFrom(0, 1, 2, 3, 4, 8, 11, 15, 0x40, 0x80, 0xff, 0x10000, 0xffffffff), fc.nat()),
    });
    fc.assert(
      fc.property(fc.array(access, { maxLength: 200 }), fc.boolean(), (seq, legacy) => {
        const t = mmio({ queues: 2, features: featureMask(VIRTIO_F_RING_RESET) }, { version: legacy ? 1 : 2 });
        for (const a of seq) {
          if (a.write) t.transport.write(a.offset, a.width, a.value);
          else expect(Number.isInteger(t.transport.read(a.offset, a.width))).toBe(true);
        }
      }),
      { numRuns: 300 },
    );
  });
});
