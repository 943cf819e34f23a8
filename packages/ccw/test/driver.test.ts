import { describe, expect, it, vi } from 'vitest';
import {
  DeviceInitError,
  featureMask,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_VERSION_1,
} from '@virtio/core';
import { ECHO_DEVICE_ID } from '@virtio/core/testing';
import { createDriverQueue } from '@virtio/ring';
import {
  CCW_CMD_READ_STATUS,
  CCW_CMD_SENSE_ID,
  CCW_CMD_SET_VIRTIO_REV,
  CCW_CMD_WRITE_STATUS,
  CcwDriverError,
  CcwDriverTransport,
  legacyRingAllocator,
  VIRTIO_CCW_CU_TYPE,
} from '../src/index.js';
import { isVirtioCommand } from '../src/device/revision.js';
import { initialize, pair, roundTrip, SCHID } from './pair.js';

const commandLength: Record<number, number> = {
  0x13: 32, 0x33: 0, 0x43: 8, 0x53: 8, 0x73: 25, 0x12: 5, 0x11: 5, 0x31: 1, 0x32: 4, 0x83: 4, 0x72: 1, 0xe4: 256,
};

describe('CcwDriverTransport against CcwTransport', () => {
  it('initializes the device at revision 2, negotiates, sets up a queue and echoes data with adapter interrupts', () => {
    const p = pair({ device: { features: featureMask(VIRTIO_F_EVENT_IDX) } });
    expect(p.driver.revision).toBe(2);
    expect(p.driver.deviceId).toBe(ECHO_DEVICE_ID);
    const dev = initialize(p, { wantedFeatures: featureMask(VIRTIO_F_EVENT_IDX) });
    expect(dev.features).toBe(featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1));
    expect(p.transport.state.status).toBe(15);
    expect(p.driver.indicatorMode).toBe('adapter');
    expect(roundTrip(p, dev, [1, 2, 3])).toEqual([1, 2, 3]);
    expect(p.interrupts).toEqual(['adapter:3']);
    expect(p.driver.lastQueueIndicators).toBe(1n);
    expect(roundTrip(p, dev, [4, 5])).toEqual([4, 5]);
  });

  it('initializes at revision 1 with classic indicators and reads and writes the configuration space', () => {
    const p = pair({ driver: { maxRevision: 1, indicators: 'classic' } });
    expect(p.driver.revision).toBe(1);
    const dev = initialize(p);
    expect(p.driver.indicatorMode).toBe('classic');
    expect(roundTrip(p, dev, [9, 8, 7])).toEqual([9, 8, 7]);
    expect(p.interrupts).toEqual(['io']);
    dev.writeConfig(4, 4, 0x1234_5678);
    expect(dev.readConfig((c) => [c.u32(0), c.u32(4), c.u16(6)])).toEqual([1, 0x1234_5678, 0x1234]);
  });

  it('drives a packed virtqueue, chosen by VIRTIO_F_RING_PACKED', () => {
    const p = pair({ device: { features: featureMask(VIRTIO_F_RING_PACKED) } });
    const dev = initialize(p, { wantedFeatures: featureMask(VIRTIO_F_RING_PACKED) });
    expect(dev.queues[0]!.config.packed).toBe(true);
    expect(roundTrip(p, dev, [3, 1, 4, 1, 5])).toEqual([3, 1, 4, 1, 5]);
  });

  it('falls back to classic indicators when the device rejects SET_IND_ADAPTER', () => {
    const p = pair({ setup: (q) => (q.css.reject = (cmd) => cmd === 0x73) });
    const dev = initialize(p);
    expect(p.driver.indicatorMode).toBe('classic');
    expect(roundTrip(p, dev, [1])).toEqual([1]);
    expect(p.interrupts).toEqual(['io']);
  });

  it('delivers configuration changes through the configuration indicators', () => {
    const p = pair();
    const dev = initialize(p);
    const events: unknown[] = [];
    p.onInterrupt = () => events.push(dev.handleInterrupt());
    p.device.host!.configChanged();
    expect(p.interrupts).toEqual(['io']);
    expect(events).toEqual([{ usedBuffer: false, configChange: true, needsReset: false }]);
  });

  it('keeps a configuration generation by comparing what it reads', () => {
    const p = pair();
    const dev = initialize(p);
    expect(dev.readConfig((c) => c.u32(4))).toBe(0);
    const g0 = p.driver.configGeneration();
    expect(p.driver.configGeneration()).toBe(g0);
    p.transport.state.writeConfig(4, 4, 42);
    expect(p.driver.configGeneration()).toBe(g0 + 1);
  });

  it('drives revision 0 (legacy) on a transitional device with a legacy-layout queue', () => {
    const p = pair({ transitional: true, driver: { maxRevision: 0, transitional: true, indicators: 'classic' } });
    expect(p.driver.revision).toBe(0);
    const d = p.driver;
    d.setStatus(0);
    d.setStatus(1);
    d.setStatus(3);
    expect(d.readDeviceFeatures()).toBe(0n); // VERSION_1 is bit 32: not visible to a legacy driver
    d.writeDriverFeatures(0n);
    const features = { indirectDesc: false, eventIdx: false, inOrder: false };
    const q = createDriverQueue<string>(p.memory, legacyRingAllocator(p.allocator, 16), { size: 16, packed: false, features });
    expect(d.queueMaxSize(0)).toBe(256);
    d.setupQueue(0, q.config);
    expect(d.queueEnabled(0)).toBe(true);
    d.setStatus(7);
    expect(p.transport.state.status).toBe(7);
    const out = p.allocator.alloc(4, 8);
    const inn = p.allocator.alloc(4, 8);
    p.memory.write(out, Uint8Array.from([5, 6, 7, 8]));
    q.add([{ addr: out, len: 4 }], [{ addr: inn, len: 4 }], 'x');
    q.kick();
    d.notify(0);
    expect(d.takeInterrupt()).toEqual({ usedBuffer: true, configChange: false });
    expect(q.reap()).toEqual({ token: 'x', len: 4 });
    // A queue not laid out as one legacy block cannot be described by vq_info_block_legacy.
    const modern = createDriverQueue(p.memory, p.allocator, { size: 16, packed: false, features });
    expect(() => d.setupQueue(0, modern.config)).toThrow(CcwDriverError);
  });

  it('a transitional driver operates a device that rejects SET_VIRTIO_REV as revision 0', () => {
    const p = pair({ transitional: true, driver: { transitional: true }, setup: (q) => (q.css.reject = (cmd) => cmd === CCW_CMD_SET_VIRTIO_REV) });
    expect(p.driver.revision).toBe(0);
    expect(p.css.commands.filter((c) => c.cmd === CCW_CMD_SET_VIRTIO_REV).map((c) => c.result)).toEqual(['unit-check', 'unit-check', 'unit-check']);
  });

  it('a non-transitional driver gives up on a device that rejects every revision', () => {
    expect(() => pair({ setup: (q) => (q.css.reject = (cmd) => cmd === CCW_CMD_SET_VIRTIO_REV) })).toThrow(/no-revision/);
  });

  it('initialization fails cleanly when FEATURES_OK is refused', () => {
    const p = pair({ device: { features: featureMask(VIRTIO_F_EVENT_IDX) } });
    Object.assign(p.device, { validateFeatures: () => false });
    expect(() => initialize(p)).toThrow(DeviceInitError);
    expect(p.transport.state.status & 128).toBe(128); // FAILED
  });
});

