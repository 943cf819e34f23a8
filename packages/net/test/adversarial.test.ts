// A hostile driver: malformed control, transmit and receive chains, broken rings, resets with
// frames in flight. The device answers with VIRTIO_NET_ERR where the spec defines it, else
// DEVICE_NEEDS_RESET; it never throws and never touches guest memory after a reset.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET } from '@virtio/core';
import { VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, VIRTIO_NET_ERR, VIRTIO_NET_OK } from '../src/index.js';
import { ethFrame, rig } from './harness.js';

type Rig = ReturnType<typeof rig>;

/**
 * Puts a control chain [readable bytes] + [writable bytes, 0xee-filled] on controlq (index 2)
 * and kicks; returns the ack address (the first writable byte: struct virtio_net_ctrl puts
 * command-specific-result after the ack).
 */
function rawCtrl(r: Rig, readable: Uint8Array, writable: number): number {
  const addr = r.allocator.alloc(readable.length + writable + 1, 8);
  r.memory.write(addr, readable);
  const ack = addr + readable.length;
  r.memory.write(ack, new Uint8Array(Math.max(writable, 1)).fill(0xee));
  const q = r.driver.device.queues[2]!;
  q.add(readable.length ? [{ addr, len: readable.length }] : [], writable ? [{ addr: ack, len: writable }] : [], addr);
  r.driver.device.kick(2);
  return ack;
}

const needsReset = (r: Rig): boolean => (r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET) !== 0;

describe('malformed control commands', () => {
  it('acks VIRTIO_NET_ERR for a chain too short to hold class and command', () => {
    const r = rig();
    const ack = rawCtrl(r, Uint8Array.of(0), 1);
    expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_ERR);
    expect(needsReset(r)).toBe(false);
  });

  it('acks VIRTIO_NET_ERR for a MAC table whose counts run past the data', () => {
    const r = rig();
    const cmd = new Uint8Array(2 + 8);
    cmd[0] = VIRTIO_NET_CTRL_MAC;
    cmd[1] = VIRTIO_NET_CTRL_MAC_TABLE_SET;
    new DataView(cmd.buffer).setUint32(2, 0xffffffff, true);
    expect(r.memory.readU8(rawCtrl(r, cmd, 1))).toBe(VIRTIO_NET_ERR);
  });

  it('writes the ack into the first writable byte and nothing after it for a command without result', () => {
    const r = rig();
    const ack = rawCtrl(r, Uint8Array.of(0, 0, 1), 4); // RX_PROMISC on
    expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_OK);
    expect([1, 2, 3].map((i) => r.memory.readU8(ack + i))).toEqual([0xee, 0xee, 0xee]);
  });

  it('sets DEVICE_NEEDS_RESET for a control chain without a writable ack byte', () => {
    const r = rig();
    rawCtrl(r, Uint8Array.of(0, 0, 1), 0);
    expect(needsReset(r)).toBe(true);
    expect(r.driver.device.needsReset).toBe(true);
  });

  it('answers every random command with OK or ERR, never throwing', () => {
    fc.assert(
      fc.property(fc.uint8Array({ minLength: 0, maxLength: 64 }), (bytes) => {
        const r = rig({ queueSize: 4 });
        const ack = rawCtrl(r, bytes, 1);
        expect(needsReset(r)).toBe(false);
        expect([VIRTIO_NET_OK, VIRTIO_NET_ERR]).toContain(r.memory.readU8(ack));
      }),
      { numRuns: 60 },
    );
  });
});

describe('malformed transmit and receive chains', () => {
  it('returns a transmit chain shorter than the header, or without a frame, unsent', () => {
    const r = rig();
    const q = r.driver.device.queues[1]!;
    const addr = r.allocator.alloc(64, 8);
    q.add([{ addr, len: 8 }], [], 1);
    q.add([{ addr, len: 12 }], [], 2);
    q.add([], [{ addr, len: 64 }], 3);
    r.driver.device.kick(1);
    expect(r.sent).toHaveLength(0);
    expect(r.device.stats.txErrors).toBe(3);
    expect(needsReset(r)).toBe(false);
    r.driver.send(ethFrame(60, 1));
    expect(r.sent[0].frame).toEqual(ethFrame(60, 1));
  });

  it('a header split over several descriptors reads like one', () => {
    const r = rig();
    const q = r.driver.device.queues[1]!;
    const h = r.allocator.alloc(12, 8);
    const f = r.allocator.alloc(100, 8);
    r.memory.write(f, ethFrame(100, 4));
    q.add([{ addr: h, len: 5 }, { addr: h + 5, len: 7 }, { addr: f, len: 100 }], [], 1);
    r.driver.device.kick(1);
    expect(r.sent[0].frame).toEqual(ethFrame(100, 4));
  });

  it('sets DEVICE_NEEDS_RESET when a merged receive buffer cannot hold the header', () => {
    const r = rig({ rxBufferSize: 16, queueSize: 4, manualInterrupts: true });
    const q = r.driver.device.queues[0]!;
    r.callback.deliver(ethFrame(14, 1));
    r.callback.deliver(ethFrame(14, 2)); // 2 x 26 bytes: the four 16-byte buffers are used
    while (q.reap() !== null);
    while (q.numFree > 0) q.add([], [{ addr: r.allocator.alloc(4, 8), len: 4 }], 0);
    r.driver.device.kick(0);
    r.callback.deliver(ethFrame(14, 3));
    expect(needsReset(r)).toBe(true);
  });

  it('sets DEVICE_NEEDS_RESET on a broken ring without throwing out of queueNotify', () => {
    const r = rig();
    const cfg = r.driver.device.queues[1]!.config;
    r.memory.writeU16(cfg.driverArea + 2, 0x7777); // available idx jumps by more than the queue size
    expect(() => r.transport.notify(1)).not.toThrow();
    expect(needsReset(r)).toBe(true);
  });
});

