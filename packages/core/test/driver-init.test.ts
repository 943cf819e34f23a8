import { describe, expect, it } from 'vitest';
import type { DriverQueue, GuestMemory } from '@virtio/ring';
import {
  DeviceInitError,
  featureMask,
  selectFeatures,
  resetDevice,
  type DriverDevice,
  type VirtioDevice,
  VIRTIO_CONFIG_S_ACKNOWLEDGE as ACK,
  VIRTIO_CONFIG_S_DRIVER as DRIVER,
  VIRTIO_CONFIG_S_FEATURES_OK as FEATURES_OK,
  VIRTIO_CONFIG_S_DRIVER_OK as DRIVER_OK,
  VIRTIO_CONFIG_S_FAILED as FAILED,
  VIRTIO_CONFIG_S_SUSPEND as SUSPEND,
  VIRTIO_F_VERSION_1,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_SR_IOV,
  VIRTIO_F_SUSPEND,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_ADMIN_VQ,
  VIRTIO_F_RING_PACKED,
} from '@virtio/core';
import { SpyTransport, init, loopback } from './driver-harness.js';

const V1 = featureMask(VIRTIO_F_VERSION_1);

/** Sends `bytes` through queue `index` of the echo device and returns what came back. */
function echo(dev: DriverDevice, memory: GuestMemory, bytes: number[], index = 0): { len: number; data: number[] } {
  const q = dev.queues[index] as DriverQueue<string>;
  memory.write(0x1000, Uint8Array.from(bytes));
  memory.write(0x2000, new Uint8Array(bytes.length));
  expect(q.add([{ addr: 0x1000, len: bytes.length }], [{ addr: 0x2000, len: bytes.length }], 'req')).toBe(true);
  dev.kick(index);
  const events = dev.handleInterrupt();
  expect(events.usedBuffer).toBe(true);
  const used = q.reap();
  expect(used?.token).toBe('req');
  const out = new Uint8Array(bytes.length);
  memory.read(0x2000, out);
  return { len: used!.len, data: [...out] };
}

