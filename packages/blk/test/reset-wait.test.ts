// Resets with a slow backend read in flight: the device reports the reset complete only once
// the read finished, so nothing lands in guest memory after the driver saw it complete.
import { describe, expect, it } from 'vitest';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { featureMask, VIRTIO_F_RING_RESET, type DriverTransport } from '@virtio/core';
import { MmioReg, MmioTransport, probeMmio } from '@virtio/mmio';
import { COMMON_CFG, PciDriverTransport, PciTransport } from '@virtio/pci';
import { BLK_DRIVER_FEATURES, BlkDevice, BlkDriver, MemoryBackend } from '../src/index.js';
import { GatedBackend, settle } from './gated-backend.js';
import { DATA_BASE, MEM_SIZE, RING_BASE, pattern, seg } from './harness.js';

const S = 512;
const FILL = 0xaa;

/** A BlkDriver over MMIO or PCI registers; the backend's reads finish when the test releases them. */
function slowRig(kind: 'mmio' | 'pci') {
  const memory = new FlatGuestMemory(new Uint8Array(MEM_SIZE));
  const gated = new GatedBackend(new MemoryBackend({ data: pattern(1 << 20, 9) }));
  const device = new BlkDevice({ backend: gated });
  let transport: DriverTransport;
  let readReg: (reg: 'status' | 'queue_reset') => number;
  let selectQueue: (index: number) => void;
  if (kind === 'mmio') {
    const mmio = new MmioTransport(device, { memory });
    const probe = probeMmio(mmio);
    if (!probe.ok) throw new Error(probe.reason);
    transport = probe.transport;
    readReg = (reg) => mmio.read(reg === 'status' ? MmioReg.Status : MmioReg.QueueReset, 4);
    selectQueue = (index) => mmio.write(MmioReg.QueueSel, 4, index);
  } else {
    const pci = new PciTransport(device, { memory, interrupt: { msi() {}, intx() {} } });
    const driverSide = new PciDriverTransport(pci);
    transport = driverSide;
    const common = driverSide.caps.common;
    const at = (field: number) => common.offset + field;
    readReg = (reg) =>
      reg === 'status'
        ? pci.barRead(common.bar, at(COMMON_CFG.device_status), 1)
        : pci.barRead(common.bar, at(COMMON_CFG.queue_reset), 2);
    selectQueue = (index) => pci.barWrite(common.bar, at(COMMON_CFG.queue_select), 2, index);
  }
  const driver = new BlkDriver(transport, {
    memory,
    allocator: new BumpAllocator(RING_BASE, MEM_SIZE - RING_BASE),
    wantedFeatures: BLK_DRIVER_FEATURES | featureMask(VIRTIO_F_RING_RESET),
  });
  memory.write(DATA_BASE, new Uint8Array(S).fill(FILL));
  return { memory, gated, device, driver, transport, readReg, selectQueue };
}

const bytes = (memory: FlatGuestMemory, addr: number, len: number) => {
  const b = new Uint8Array(len);
  memory.read(addr, b);
  return b;
};

describe.each(['mmio', 'pci'] as const)('device reset with a slow backend read in flight (%s)', (kind) => {
  it('[basic.dev.7] [pci.dev.13] [basic.drv.7] once the driver reads status 0, the read never touches the guest buffer again', async () => {
    const t = slowRig(kind);
    const read = t.driver.read(0, seg(DATA_BASE, S)).catch((err: Error) => err);
    await settle();
    expect(t.gated.pending.length).toBe(1);
    let seenAtZero: Uint8Array | undefined;
    const reset = t.driver.reset().then(() => {
      expect(t.readReg('status')).toBe(0);
      seenAtZero = bytes(t.memory, DATA_BASE, S);
    });
    await settle(20);
    // The read is still in flight: the device has not finished resetting.
    expect(t.readReg('status')).not.toBe(0);
    expect(seenAtZero).toBeUndefined();
    await t.gated.pending[0].release(); // the backend writes into the guest buffer, then resolves
    await reset;
    await settle(20);
    expect(bytes(t.memory, DATA_BASE, S)).toEqual(seenAtZero);
    expect(seenAtZero).toEqual(pattern(1 << 20, 9).subarray(0, S));
    expect(await read).toBeInstanceOf(Error);
  });

  it('a reset with nothing in flight completes at once', async () => {
    const t = slowRig(kind);
    const reset = t.driver.reset();
    expect(t.readReg('status')).toBe(0);
    await reset;
  });
});

describe.each(['mmio', 'pci'] as const)('queue reset with a slow backend read in flight (%s)', (kind) => {
  it('[pci.dev.17] [mmio.dev.9] the queue reset reads ongoing until the read finished; afterwards the buffer stays as it was', async () => {
    const t = slowRig(kind);
    void t.driver.read(0, seg(DATA_BASE, S));
    await settle();
    expect(t.gated.pending.length).toBe(1);
    // The driver side polls queue_reset a bounded number of times: in one thread it sees 1.
    expect(t.transport.resetQueue(0)).toBe(false);
    t.selectQueue(0);
    expect(t.readReg('queue_reset')).toBe(1);
    expect(bytes(t.memory, DATA_BASE, S)).toEqual(new Uint8Array(S).fill(FILL));
    await t.gated.pending[0].release();
    await settle(20);
    expect(t.readReg('queue_reset')).toBe(0);
    expect(t.transport.queueEnabled(0)).toBe(false);
    const after = bytes(t.memory, DATA_BASE, S);
    await settle(20);
    expect(bytes(t.memory, DATA_BASE, S)).toEqual(after);
  });
});
