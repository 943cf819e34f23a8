// Our ConsoleDriver against a scripted device that writes whatever control messages a test
// wants (a buggy or hostile device), recording what the driver sends back.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_F_VERSION_1, type ActivateContext, type VirtioDevice } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { ChainReader, ChainWriter, FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import {
  ConsoleDriver,
  VIRTIO_CONSOLE_CONSOLE_PORT,
  VIRTIO_CONSOLE_DEVICE_ADD,
  VIRTIO_CONSOLE_DEVICE_READY,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_PORT_NAME,
  VIRTIO_CONSOLE_PORT_OPEN,
  VIRTIO_CONSOLE_PORT_READY,
  VIRTIO_CONSOLE_RESIZE,
} from '../src/index.js';

class ScriptedDevice implements VirtioDevice {
  readonly deviceId = 3;
  readonly deviceFeatures = featureMask(VIRTIO_F_VERSION_1, VIRTIO_CONSOLE_F_MULTIPORT);
  readonly numQueues: number;
  readonly configSize = 12;
  ctx: ActivateContext | undefined;
  /** Messages the driver sent on the control transmitq: [id, event, value]. */
  readonly fromDriver: [number, number, number][] = [];
  constructor(readonly maxNrPorts: number, queues = 2 * (Math.min(maxNrPorts, 64) + 1)) {
    this.numQueues = queues;
  }
  queueMaxSize(i: number) {
    return i < this.numQueues ? 64 : 0;
  }
  readConfig(offset: number, width: 1 | 2 | 4) {
    const dv = new DataView(new ArrayBuffer(12));
    dv.setUint32(4, this.maxNrPorts >>> 0, true);
    return width === 1 ? dv.getUint8(offset) : width === 2 ? dv.getUint16(offset, true) : dv.getUint32(offset, true);
  }
  writeConfig() {}
  activate(ctx: ActivateContext) {
    this.ctx = ctx;
    this.queueNotify(3);
  }
  queueNotify(i: number) {
    const ctx = this.ctx!;
    const q = ctx.queues[i];
    if (i !== 3 || !q) return;
    let c;
    while ((c = q.pop()) !== null) {
      const r = new ChainReader(ctx.memory, c.readable);
      this.fromDriver.push([r.readU32(), r.readU16(), r.readU16()]);
      q.push(c, 0);
    }
    if (q.needsNotification()) ctx.interrupt.usedBuffer(3);
  }
  reset() {
    this.ctx = undefined;
  }
  /** Writes `bytes` into the next control receiveq buffer and claims `usedLen` bytes were written. */
  send(bytes: Uint8Array, usedLen = bytes.length) {
    const ctx = this.ctx!;
    const q = ctx.queues[2]!;
    const c = q.pop()!;
    const w = new ChainWriter(ctx.memory, c.writable);
    w.write(bytes.subarray(0, Math.min(bytes.length, c.writableLength)));
    q.push(c, Math.min(usedLen, c.writableLength));
    q.needsNotification(); // ends the batch: publishes the used buffer (the interrupt is sent regardless)
    ctx.interrupt.usedBuffer(2);
  }
}

function msg(id: number, event: number, value: number, extra: number[] = []): Uint8Array {
  const b = new Uint8Array(8 + extra.length);
  const dv = new DataView(b.buffer);
  dv.setUint32(0, id, true);
  dv.setUint16(4, event, true);
  dv.setUint16(6, value, true);
  b.set(extra, 8);
  return b;
}

function setup(maxNrPorts = 4, driverMax?: number) {
  const memory = new FlatGuestMemory(new Uint8Array(0x100000));
  const device = new ScriptedDevice(maxNrPorts);
  const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
  const events: string[] = [];
  const driver = ConsoleDriver.initialize(transport, {
    memory,
    allocator: new FreeListAllocator(0x1000, 0xff000),
    maxPorts: driverMax,
    events: {
      portAdded: (p) => events.push(`add ${p.id}`),
      resize: (p, s) => events.push(`resize ${p} ${s.cols}x${s.rows}`),
    },
  });
  const deliver = (bytes: Uint8Array, usedLen?: number) => {
    device.send(bytes, usedLen);
    driver.handleInterrupt();
  };
  return { device, driver, deliver, events };
}

describe('console driver against a scripted device', () => {
  it('[console.drv.2] the first control message is DEVICE_READY with value 1', () => {
    const t = setup();
    expect(t.device.fromDriver[0]).toEqual([0, VIRTIO_CONSOLE_DEVICE_READY, 1]);
  });

  it('[console.drv.3] CONSOLE_PORT is answered with PORT_OPEN value 1', () => {
    const t = setup();
    t.deliver(msg(1, VIRTIO_CONSOLE_DEVICE_ADD, 0));
    t.deliver(msg(1, VIRTIO_CONSOLE_CONSOLE_PORT, 1));
    expect(t.device.fromDriver.slice(1)).toEqual([
      [1, VIRTIO_CONSOLE_PORT_READY, 1],
      [1, VIRTIO_CONSOLE_PORT_OPEN, 1],
    ]);
    expect(t.driver.ports.get(1)!.console).toBe(true);
  });

  it('DEVICE_ADD beyond the ports the driver set up is refused with PORT_READY 0', () => {
    const t = setup(4, 2);
    t.deliver(msg(3, VIRTIO_CONSOLE_DEVICE_ADD, 0));
    t.deliver(msg(0xffffffff, VIRTIO_CONSOLE_DEVICE_ADD, 0));
    expect(t.device.fromDriver.slice(1)).toEqual([
      [3, VIRTIO_CONSOLE_PORT_READY, 0],
      [0xffffffff, VIRTIO_CONSOLE_PORT_READY, 0],
    ]);
    expect(t.driver.ports.size).toBe(0);
  });

  it('a duplicate DEVICE_ADD, unknown events, unknown ports and short messages are ignored and counted', () => {
    const t = setup();
    t.deliver(msg(1, VIRTIO_CONSOLE_DEVICE_ADD, 0));
    t.deliver(msg(1, VIRTIO_CONSOLE_DEVICE_ADD, 0)); // duplicate
    t.deliver(msg(1, 42, 0)); // unknown event
    t.deliver(msg(2, VIRTIO_CONSOLE_PORT_OPEN, 1)); // port never added
    t.deliver(msg(1, VIRTIO_CONSOLE_PORT_OPEN, 1), 4); // shorter than the header
    t.deliver(msg(1, VIRTIO_CONSOLE_RESIZE, 0, [1])); // RESIZE without its struct
    expect(t.driver.ignoredControl).toBe(5);
    expect(t.events).toEqual(['add 1']);
    expect(t.device.fromDriver.filter((m) => m[1] === VIRTIO_CONSOLE_PORT_READY)).toHaveLength(1);
  });

  it('a used length beyond the buffer is bounded by the buffer; names are decoded from it only', () => {
    const t = setup();
    t.deliver(msg(1, VIRTIO_CONSOLE_DEVICE_ADD, 0));
    const name = Array.from(new TextEncoder().encode('port-ä'));
    t.deliver(msg(1, VIRTIO_CONSOLE_PORT_NAME, 0, name), 1 << 20);
    expect(t.driver.ports.get(1)!.name?.startsWith('port-ä')).toBe(true);
    t.deliver(msg(1, VIRTIO_CONSOLE_RESIZE, 0, [100, 0, 30, 0]));
    expect(t.events).toContain('resize 1 100x30');
  });

  it('a huge max_nr_ports is capped at the driver maximum', () => {
    const t = setup(0xffffffff, 3);
    expect(t.driver.portLimit).toBe(3);
  });
});