describe('driver initialization over the loopback transport', () => {
  it('initializes the echo device and moves data through a real split ring', () => {
    const t = loopback();
    const dev = init(t);
    expect(t.state.status).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
    expect(dev.features).toBe(V1);
    expect(echo(dev, t.memory, [1, 2, 3, 4, 5])).toEqual({ len: 5, data: [1, 2, 3, 4, 5] });
    expect(t.device.readConfig(0, 4)).toBe(1);
  });

  it('echoes with EVENT_IDX and INDIRECT_DESC negotiated, on two queues', () => {
    const f = featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_INDIRECT_DESC);
    const t = loopback({ features: f, queues: 2 });
    const dev = init(t, { wantedFeatures: f, queues: [{ index: 0 }, { index: 1, size: 16 }] });
    expect(dev.features).toBe(V1 | f);
    expect(dev.queues[1]!.config.size).toBe(16);
    for (let i = 0; i < 40; i++) expect(echo(dev, t.memory, [i, i + 1], i % 2).data).toEqual([i, i + 1]);
  });

  it('echoes through packed rings when VIRTIO_F_RING_PACKED is negotiated', () => {
    const f = featureMask(VIRTIO_F_RING_PACKED);
    const t = loopback({ features: f });
    const dev = init(t, { wantedFeatures: f, queues: [{ index: 0, size: 5 }] });
    expect(dev.queues[0]!.config).toMatchObject({ packed: true, size: 5 });
    for (let i = 0; i < 12; i++) expect(echo(dev, t.memory, [i, i]).data).toEqual([i, i]);
  });

  it('reset with I/O in flight over real rings: the late completion writes nothing to guest memory', () => {
    const t = loopback({ hold: true });
    const dev = init(t);
    t.memory.write(0x1000, Uint8Array.of(1, 2));
    dev.queues[0]!.add([{ addr: 0x1000, len: 2 }], [{ addr: 0x2000, len: 2 }], 'x');
    dev.kick(0);
    expect(t.device.held.length).toBe(1);
    const stale = t.device.ctx!;
    const { chain } = t.device.held[0];
    const usedRing = dev.queues[0]!.config.deviceArea;
    dev.reset();
    const before = new Uint8Array(t.memory.view(0, 0x40000));
    stale.queues[0]!.push(chain, 2);
    stale.queues[0]!.needsNotification(); // a device ends its batch: still nothing may reach the ring
    stale.interrupt.usedBuffer(0);
    expect(new Uint8Array(t.memory.view(0, 0x40000))).toEqual(before);
    expect(t.memory.readU16(usedRing + 2)).toBe(0);
    expect(t.transport.takeInterrupt()).toEqual({ usedBuffer: false, configChange: false });
  });

  it('[basic.drv.14] [basic.drv.1] follows the sequence: reset, ACKNOWLEDGE, DRIVER, features, FEATURES_OK, re-read, queues, DRIVER_OK, never clearing a bit', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    init(t, {}, spy);
    expect(spy.statusWrites).toEqual([0, ACK, ACK | DRIVER, ACK | DRIVER | FEATURES_OK, ACK | DRIVER | FEATURES_OK | DRIVER_OK]);
    const names = spy.calls.map((c) => c[0]);
    const at = (name: string, from = 0) => names.indexOf(name, from);
    const featuresOk = spy.calls.findIndex((c) => c[0] === 'setStatus' && c[1] === (ACK | DRIVER | FEATURES_OK));
    expect(at('readDeviceFeatures')).toBeLessThan(at('writeDriverFeatures'));
    expect(at('writeDriverFeatures')).toBeLessThan(featuresOk);
    expect(names[featuresOk + 1]).toBe('getStatus');
    expect(at('setupQueue')).toBeGreaterThan(featuresOk);
    expect(at('setupQueue')).toBeLessThan(names.lastIndexOf('setStatus'));
  });

  it('[basic.drv.7] considers a reset complete only when device status reads 0', () => {
    const t = loopback();
    let reads = 0;
    const slow = new SpyTransport(t.transport, { getStatus: () => (++reads < 3 ? ACK : 0) });
    resetDevice(slow);
    expect(reads).toBe(3);
    const stuck = new SpyTransport(t.transport, { getStatus: () => ACK });
    expect(() => resetDevice(stuck)).toThrow(DeviceInitError);
  });

  it('[basic.drv.15] may read but never writes the configuration space before FEATURES_OK', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    let seen = -1;
    init(t, {
      checkConfig: (cfg, offered) => {
        seen = cfg.u32(0);
        return offered === V1;
      },
    }, spy);
    expect(seen).toBe(0);
    expect(spy.calls.some((c) => c[0] === 'writeConfig')).toBe(false);
  });

  it('[basic.drv.9] never reads the configuration space on its own: only the driver\'s callbacks do, given the offered features', () => {
    const t = loopback({ features: featureMask(3) });
    const spy = new SpyTransport(t.transport);
    let offeredSeen = 0n;
    init(t, { checkConfig: (_cfg, offered) => ((offeredSeen = offered), true) }, spy);
    expect(offeredSeen).toBe(V1 | featureMask(3));
    expect(spy.calls.some((c) => c[0] === 'readConfig')).toBe(false);
  });

  it('[basic.drv.16] writes no feature bits after FEATURES_OK', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    init(t, {}, spy);
    const featuresOk = spy.calls.findIndex((c) => c[0] === 'setStatus' && ((c[1] as number) & FEATURES_OK) !== 0);
    expect(spy.calls.slice(featuresOk).some((c) => c[0] === 'writeDriverFeatures')).toBe(false);
  });

  it('[basic.drv.17] [basic.drv.5] sets FAILED and stops when a required feature is not offered', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    const err = (() => {
      try {
        init(t, { wantedFeatures: featureMask(VIRTIO_F_EVENT_IDX), requiredFeatures: featureMask(VIRTIO_F_EVENT_IDX) }, spy);
      } catch (e) {
        return e as DeviceInitError;
      }
    })();
    expect(err?.code).toBe('missing-features');
    expect(t.state.status & FAILED).toBe(FAILED);
    expect(spy.calls.some((c) => c[0] === 'setupQueue' || c[0] === 'writeDriverFeatures')).toBe(false);
    expect(t.state.status & DRIVER_OK).toBe(0);
  });

  it('[basic.drv.17] sets FAILED when the device refuses FEATURES_OK', () => {
    const t = loopback();
    (t.device as VirtioDevice).validateFeatures = () => false;
    expect(() => init(t)).toThrow(/features-rejected/);
    expect(t.state.status).toBe(ACK | DRIVER | FAILED);
  });

  it('[basic.drv.17] sets FAILED when the configuration check refuses the device, and when a queue is missing', () => {
    const a = loopback();
    expect(() => init(a, { checkConfig: () => false })).toThrow(/config-rejected/);
    expect(a.state.status & FAILED).toBe(FAILED);
    const b = loopback();
    expect(() => init(b, { queues: [{ index: 3 }] })).toThrow(/queue-unavailable/);
    expect(b.state.status & (FAILED | DRIVER_OK)).toBe(FAILED);
  });

  it('[basic.drv.18] sends no available buffer notification before DRIVER_OK, even for buffers added during set-up', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    const dev = init(t, {
      setup: (queues) => {
        t.memory.write(0x1000, Uint8Array.of(9, 8, 7));
        queues[0]!.add([{ addr: 0x1000, len: 3 }], [{ addr: 0x2000, len: 3 }], 'early');
      },
    }, spy);
    const driverOk = spy.calls.findIndex((c) => c[0] === 'setStatus' && ((c[1] as number) & DRIVER_OK) !== 0);
    const firstNotify = spy.calls.findIndex((c) => c[0] === 'notify');
    expect(firstNotify).toBeGreaterThan(driverOk);
    expect(t.state.counters.ignoredWrites).toBe(0);
    expect(dev.handleInterrupt().usedBuffer).toBe(true);
    expect(dev.queues[0]!.reap()).toEqual({ token: 'early', len: 3 });
  });

  it('[basic.drv.24] accepts VIRTIO_F_VERSION_1 whenever offered', () => {
    expect(selectFeatures(V1 | 1n, 1n, 'mmio')).toBe(V1 | 1n);
  });

  it('[basic.drv.3] never accepts a feature the device did not offer, nor one whose requirement was not accepted', () => {
    const offered = V1 | featureMask(1, 2);
    expect(selectFeatures(offered, featureMask(1, 2, 3), 'mmio')).toBe(V1 | featureMask(1, 2));
    // 2 requires 5 (not offered); 1 requires 2 -> both dropped.
    expect(selectFeatures(offered, featureMask(1, 2, 5), 'mmio', [[2, 5], [1, 2]])).toBe(V1);
  });

  it('[basic.drv.4] [basic.drv.28] ignores reserved and transport-unsupported bits even when offered and wanted', () => {
    const all = (1n << 128n) - 1n;
    const accepted = selectFeatures(all, all, 'mmio');
    for (const bit of [25, 26, 30, 31, 44, 49, VIRTIO_F_SR_IOV, VIRTIO_F_ADMIN_VQ]) {
      expect((accepted >> BigInt(bit)) & 1n).toBe(0n);
    }
    expect((selectFeatures(all, all, 'pci') >> BigInt(VIRTIO_F_SR_IOV)) & 1n).toBe(1n);
  });

  it('[basic.drv.6] does not fail because the device offers features it does not understand', () => {
    const t = loopback({ features: featureMask(5, 60) });
    const dev = init(t);
    expect(dev.features).toBe(V1);
  });

  it('never accepts VIRTIO_F_NOTIFICATION_DATA (kick sends plain queue indices)', () => {
    const t = loopback({ features: featureMask(VIRTIO_F_NOTIFICATION_DATA) });
    expect(init(t, { wantedFeatures: featureMask(VIRTIO_F_NOTIFICATION_DATA) }).features).toBe(V1);
  });
});

