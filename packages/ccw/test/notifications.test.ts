import { describe, expect, it } from 'vitest';
import {
  CCW_CMD_SET_CONF_IND,
  CCW_CMD_SET_IND,
  CCW_CMD_SET_IND_ADAPTER,
  CCW_CMD_VDEV_RESET,
  ChannelSubsystem,
  VIRTIO_CCW_NOTIFY_ERROR,
} from '../src/index.js';
import { encodeNotificationData, featureMask, VIRTIO_F_NOTIFICATION_DATA } from '@virtio/core';
import { OK, REJECT, bringUp, echo, fixture, type Fixture } from './fixture.js';
import { be64 } from './guest.js';

function classic(f: Fixture): { ind: number; conf: number } {
  if (f.transport.revision === undefined) f.setRevision(2);
  const ind = f.guest.alloc(8);
  const conf = f.guest.alloc(8);
  expect(f.cmd(CCW_CMD_SET_IND, be64(ind))).toMatchObject(OK);
  expect(f.cmd(CCW_CMD_SET_CONF_IND, be64(conf))).toMatchObject(OK);
  return { ind, conf };
}

function adapter(f: Fixture, bitNr: number, isc = 3): { summary: number; area: number } {
  const summary = f.guest.alloc(1);
  const area = f.guest.alloc(16);
  expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(summary), ...be64(area), ...be64(bitNr), isc])).toMatchObject(OK);
  return { summary, area };
}

describe('classic indicators (spec 4.3.3.1.1)', () => {
  it('sets the queue bit in the big-endian u64 and raises one I/O interrupt until the guest tests the subchannel', () => {
    const f = fixture({ device: { queues: 2 } });
    const { ind } = classic(f);
    const queue = bringUp(f);
    echo(f, queue, [7]);
    expect(f.guest.bytes(ind, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(f.irq.io).toBe(1);
    queue.reap();
    // Still pending: a second used buffer sets the bit but raises no new interrupt.
    echo(f, queue, [8], 2);
    expect(f.irq.io).toBe(1);
    expect(f.transport.testSubchannel()).toBe(true);
    expect(f.transport.testSubchannel()).toBe(false);
    echo(f, queue, [9], 3);
    expect(f.irq.io).toBe(2);
    // Queue 1's bit is bit 1 of the value.
    f.device.ctx!.interrupt.usedBuffer(1);
    expect(f.guest.memory.readU8(ind + 7)).toBe(1);
  });

  it('configuration changes set bit 0 of the configuration indicators', () => {
    const f = fixture();
    const { ind, conf } = classic(f);
    bringUp(f);
    f.device.host!.configChanged();
    expect(f.guest.bytes(conf, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 1]);
    expect(f.guest.bytes(ind, 8)).toEqual([0, 0, 0, 0, 0, 0, 0, 0]);
    expect(f.irq.io).toBe(1);
  });

  it('without registered indicators a used buffer notification is dropped and counted', () => {
    const f = fixture();
    const queue = bringUp(f);
    echo(f, queue, [1]);
    expect(f.irq).toEqual({ io: 0, adapter: [] });
    expect(f.transport.state.counters.droppedNotifications).toBe(1);
    expect(queue.reap()).toEqual({ token: 1, len: 1 });
  });

  it('SET_IND with indicators outside guest memory is a command reject', () => {
    const f = fixture();
    f.setRevision(1);
    expect(f.cmd(CCW_CMD_SET_IND, be64(f.guest.memory.size - 4))).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_IND, be64(2n ** 60n))).toMatchObject(REJECT);
  });
});