describe('driver conformance', () => {
  it('[ccw.drv.1] accepts only control unit type 0x3832 and ignores device type and model', () => {
    const senseId = (cuType: number, devType: number, devModel: number) =>
      pair({
        setup: (p) => {
          const inner = p.css.startSubchannel.bind(p.css);
          p.css.startSubchannel = (schid, addr) => {
            const r = inner(schid, addr);
            const cda = p.memory.readU32(addr + 4);
            const ccw = p.memory.readU8(addr);
            if (ccw === CCW_CMD_SENSE_ID) {
              const a = ((cda & 0xff) << 24 | (cda & 0xff00) << 8 | (cda >>> 8) & 0xff00 | cda >>> 24) >>> 0;
              p.memory.write(a + 1, Uint8Array.from([cuType >> 8, cuType & 0xff, 0x12, devType >> 8, devType & 0xff, devModel]));
            }
            return r;
          };
        },
      });
    expect(senseId(VIRTIO_CCW_CU_TYPE, 0x3390, 0x0c).driver.deviceId).toBe(0x12);
    expect(() => senseId(0x3088, 0, 0)).toThrow(/not-virtio-ccw/);
  });

  it('[ccw.drv.2] every channel command carries the exact length of its data', () => {
    const p = pair({ device: { queues: 2 } });
    const dev = initialize(p, { queues: [{ index: 0, size: 16 }, { index: 1, size: 8 }] });
    roundTrip(p, dev, [1, 2]);
    dev.readConfig((c) => c.u32(4));
    dev.reset();
    for (const c of p.css.commands) {
      if (c.cmd === 0x22 || c.cmd === 0x21) continue; // configuration: offset + width bytes
      expect({ cmd: c.cmd, count: c.count }).toEqual({ cmd: c.cmd, count: commandLength[c.cmd] });
      expect(c.result).toBe('ok');
    }
  });

  it('[ccw.drv.3] tries the highest revision first and lower ones after a command reject', () => {
    const p = pair({ setup: (q) => (q.css.reject = (cmd, mem, cda) => cmd === CCW_CMD_SET_VIRTIO_REV && mem.readU8(cda + 1) === 2) });
    expect(p.driver.revision).toBe(1);
    const revs = p.css.commands.filter((c) => c.cmd === CCW_CMD_SET_VIRTIO_REV).map((c) => c.result);
    expect(revs).toEqual(['unit-check', 'ok']);
  });

  it('[ccw.drv.4] sets the revision before any other virtio-ccw command', () => {
    const p = pair();
    initialize(p);
    const virtio = p.css.commands.filter((c) => isVirtioCommand(c.cmd));
    expect(virtio[0].cmd).toBe(CCW_CMD_SET_VIRTIO_REV);
    expect(virtio.length).toBeGreaterThan(5);
  });

  it('[ccw.drv.5] selects no other revision once one was selected, across device resets', () => {
    const p = pair();
    const dev = initialize(p);
    dev.reset();
    initialize(p);
    const revs = p.css.commands.filter((c) => c.cmd === CCW_CMD_SET_VIRTIO_REV);
    expect(revs).toHaveLength(1);
    expect(p.transport.revision).toBe(2);
  });

  it('[ccw.drv.6] after a rejected WRITE_STATUS the driver assumes the previous status', () => {
    const p = pair({ driver: { maxRevision: 1 } });
    const d = p.driver;
    d.setStatus(0);
    d.setStatus(1);
    d.setStatus(3);
    d.writeDriverFeatures(0n); // no VERSION_1: FEATURES_OK is refused
    d.setStatus(11);
    expect(p.css.commands.at(-1)).toMatchObject({ cmd: CCW_CMD_WRITE_STATUS, result: 'unit-check' });
    expect(d.getStatus()).toBe(3);
  });

  it('[ccw.drv.7] with revision 2, reads device status after a configuration change', () => {
    const p = pair();
    const dev = initialize(p);
    const events: unknown[] = [];
    p.onInterrupt = () => events.push(dev.handleInterrupt());
    const before = p.css.commands.length;
    p.device.ctx!.needsReset(new Error('broken ring'));
    expect(p.css.commands.slice(before).map((c) => c.cmd)).toContain(CCW_CMD_READ_STATUS);
    expect(events).toEqual([{ usedBuffer: false, configChange: false, needsReset: true }]);
  });

  it('[ccw.drv.8] below revision 2 the driver never issues READ_STATUS', () => {
    const p = pair({ driver: { maxRevision: 1 } });
    const dev = initialize(p);
    p.onInterrupt = () => dev.handleInterrupt();
    roundTrip(p, dev, [1]);
    p.device.host!.configChanged();
    dev.reset();
    expect(p.css.commands.some((c) => c.cmd === CCW_CMD_READ_STATUS)).toBe(false);
    expect(p.transport.state.status).toBe(0);
  });

  it('[ccw.drv.9] clears the summary indicator before it takes the queue indicators', () => {
    const p = pair();
    const dev = initialize(p);
    const thinint = p.css.commands.find((c) => c.cmd === 0x73)!.data;
    const be = (o: number) => thinint.slice(o, o + 8).reduce((v, b) => v * 256 + b, 0);
    const summary = be(0);
    const bits = be(8);
    const order: string[] = [];
    const realStore = Atomics.store;
    const realExchange = Atomics.exchange;
    const store = vi.spyOn(Atomics, 'store').mockImplementation(((a: Uint8Array, i: number, v: number) => {
      if (a.byteOffset + i === summary) order.push('clear-summary');
      return realStore(a, i, v);
    }) as never);
    const exchange = vi.spyOn(Atomics, 'exchange').mockImplementation(((a: Uint8Array, i: number, v: number) => {
      if (a.byteOffset + i === bits) order.push('take-queue-bits');
      return realExchange(a, i, v);
    }) as never);
    try {
      p.onInterrupt = () => dev.handleInterrupt();
      roundTrip(p, dev, [1]);
    } finally {
      store.mockRestore();
      exchange.mockRestore();
    }
    expect(order).toEqual(['clear-summary', 'take-queue-bits']);
    expect(p.memory.readU8(summary)).toBe(0);
  });

  it('[ccw.drv.10] passes the host cookie of the previous notification', () => {
    const p = pair();
    const dev = initialize(p);
    roundTrip(p, dev, [1]);
    roundTrip(p, dev, [2]);
    roundTrip(p, dev, [3]);
    const n = p.css.notifications;
    expect(n.length).toBeGreaterThanOrEqual(3);
    expect(n[0].returned).toBeGreaterThan(0n);
    for (let i = 1; i < n.length; i++) expect(n[i].cookie).toBe(n[i - 1].returned);
  });

  it('[ccw.drv.11] a reset is complete when VDEV_RESET concludes; with revision 2 the driver verifies status 0', () => {
    const p = pair();
    const dev = initialize(p);
    const before = p.css.commands.length;
    dev.reset();
    const cmds = p.css.commands.slice(before).map((c) => c.cmd);
    expect(cmds).toEqual([0x33, CCW_CMD_READ_STATUS]);
    expect(p.transport.state.status).toBe(0);
  });

  it('the subchannel must exist', () => {
    const p = pair();
    expect(() => CcwDriverTransport.open({ css: p.css, schid: SCHID + 1, memory: p.memory, allocator: p.allocator })).toThrow(/not-virtio-ccw/);
  });
});

