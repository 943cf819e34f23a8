// A hostile driver: malformed tx chains, misaddressed and random packets.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import type { DriverQueue } from '@virtio/ring';
import { VIRTIO_VSOCK_OP_RW, VIRTIO_VSOCK_RX, VIRTIO_VSOCK_TX, VMADDR_CID_HOST, type VsockConnection } from '../src/index.js';
import { pattern, rig, settle, VARIANTS } from './harness.js';
import { header, sendRaw } from './raw.js';

const needsReset = (t: ReturnType<typeof rig>) => (t.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;

function expose(t: ReturnType<typeof rig>, queue: number, out: { addr: number; len: number }[], inSegs: { addr: number; len: number }[]) {
  const q = t.driver.device.queues[queue] as DriverQueue;
  expect(q.add(out, inSegs, { addr: t.allocator.alloc(8, 8) })).toBe(true);
  t.driver.device.kick(queue);
}

describe.each(VARIANTS)('adversarial vsock driver over $name', ({ features }) => {
  it('a tx chain with a device-writable buffer sets DEVICE_NEEDS_RESET', () => {
    const t = rig({}, features);
    expose(t, VIRTIO_VSOCK_TX, [{ addr: 0x3f0000, len: 44 }], [{ addr: 0x3f1000, len: 8 }]);
    expect(needsReset(t)).toBe(true);
  });

  it('a tx chain shorter than the header sets DEVICE_NEEDS_RESET', () => {
    const t = rig({}, features);
    expose(t, VIRTIO_VSOCK_TX, [{ addr: 0x3f0000, len: 43 }], []);
    expect(needsReset(t)).toBe(true);
  });

  it('a len beyond the packet\'s buffer sets DEVICE_NEEDS_RESET and reaches no connection', async () => {
    const t = rig({}, features);
    const got: Uint8Array[] = [];
    t.device.listen(5, (c) => (c.ondata = (d) => got.push(d)));
    const guest = await t.driver.connect(VMADDR_CID_HOST, 5);
    sendRaw(t, header({ srcPort: guest.localPort, dstPort: 5, op: VIRTIO_VSOCK_OP_RW, len: 100 }), new Uint8Array(10));
    expect(needsReset(t)).toBe(true);
    expect(got).toHaveLength(0);
    expect(t.device.connections).toHaveLength(0);
  });

  it('packets with a foreign source CID or a destination other than the host are dropped without a reply', () => {
    const t = rig({}, features);
    let accepted = 0;
    t.device.listen(5, () => accepted++);
    sendRaw(t, header({ srcCid: 4, dstPort: 5 }));
    sendRaw(t, header({ dstCid: 9, dstPort: 5 }));
    expect(accepted).toBe(0);
    expect(t.device.stats.misaddressed).toBe(2);
    expect(t.device.stats.rxPackets).toBe(0);
  });

  it('an rx chain with a device-readable buffer sets DEVICE_NEEDS_RESET when the device needs it', async () => {
    const t = rig({}, features, { rxBuffers: 1 });
    t.irq.on = false;
    sendRaw(t, header({ dstPort: 77 })); // RST reply fills the driver's one rx buffer
    expose(t, VIRTIO_VSOCK_RX, [{ addr: 0x3f0000, len: 64 }], [{ addr: 0x3f1000, len: 64 }]);
    sendRaw(t, header({ srcPort: 2, dstPort: 77 }));
    expect(needsReset(t)).toBe(true);
    await settle();
  });

  it('an RW for a connection that does not exist is answered with RST', () => {
    const t = rig({}, features);
    sendRaw(t, header({ op: VIRTIO_VSOCK_OP_RW, len: 4, dstPort: 1234 }), new Uint8Array(4));
    expect(t.device.stats.rxPackets).toBe(1);
  });

  it('random packets never throw out of the device and leave it working for honest connections', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.array(
          fc.record({
            srcPort: fc.integer({ min: 0, max: 0xffffffff }),
            dstPort: fc.constantFrom(1, 5, 0xffffffff),
            type: fc.integer({ min: 0, max: 4 }),
            op: fc.integer({ min: 0, max: 9 }),
            flags: fc.integer({ min: 0, max: 0xffffffff }),
            bufAlloc: fc.integer({ min: 0, max: 0xffffffff }),
            fwdCnt: fc.integer({ min: 0, max: 0xffffffff }),
            len: fc.integer({ min: 0, max: 64 }),
          }),
          { maxLength: 20 },
        ),
        async (pkts) => {
          const t = rig({}, features);
          const conns: VsockConnection[] = [];
          t.device.listen(5, (c) => conns.push(c));
          for (const p of pkts) sendRaw(t, header(p), pattern(p.len));
          await settle(2);
          expect(needsReset(t)).toBe(false);
          const got: Uint8Array[] = [];
          t.device.listen(6, (c) => (c.ondata = (d) => got.push(d)));
          const g = await t.driver.connect(VMADDR_CID_HOST, 6);
          g.write(pattern(100));
          await settle();
          expect(got.reduce((s, d) => s + d.length, 0)).toBe(100);
        },
      ),
      { numRuns: 30 },
    );
  });
});
