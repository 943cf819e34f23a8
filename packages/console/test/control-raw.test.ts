// The device's control messages as a raw driver sees them in the control receiveq, without our
// ConsoleDriver in between (it would hide duplicates by ignoring them).
import { describe, expect, it } from 'vitest';
import { featureMask, initializeDevice, VIRTIO_F_VERSION_1 } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator, type DriverQueue } from '@virtio/ring';
import {
  ConsoleDevice,
  VIRTIO_CONSOLE_CONSOLE_PORT,
  VIRTIO_CONSOLE_DEVICE_ADD,
  VIRTIO_CONSOLE_DEVICE_READY,
  VIRTIO_CONSOLE_DEVICE_REMOVE,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_PORT_NAME,
  VIRTIO_CONSOLE_PORT_OPEN,
  VIRTIO_CONSOLE_PORT_READY,
} from '../src/index.js';

function rawMultiport(maxPorts: number) {
  const memory = new FlatGuestMemory(new Uint8Array(0x100000));
  const allocator = new FreeListAllocator(0x1000, 0xff000);
  const device = new ConsoleDevice({ maxPorts, emergencyWrite: false });
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const queues = Array.from({ length: 2 * (maxPorts + 1) }, (_, index) => ({ index }));
  const dev = initializeDevice(transport, {
    memory,
    allocator,
    wantedFeatures: featureMask(VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_F_VERSION_1),
    queues,
    setup: (qs) => {
      for (let i = 0; i < 32; i++) {
        const addr = allocator.alloc(64, 8);
        qs[2]!.add([], [{ addr, len: 64 }], addr);
      }
    },
  });
  const send = (id: number, event: number, value: number) => {
    const addr = allocator.alloc(8, 8);
    memory.writeU32(addr, id);
    memory.writeU16(addr + 4, event);
    memory.writeU16(addr + 6, value);
    (dev.queues[3] as DriverQueue).add([{ addr, len: 8 }], [], addr);
    dev.kick(3);
  };
  /** Every control message the device wrote since the last call, as [id, event, value]. */
  const received = () => {
    const out: [number, number, number][] = [];
    const q = dev.queues[2] as DriverQueue<number>;
    let u;
    while ((u = q.reap()) !== null) {
      expect(u.len).toBeGreaterThanOrEqual(8);
      out.push([memory.readU32(u.token), memory.readU16(u.token + 4), memory.readU16(u.token + 6)]);
      q.add([], [{ addr: u.token, len: 64 }], u.token);
    }
    dev.kick(2);
    return out;
  };
  return { device, send, received };
}

describe('device control messages, seen raw', () => {
  it('nothing is announced before DEVICE_READY; then each port exactly once', () => {
    const r = rawMultiport(3);
    r.device.addPort({ name: 'n' });
    expect(r.received()).toEqual([]);
    r.send(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    r.send(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect(r.received()).toEqual([
      [0, VIRTIO_CONSOLE_DEVICE_ADD, 0],
      [1, VIRTIO_CONSOLE_DEVICE_ADD, 0],
    ]);
    r.send(1, VIRTIO_CONSOLE_PORT_READY, 1);
    expect(r.received()).toEqual([
      [1, VIRTIO_CONSOLE_PORT_NAME, 0],
      [1, VIRTIO_CONSOLE_PORT_OPEN, 1],
    ]);
    r.send(0, VIRTIO_CONSOLE_PORT_READY, 1);
    expect(r.received()).toEqual([
      [0, VIRTIO_CONSOLE_CONSOLE_PORT, 1],
      [0, VIRTIO_CONSOLE_PORT_OPEN, 1],
    ]);
  });

  it('[console.dev.4] a port removed before the driver heard of it gets no DEVICE_REMOVE', () => {
    const r = rawMultiport(3);
    const p = r.device.addPort({});
    r.device.removePort(p.id);
    r.send(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    expect(r.received()).toEqual([[0, VIRTIO_CONSOLE_DEVICE_ADD, 0]]);
    const q = r.device.addPort({});
    expect(r.received()).toEqual([[q.id, VIRTIO_CONSOLE_DEVICE_ADD, 0]]);
    r.device.removePort(q.id);
    expect(r.received()).toEqual([[q.id, VIRTIO_CONSOLE_DEVICE_REMOVE, 0]]);
  });

  it('[console.dev.3] a re-added port number is announced again only after its DEVICE_REMOVE', () => {
    const r = rawMultiport(2);
    r.send(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
    r.received();
    r.device.addPort({}, 1);
    r.device.removePort(1);
    r.device.addPort({}, 1);
    expect(r.received()).toEqual([
      [1, VIRTIO_CONSOLE_DEVICE_ADD, 0],
      [1, VIRTIO_CONSOLE_DEVICE_REMOVE, 0],
      [1, VIRTIO_CONSOLE_DEVICE_ADD, 0],
    ]);
  });
});