describe('two-stage indicators (spec 4.3.3.1.2)', () => {
  it('sets the queue bit counted from the most significant bit, the summary byte, and raises an adapter interrupt', () => {
    const f = fixture();
    f.setRevision(2);
    const { summary, area } = adapter(f, 13, 5);
    const queue = bringUp(f, 2);
    echo(f, queue, [1]);
    // bit 13: byte 1, mask 0x80 >> 5.
    expect(f.guest.bytes(area, 3)).toEqual([0, 0x04, 0]);
    expect(f.guest.memory.readU8(summary)).toBe(1);
    expect(f.irq).toEqual({ io: 0, adapter: [5] });
  });

  it('[ccw.dev.12] raises an adapter interrupt only when the summary indicator was not already set', () => {
    const f = fixture();
    f.setRevision(2);
    const { summary } = adapter(f, 0);
    const queue = bringUp(f, 2);
    echo(f, queue, [1]);
    echo(f, queue, [2], 2);
    expect(f.irq.adapter).toHaveLength(1);
    f.guest.memory.writeU8(summary, 0);
    echo(f, queue, [3], 3);
    expect(f.irq.adapter).toHaveLength(2);
  });

  it('[ccw.dev.11] SET_IND_ADAPTER after SET_IND is a command reject, and SET_IND after SET_IND_ADAPTER', () => {
    const f = fixture();
    f.setRevision(2);
    expect(f.cmd(CCW_CMD_SET_IND, be64(f.guest.alloc(8)))).toMatchObject(OK);
    const a = [...be64(f.guest.alloc(1)), ...be64(f.guest.alloc(8)), ...be64(0), 0];
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, a)).toMatchObject(REJECT);

    const g = fixture();
    g.setRevision(2);
    adapter(g, 0);
    expect(g.cmd(CCW_CMD_SET_IND, be64(g.guest.alloc(8)))).toMatchObject(REJECT);
  });

  it('rejects a thinint area outside guest memory, a bit number past it, an isc above 7, or not 25 bytes', () => {
    const f = fixture();
    f.setRevision(2);
    const s = f.guest.alloc(1);
    const i = f.guest.alloc(8);
    const size = f.guest.memory.size;
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(size), ...be64(i), ...be64(0), 0])).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(s), ...be64(i), ...be64(BigInt(size) * 8n), 0])).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(s), ...be64(i), ...be64(2n ** 63n), 0])).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(s), ...be64(i), ...be64(0), 8])).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(s), ...be64(i), ...be64(0), 0, 0])).toMatchObject({ status: 'incorrect-length' });
    expect(f.cmd(CCW_CMD_SET_IND_ADAPTER, [...be64(s), ...be64(i), ...be64(0), 7])).toMatchObject(OK);
  });
});

function expose(f: Fixture, queue: ReturnType<typeof bringUp>, token: number): void {
  queue.add([{ addr: f.guest.data([token]), len: 1 }], [{ addr: f.guest.alloc(1), len: 1 }], token);
  queue.kick();
}

