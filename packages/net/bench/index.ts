// Network benchmark: in-process frames/s and MB/s through our NetDriver and NetDevice over core's
// LoopbackTransport: transmit into a discarding backend, receive from a callback backend, and
// two devices joined by the pair backend. Prints figures, asserts nothing.
// Run: npm run bench -w @virtio/net   (BENCH_SECONDS=n to run longer)
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC, VIRTIO_F_RING_PACKED } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { CallbackBackend, createPair, NET_DRIVER_FEATURES, NetDevice, NetDriver, Toeplitz, type NetBackend } from '../src/index.js';

const SECONDS = Number(process.env.BENCH_SECONDS ?? 1);

function machine(backend: NetBackend, packed: boolean, onFrame?: () => void) {
  const memory = new FlatGuestMemory(new Uint8Array(16 << 20));
  const device = new NetDevice({ backend });
  const transport = new LoopbackTransport(device, { memory, transport: 'pci' });
  const ring = featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX) | (packed ? featureMask(VIRTIO_F_RING_PACKED) : 0n);
  const driver = new NetDriver(transport, {
    memory,
    allocator: new BumpAllocator(0x10000, (16 << 20) - 0x10000),
    wantedFeatures: NET_DRIVER_FEATURES | ring,
    onFrame,
  });
  transport.onInterrupt = () => driver.handleInterrupt();
  return { device, driver };
}

function frame(len: number): Uint8Array {
  const f = new Uint8Array(len).fill(0xab);
  f.set([0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 2, 0, 0, 0, 0, 1, 0x88, 0xb5]);
  return f;
}

function report(what: string, frames: number, bytes: number, ms: number): void {
  const fps = (frames / ms) * 1000;
  const mbs = (bytes / ms) * 1000 / 1e6;
  console.log(`${what.padEnd(44)} ${fps.toFixed(0).padStart(9)} frames/s ${mbs.toFixed(1).padStart(8)} MB/s`);
}

function run(loop: () => void): number {
  const start = performance.now();
  const deadline = start + SECONDS * 1000;
  while (performance.now() < deadline) for (let i = 0; i < 256; i++) loop();
  return performance.now() - start;
}

for (const packed of [false, true]) {
  const layout = packed ? 'packed' : 'split';
  for (const size of [64, 1514]) {
    const f = frame(size);

    let sent = 0;
    const tx = machine(new CallbackBackend({ onFrame: () => void sent++ }), packed);
    const txMs = run(() => {
      if (!tx.driver.send(f)) tx.driver.poll();
    });
    report(`transmit ${size} B (${layout})`, sent, sent * size, txMs);

    let got = 0;
    const src = new CallbackBackend({ onFrame: () => {} });
    const rx = machine(src, packed, () => void got++);
    const rxMs = run(() => src.deliver(f));
    report(`receive ${size} B (${layout})`, got, got * size, rxMs);

    let across = 0;
    const [a, b] = createPair();
    const m1 = machine(a, packed);
    machine(b, packed, () => void across++);
    const pairMs = run(() => {
      if (!m1.driver.send(f)) m1.driver.poll();
    });
    report(`pair, device to device ${size} B (${layout})`, across, across * size, pairMs);
  }
}

// The per-packet RSS hash alone: the Toeplitz hash of an IPv4 + TCP input (12 bytes) and of an
// IPv6 + TCP input (36 bytes), with a 40-byte key.
{
  const t = new Toeplitz();
  t.setKey(Uint8Array.from({ length: 40 }, (_, i) => (i * 37 + 11) & 0xff));
  for (const len of [12, 36]) {
    const input = Uint8Array.from({ length: len }, (_, i) => i * 7);
    let n = 0;
    let sink = 0;
    const ms = run(() => {
      input[0] = n++;
      sink ^= t.update(0, input, 0, len, 0);
    });
    const label = `Toeplitz hash of ${len} B (${len === 12 ? 'IPv4 + ports' : 'IPv6 + ports'})`;
    console.log(`${label.padEnd(44)} ${((n / ms) * 1000).toFixed(0).padStart(9)} hashes/s   (${sink & 1})`);
  }
}
