// PCI transport benchmark: echo round trips through the BARs (driver add, kick -> Queue Notify
// write, device echo, MSI-X message or INT#x + ISR read, reap), and the bare Queue Notify
// write. Prints figures, asserts nothing. Run: npm run bench -w @virtio/pci
import { BumpAllocator, FlatGuestMemory, type DriverQueue } from '../../ring/src/index.js';
import { featureMask, initializeDevice, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED } from '../../core/src/index.js';
import { EchoDevice } from '../../core/src/testing/index.js';
import { PciDriverTransport, PciTransport } from '../src/index.js';
import { RenumberedDevice, TEST_DEVICE_ID, message } from '../test/helpers.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function timeLoop(body: (n: number) => void): number {
  const warm = performance.now();
  while (performance.now() - warm < 200) body(1000);
  let ops = 0;
  const start = performance.now();
  let now = start;
  while (now - start < SECONDS * 1000) {
    body(1000);
    ops += 1000;
    now = performance.now();
  }
  return (ops * 1000) / (now - start);
}

function setup(extra: bigint, msix: boolean) {
  const memory = new FlatGuestMemory(new SharedArrayBuffer(1 << 20));
  let lastVector = -1;
  const pci = new PciTransport(new RenumberedDevice(new EchoDevice({ features: extra }), TEST_DEVICE_ID), {
    memory,
    interrupt: { msi: (v) => (lastVector = v), intx: () => {} },
  });
  const driver = new PciDriverTransport(pci);
  if (msix) driver.enableMsix(message);
  const dev = initializeDevice(driver, {
    memory,
    allocator: new BumpAllocator(0x80000, 0x80000),
    wantedFeatures: extra,
    queues: [{ index: 0 }],
  });
  return { pci, driver, dev, vector: () => lastVector };
}

function echoRoundTrips(extra: bigint, msix: boolean, batch: number): number {
  const { driver, dev, vector } = setup(extra, msix);
  const q = dev.queues[0] as DriverQueue<number>;
  const out = [{ addr: 0x1000, len: 64 }];
  const into = [{ addr: 0x2000, len: 64 }];
  return timeLoop((n) => {
    for (let k = 0; k < n; k += batch) {
      for (let b = 0; b < batch; b++) q.add(out, into, b);
      dev.kick(0);
      driver.takeInterrupt(msix ? vector() : undefined);
      while (q.reap() !== null);
    }
  });
}

function bareNotify(): number {
  const { pci } = setup(0n, true);
  const { bar, offset } = pci.notifyRegions()[0];
  return timeLoop((n) => {
    for (let k = 0; k < n; k++) pci.barWrite(bar, offset, 2, 0);
  });
}

const fmt = (v: number, unit: string) => `${Math.round(v).toLocaleString('en-US')} ${unit}/s`;
for (const [name, f] of [
  ['split', 0n],
  ['split+event_idx', featureMask(VIRTIO_F_EVENT_IDX)],
  ['packed', featureMask(VIRTIO_F_RING_PACKED)],
] as const) {
  for (const msix of [true, false]) {
    for (const batch of [1, 32]) {
      console.log(`pci echo ${name.padEnd(16)} ${msix ? 'msi-x' : 'intx '} batch ${String(batch).padStart(2)}: ${fmt(echoRoundTrips(f, msix, batch), 'buffers')}`);
    }
  }
}
console.log(`pci Queue Notify write (empty queue): ${fmt(bareNotify(), 'writes')}`);