describe('guest->host notification (spec 4.3.3.2)', () => {
  function css(): { f: Fixture; cs: ChannelSubsystem; schid: number; queue: ReturnType<typeof bringUp> } {
    const f = fixture();
    const cs = new ChannelSubsystem();
    const schid = 0x0001_0042;
    cs.attach(schid, f.transport);
    const queue = bringUp(f);
    return { f, cs, schid, queue };
  }

  it('[ccw.dev.13] ignores bits 0-31 of GPR2', () => {
    const { f, cs, schid, queue } = css();
    expose(f, queue, 1);
    const gpr2 = (0xdead_beefn << 32n) | BigInt(schid);
    expect(cs.notify(gpr2, 0, -1n)).toBeGreaterThanOrEqual(0n);
    expect(queue.reap()).toEqual({ token: 1, len: 1 });
    expose(f, queue, 2);
    expect(cs.notify(0x1_0000_0000 * 7 + schid, 0, -1n)).toBeGreaterThanOrEqual(0n);
    expect(queue.reap()).toEqual({ token: 2, len: 1 });
  });

  it('[ccw.dev.14] returns a per-subchannel host cookie; any cookie passed back still reaches the right device', () => {
    const cs = new ChannelSubsystem();
    const other = fixture();
    cs.attach(0x0001_0001, other.transport);
    const otherQueue = bringUp(other);
    const f = fixture();
    const schid = 0x0001_0042;
    cs.attach(schid, f.transport);
    const queue = bringUp(f);
    expose(other, otherQueue, 1);
    const otherCookie = cs.notify(0x0001_0001, 0, 0n);
    expose(f, queue, 1);
    const cookie = cs.notify(schid, 0, 0n);
    expect(otherCookie).toBeGreaterThanOrEqual(0n);
    expect(cookie).toBeGreaterThanOrEqual(0n);
    expect(cookie).not.toBe(otherCookie);
    // The cookie is stable, and a stale or foreign cookie does not misdirect the notification.
    for (const passed of [cookie, otherCookie, 12345n, -1n]) {
      expose(f, queue, 2);
      expect(cs.notify(schid, 0, passed)).toBe(cookie);
    }
    expect(f.device.notifications).toHaveLength(5);
    expect(other.device.notifications).toHaveLength(1);
  });

  it('passes a VIRTIO_F_NOTIFICATION_DATA value in GPR3 to the device', () => {
    const f = fixture({ device: { features: featureMask(VIRTIO_F_NOTIFICATION_DATA) } });
    const cs = new ChannelSubsystem();
    cs.attach(0x0001_0000, f.transport);
    const queue = bringUp(f, 2, 1 | (1 << (VIRTIO_F_NOTIFICATION_DATA - 32)));
    expose(f, queue, 1);
    const data = encodeNotificationData({ vqIndex: 0, nextOff: 1, nextWrap: 0 });
    expect(cs.notify(0x0001_0000, data, 0n)).toBeGreaterThanOrEqual(0n);
    expect(f.device.notifications).toEqual([{ queue: 0, data }]);
    expect(queue.reap()).toEqual({ token: 1, len: 1 });
    // The queue index is the low 16 bits: a queue the device does not have is refused.
    expect(cs.notify(0x0001_0000, encodeNotificationData({ vqIndex: 5, nextOff: 1, nextWrap: 0 }), 0n)).toBe(VIRTIO_CCW_NOTIFY_ERROR);
  });

  it('returns an error for an unknown subchannel or queue, or data without VIRTIO_F_NOTIFICATION_DATA', () => {
    const { f, cs, schid } = css();
    expect(cs.notify(0x0001_0099, 0, 0n)).toBe(VIRTIO_CCW_NOTIFY_ERROR);
    expect(cs.notify(schid, 1, 0n)).toBe(VIRTIO_CCW_NOTIFY_ERROR);
    expect(cs.notify(schid, 0x0005_0000, 0n)).toBe(VIRTIO_CCW_NOTIFY_ERROR);
    expect(f.device.notifications).toHaveLength(0);
  });
});

describe('reset (spec 4.3.3.3)', () => {
  it('[ccw.dev.15] VDEV_RESET has reset the device and zeroed the status when it concludes', () => {
    const f = fixture();
    bringUp(f);
    expect(f.readStatus()).toBe(15);
    expect(f.cmd(CCW_CMD_VDEV_RESET)).toMatchObject(OK);
    expect(f.device.resets).toBe(1);
    expect(f.device.ctx).toBeUndefined();
    expect(f.readStatus()).toBe(0);
    expect(f.transport.state.queue(0)!.enabled).toBe(false);
  });

  it('[ccw.dev.16] after VDEV_RESET the device sends no notifications and leaves the queues alone', () => {
    const f = fixture({ device: { hold: true } });
    const { ind, conf } = classic(f);
    const queue = bringUp(f);
    const ctx = f.device.ctx!;
    const inAddr = f.guest.alloc(4);
    queue.add([{ addr: f.guest.data([1, 2, 3, 4]), len: 4 }], [{ addr: inAddr, len: 4 }], 1);
    queue.kick();
    f.transport.notify(0);
    expect(f.device.held).toHaveLength(1);
    const chain = f.device.held[0].chain;
    const oldQueue = ctx.queues[0]!;
    expect(f.cmd(CCW_CMD_VDEV_RESET)).toMatchObject(OK);
    // A late completion from before the reset: no used element, no indicator, no interrupt.
    oldQueue.push(chain, 4);
    oldQueue.needsNotification(); // a device ends its batch: still nothing may reach the ring
    ctx.interrupt.usedBuffer(0);
    ctx.interrupt.configChange();
    f.device.host!.configChanged();
    expect(queue.reap()).toBeNull();
    expect(f.guest.bytes(ind, 8)).toEqual(new Array(8).fill(0));
    expect(f.guest.bytes(conf, 8)).toEqual(new Array(8).fill(0));
    expect(f.irq.io).toBe(0);
    expect(f.transport.notify(0)).toBe(true);
    expect(f.device.notifications).toHaveLength(1);
  });
});