describe('random chain shapes', () => {
  it('transmit chains of any shape are sent or counted, never a reset or an exception', () => {
    fc.assert(
      fc.property(
        fc.array(fc.record({ len: fc.integer({ min: 0, max: 200 }), writable: fc.boolean() }), { minLength: 1, maxLength: 6 }),
        (segs) => {
          const r = rig({ queueSize: 8 });
          const q = r.driver.device.queues[1]!;
          const out = segs.filter((x) => !x.writable).map((x) => ({ addr: r.allocator.alloc(x.len + 1, 8), len: x.len }));
          const inn = segs.filter((x) => x.writable).map((x) => ({ addr: r.allocator.alloc(x.len + 1, 8), len: x.len }));
          if (!q.add(out, inn, 0)) return;
          expect(() => r.driver.device.kick(1)).not.toThrow();
          const readable = out.reduce((n, x) => n + x.len, 0);
          expect(r.sent.length + r.device.stats.txErrors).toBe(1);
          expect(r.sent.length).toBe(readable > 12 ? 1 : 0);
          expect(needsReset(r)).toBe(false);
        },
      ),
      { numRuns: 60 },
    );
  });
});

describe('reset', () => {
  it('drops queued frames and never writes guest memory after reset', () => {
    const r = rig({ queueSize: 4, manualInterrupts: true });
    for (let i = 0; i < 10; i++) r.callback.deliver(ethFrame(100, i));
    expect(r.device.pendingFrames).toBeGreaterThan(0);
    const before = Buffer.from(r.memory.view(0, 16 << 20).slice());
    r.driver.reset();
    expect(r.device.pendingFrames).toBe(0);
    expect(r.callback.paused).toBe(true);
    for (let i = 0; i < 10; i++) r.callback.deliver(ethFrame(100, i));
    r.transport.notify(0);
    r.transport.notify(1);
    expect(before.equals(r.memory.view(0, 16 << 20))).toBe(true);
  });

  it('[net.dev.59] the MAC table is empty and the mac restored after reset', async () => {
    const r = rig();
    await r.driver.setPromisc(false);
    await r.driver.setMac(Uint8Array.of(2, 9, 9, 9, 9, 9));
    await r.driver.setMacTable([Uint8Array.of(2, 1, 1, 1, 1, 1)], []);
    r.driver.reset();
    expect(r.device.mac).toEqual(Uint8Array.of(0x52, 0x54, 0, 0x12, 0x34, 0x56));
    const again = rig({ backend: r.callback });
    await again.driver.setPromisc(false);
    again.callback.deliver(ethFrame(60, 1, [2, 1, 1, 1, 1, 1]));
    expect(again.received).toHaveLength(0);
  });
});

describe('queues stopped by the driver', () => {
  it('forgets chains held from a disabled receive queue and never writes them afterwards', () => {
    const r = rig({ queueSize: 4, rxBufferSize: 100, manualInterrupts: true });
    r.callback.deliver(ethFrame(250, 1)); // takes 3 of the 4 buffers
    r.callback.deliver(ethFrame(250, 2)); // holds the 4th, waits for more
    expect(r.device.pendingFrames).toBe(1);
    r.state.disableQueue(0);
    const before = Buffer.from(r.memory.view(0, 16 << 20).slice());
    r.callback.deliver(ethFrame(250, 3));
    r.transport.notify(0);
    expect(before.equals(r.memory.view(0, 16 << 20))).toBe(true);
    expect(r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(0);
  });

  it('[net.dev.69] frames for a disabled receive queue go to another live one', async () => {
    const r = rig({ queuePairs: 2 });
    await r.driver.setQueuePairs(2);
    r.state.disableQueue(2); // receiveq2
    for (let i = 0; i < 32; i++) {
      const f = ethFrame(80, i);
      f.set([0x08, 0x00], 12);
      f[29] = i;
      f[35] = i;
      r.callback.deliver(f);
    }
    expect(r.received).toHaveLength(32);
    expect(r.received.every((x) => x.pair === 0)).toBe(true);
  });

  it('a re-enabled receive queue starts from its own buffers, not chains held from before', () => {
    const r = rig({ queueSize: 4, rxBufferSize: 100, manualInterrupts: true });
    r.callback.deliver(ethFrame(250, 1));
    r.callback.deliver(ethFrame(250, 2)); // one buffer held, frame waiting
    r.state.disableQueue(0);
    r.state.enableQueue(0); // same rings: the device sees the driver's 4 buffers again
    r.callback.deliver(ethFrame(60, 3));
    expect(r.transport.getStatus() & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(0);
    expect(r.device.stats.rxFrames).toBeGreaterThan(1);
  });
});