describe('driver operation', () => {
  it('[basic.drv.8] re-reads configuration fields while the generation changes', () => {
    const t = loopback();
    const dev = init(t);
    t.state.writeConfig(4, 4, 0x1111);
    let first = true;
    const value = dev.readConfig((cfg) => {
      const v = cfg.u32(4);
      if (first) {
        first = false;
        t.state.writeConfig(4, 4, 0x2222);
        t.device.host!.configChanged();
      }
      return v;
    });
    expect(value).toBe(0x2222);
  });

  it('[basic.drv.8] reads 64-bit fields as two 32-bit reads and gives up on a generation that never settles', () => {
    const t = loopback();
    const dev = init(t);
    t.state.writeConfig(4, 4, 0xabcdef01);
    expect(dev.readConfig((cfg) => cfg.u64(0))).toBe(0xabcdef01_00000000n);
    expect(() => dev.readConfig(() => t.device.host!.configChanged())).toThrow(/config-unstable/);
  });

  it('[basic.drv.2] reports DEVICE_NEEDS_RESET from a configuration change and recovers by reset', () => {
    const t = loopback();
    const dev = init(t);
    t.device.ctx!.needsReset(new Error('ring broken'));
    const events = dev.handleInterrupt();
    expect(events).toEqual({ usedBuffer: false, configChange: false, needsReset: true });
    expect(dev.needsReset).toBe(true);
    dev.reset();
    expect(t.state.status).toBe(0);
    const again = init(t);
    expect(echo(again, t.memory, [7]).data).toEqual([7]);
  });

  it('reports a plain configuration change', () => {
    const t = loopback();
    const dev = init(t);
    t.device.host!.configChanged();
    expect(dev.handleInterrupt()).toEqual({ usedBuffer: false, configChange: true, needsReset: false });
  });

  it('[basic.drv.11] [basic.drv.13] resets a queue, verifies it, and re-enables it with another size', () => {
    const rr = featureMask(VIRTIO_F_RING_RESET);
    const t = loopback({ features: rr });
    const dev = init(t, { wantedFeatures: rr });
    echo(dev, t.memory, [1]);
    dev.resetQueue(0);
    expect(dev.queues[0]).toBeUndefined();
    expect(t.state.queue(0)!.enabled).toBe(false);
    const q = dev.reenableQueue(0, { memory: t.memory, allocator: t.allocator, size: 8 });
    expect(q.config.size).toBe(8);
    expect(echo(dev, t.memory, [4, 5]).data).toEqual([4, 5]);
  });

  it('[basic.drv.11] reports a queue reset the device did not complete', () => {
    const rr = featureMask(VIRTIO_F_RING_RESET);
    const t = loopback({ features: rr });
    const spy = new SpyTransport(t.transport, { resetQueue: () => false });
    const dev = init(t, { wantedFeatures: rr }, spy);
    expect(() => dev.resetQueue(0)).toThrow(/queue-reset-failed/);
    const plain = init(loopback());
    expect(() => plain.resetQueue(0)).toThrow(/not negotiated/);
  });

  it('[basic.drv.20] after reset no queue is live and kicks notify nothing', () => {
    const t = loopback();
    const spy = new SpyTransport(t.transport);
    const dev = init(t, {}, spy);
    const q = dev.queues[0]!;
    dev.reset();
    expect(t.state.status).toBe(0);
    q.add([{ addr: 0x1000, len: 1 }], [], 'x');
    const before = spy.calls.length;
    expect(dev.kick(0)).toBe(false);
    expect(spy.calls.length).toBe(before);
  });

  it('[basic.drv.22] [basic.drv.23] suspends (verifying SUSPEND=1, DRIVER_OK=0), sends no notifications, and resumes', () => {
    const sus = featureMask(VIRTIO_F_SUSPEND);
    const t = loopback({ features: sus });
    const spy = new SpyTransport(t.transport);
    const dev = init(t, { wantedFeatures: sus }, spy);
    dev.suspend();
    expect(dev.suspended).toBe(true);
    expect(t.state.status & (SUSPEND | DRIVER_OK)).toBe(SUSPEND);
    const q = dev.queues[0]!;
    t.memory.write(0x1000, Uint8Array.of(3));
    q.add([{ addr: 0x1000, len: 1 }], [{ addr: 0x2000, len: 1 }], 'held');
    const notifies = spy.calls.filter((c) => c[0] === 'notify').length;
    expect(dev.kick(0)).toBe(false);
    expect(spy.calls.filter((c) => c[0] === 'notify').length).toBe(notifies);
    dev.resume();
    expect(t.state.status & (SUSPEND | DRIVER_OK)).toBe(DRIVER_OK);
    dev.kick(0);
    expect(dev.handleInterrupt().usedBuffer).toBe(true);
    expect(q.reap()).toEqual({ token: 'held', len: 1 });
  });

  it('[basic.drv.21] refuses to suspend when VIRTIO_F_SUSPEND was not negotiated', () => {
    const t = loopback({ features: featureMask(VIRTIO_F_SUSPEND) });
    const dev = init(t);
    expect(() => dev.suspend()).toThrow(/suspend-failed/);
    expect(t.state.status & SUSPEND).toBe(0);
  });
});
