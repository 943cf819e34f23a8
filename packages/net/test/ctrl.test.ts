// The control queue: receive modes, MAC table, MAC address, VLAN filter, announce, multiqueue;
// every command acked VIRTIO_NET_OK or VIRTIO_NET_ERR.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_CONTROL_EXTRA_FEATURES,
  NET_DRIVER_FEATURES,
  NetDriverError,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLUNI,
  VIRTIO_NET_CTRL_RX_NOBCAST,
  VIRTIO_NET_CTRL_RX_NOMULTI,
  VIRTIO_NET_CTRL_RX_NOUNI,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_S_ANNOUNCE,
} from '../src/index.js';
import { BROADCAST, ethFrame, rawCommand, rig, RING_MODES } from './harness.js';

const OTHER = [0x02, 0x11, 0x22, 0x33, 0x44, 0x55];
const MCAST = [0x01, 0x00, 0x5e, 0x00, 0x00, 0x01];
const MCAST2 = [0x33, 0x33, 0x00, 0x00, 0x00, 0x01];

function vlanFrame(vid: number, dst: number[] = BROADCAST): Uint8Array {
  const f = ethFrame(64, vid, dst);
  f[12] = 0x81;
  f[13] = 0x00;
  f[14] = vid >>> 8;
  f[15] = vid & 0xff;
  return f;
}

describe.each(RING_MODES)('control queue over $name', ({ ring }) => {
  it('[net.dev.57] PROMISC off filters other unicast; ALLMULTI lets every multicast through', async () => {
    const r = rig({ ring });
    r.callback.deliver(ethFrame(60, 1, OTHER));
    expect(r.received).toHaveLength(1); // promiscuous until the driver says otherwise
    expect(await r.driver.setPromisc(false)).toBe(true);
    r.callback.deliver(ethFrame(60, 2, OTHER));
    r.callback.deliver(ethFrame(60, 3, MCAST));
    r.callback.deliver(ethFrame(60, 4)); // our MAC
    r.callback.deliver(ethFrame(60, 5, BROADCAST));
    expect(r.received.slice(1).map((x) => x.frame)).toEqual([ethFrame(60, 4), ethFrame(60, 5, BROADCAST)]);
    expect(await r.driver.setAllmulti(true)).toBe(true);
    r.callback.deliver(ethFrame(60, 6, MCAST));
    expect(r.received).toHaveLength(4);
    expect(r.received[3].frame).toEqual(ethFrame(60, 6, MCAST));
    expect(await r.driver.setPromisc(true)).toBe(true);
    r.callback.deliver(ethFrame(60, 7, OTHER));
    expect(r.received).toHaveLength(5);
  });

  it('[net.dev.60] [net.dev.62] [net.drv.52] the MAC table is in force once the command is used', async () => {
    const r = rig({ ring });
    await r.driver.setPromisc(false);
    expect(await r.driver.setMacTable([Uint8Array.from(OTHER)], [Uint8Array.from(MCAST)])).toBe(true);
    r.callback.deliver(ethFrame(60, 1, OTHER));
    r.callback.deliver(ethFrame(60, 2, MCAST));
    r.callback.deliver(ethFrame(60, 3, MCAST2));
    r.callback.deliver(ethFrame(60, 4, [0x02, 9, 9, 9, 9, 9]));
    expect(r.received.map((x) => x.frame)).toEqual([ethFrame(60, 1, OTHER), ethFrame(60, 2, MCAST)]);
    expect(r.device.stats.rxFiltered).toBe(2);
    expect(await r.driver.setMacTable([], [])).toBe(true);
    r.callback.deliver(ethFrame(60, 5, OTHER));
    expect(r.received).toHaveLength(2);
  });

  it('[net.dev.61] MAC_ADDR_SET updates mac in config space before the command is used', async () => {
    const r = rig({ ring });
    const mac = Uint8Array.of(0x02, 0xaa, 0xbb, 0xcc, 0xdd, 0xee);
    expect(await r.driver.setMac(mac)).toBe(true);
    expect(r.driver.device.readConfig((c) => Array.from({ length: 6 }, (_, i) => c.u8(i)))).toEqual(Array.from(mac));
    expect(r.device.mac).toEqual(mac);
    await r.driver.setPromisc(false);
    r.callback.deliver(ethFrame(60, 1, Array.from(mac)));
    r.callback.deliver(ethFrame(60, 2)); // the old address
    expect(r.received).toHaveLength(1);
  });

  it('[net.dev.64] with CTRL_VLAN, tagged frames pass only for VLANs in the table', async () => {
    const r = rig({ ring });
    r.callback.deliver(vlanFrame(5));
    expect(r.received).toHaveLength(0);
    expect(await r.driver.setVlan(5, true)).toBe(true);
    r.callback.deliver(vlanFrame(5));
    r.callback.deliver(vlanFrame(6));
    expect(r.received.map((x) => x.frame)).toEqual([vlanFrame(5)]);
    expect(await r.driver.setVlan(5, false)).toBe(true);
    r.callback.deliver(vlanFrame(5));
    expect(r.received).toHaveLength(1);
  });

  it('[net.dev.63] without CTRL_VLAN every tagged frame is accepted', () => {
    const r = rig({ ring, driverFeatures: NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_CTRL_VLAN) });
    r.callback.deliver(vlanFrame(5));
    r.callback.deliver(vlanFrame(4000));
    expect(r.received).toHaveLength(2);
  });

  it('[net.dev.66] [net.drv.55] the driver acknowledges an announce request; ANNOUNCE_ACK clears VIRTIO_NET_S_ANNOUNCE', async () => {
    const r = rig({ ring });
    expect(r.device.announce()).toBe(true);
    expect(r.configChanges()).toBe(1);
    await Promise.resolve();
    expect(r.driver.announceRequested).toBe(false);
    expect(r.device.readConfig(6, 2) & VIRTIO_NET_S_ANNOUNCE).toBe(0);
    expect(r.device.announce()).toBe(true);
    expect(await r.driver.ackAnnounce()).toBe(true);
    expect(r.driver.announceRequested).toBe(false);
    expect(r.driver.device.readConfig((c) => c.u16(6)) & VIRTIO_NET_S_ANNOUNCE).toBe(0);
  });

  it('answers VIRTIO_NET_ERR to commands it does not support and to bad arguments', async () => {
    const r = rig({ ring, queuePairs: 2 });
    expect(await r.driver.setQueuePairs(2)).toBe(true);
    // Bypass the driver's own checks to reach the device with a bad value.
    const raw = r.driver as unknown as { setQueuePairs(n: number): Promise<boolean> };
    Object.defineProperty(r.driver, 'maxPairs', { value: 9 });
    expect(await raw.setQueuePairs(3)).toBe(false);
    expect(r.driver.activePairs).toBe(2);
  });
});

describe('multiqueue', () => {
  function ipv4Flow(i: number): Uint8Array {
    const f = ethFrame(80, i);
    f[12] = 0x08;
    f[13] = 0x00;
    f[26] = 10;
    f[29] = i; // source address
    f[34] = i >>> 8;
    f[35] = i; // source port
    return f;
  }

  it('[net.dev.67] [net.dev.68] [net.drv.44] [net.drv.56] receives on receiveq1 until VQ_PAIRS_SET, then spreads over the active pairs only', async () => {
    const r = rig({ queuePairs: 4 });
    expect(r.driver.maxPairs).toBe(4);
    // [net.drv.56]: every queue is configured before VQ_PAIRS_SET.
    for (let i = 0; i <= 8; i++) expect(r.driver.device.queues[i]).toBeDefined();
    for (let i = 0; i < 32; i++) r.callback.deliver(ipv4Flow(i));
    expect(new Set(r.received.map((x) => x.pair))).toEqual(new Set([0]));
    expect(await r.driver.setQueuePairs(3)).toBe(true);
    r.received.length = 0;
    for (let i = 0; i < 64; i++) r.callback.deliver(ipv4Flow(i));
    const pairs = new Set(r.received.map((x) => x.pair));
    expect(pairs.size).toBeGreaterThan(1);
    expect([...pairs].every((p) => p < 3)).toBe(true);
    expect(r.received).toHaveLength(64);
  });

  it('[net.drv.57] [net.drv.58] [net.drv.59] the driver refuses 0 or too many pairs and transmit queues beyond the active pairs', async () => {
    const r = rig({ queuePairs: 2 });
    await expect(r.driver.setQueuePairs(0)).rejects.toThrow(NetDriverError);
    await expect(r.driver.setQueuePairs(3)).rejects.toThrow(/net.drv.57/);
    expect(() => r.driver.send(ethFrame(60), undefined, 1)).toThrow(NetDriverError);
    await r.driver.setQueuePairs(2);
    expect(r.driver.send(ethFrame(60, 2), undefined, 1)).toBe(true);
    expect(r.sent[0].frame).toEqual(ethFrame(60, 2));
  });

  it('[net.dev.1] offers max_virtqueue_pairs only in 1..0x8000', () => {
    expect(() => rig({ queuePairs: 0 })).toThrow(RangeError);
    expect(() => rig({ queuePairs: 0x8001 })).toThrow(RangeError);
    const r = rig({ queuePairs: 3 });
    expect(r.driver.device.readConfig((c) => c.u16(8))).toBe(3);
  });

  it('without MQ negotiated the control queue is queue 2', async () => {
    const r = rig({ queuePairs: 2, driverFeatures: NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_MQ) });
    expect(r.driver.maxPairs).toBe(1);
    expect(await r.driver.setPromisc(false)).toBe(true);
  });
});

describe('driver-side checks of control commands', () => {
  it('[net.drv.48] [net.drv.50] no RX or MAC class commands without CTRL_RX', () => {
    const r = rig({ driverFeatures: NET_DRIVER_FEATURES & ~featureMask(VIRTIO_NET_F_CTRL_RX) });
    expect(() => r.driver.setPromisc(true)).toThrow(/net.drv.48/);
    expect(() => r.driver.setAllmulti(true)).toThrow(/net.drv.48/);
    expect(() => r.driver.setMacTable([], [])).toThrow(/net.drv.50/);
  });
});

describe('CTRL_RX_EXTRA receive modes', () => {
  const EXTRA = NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES;

  it('[net.dev.58] ALLUNI, NOMULTI, NOUNI and NOBCAST filter as the spec says, even against ALLMULTI / ALLUNI', async () => {
    const r = rig({ driverFeatures: EXTRA });
    await r.driver.setPromisc(false);
    const deliverAll = (seed: number) => {
      for (const dst of [OTHER, MCAST, BROADCAST, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]]) r.callback.deliver(ethFrame(60, seed, dst));
    };
    const got = () => r.received.splice(0).map((x) => Array.from(x.frame.subarray(0, 6)));
    deliverAll(1);
    expect(got()).toEqual([BROADCAST, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]]);
    expect(await r.driver.setRxExtra(VIRTIO_NET_CTRL_RX_ALLUNI, true)).toBe(true);
    deliverAll(2);
    expect(got()).toEqual([OTHER, BROADCAST, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]]);
    expect(await r.driver.setAllmulti(true)).toBe(true);
    expect(await r.driver.setRxExtra(VIRTIO_NET_CTRL_RX_NOMULTI, true)).toBe(true);
    deliverAll(3);
    expect(got()).toEqual([OTHER, BROADCAST, [0x52, 0x54, 0x00, 0x12, 0x34, 0x56]]); // NOMULTI beats ALLMULTI, not broadcast
    expect(await r.driver.setRxExtra(VIRTIO_NET_CTRL_RX_NOUNI, true)).toBe(true);
    deliverAll(4);
    expect(got()).toEqual([BROADCAST]); // NOUNI beats ALLUNI
    expect(await r.driver.setRxExtra(VIRTIO_NET_CTRL_RX_NOBCAST, true)).toBe(true);
    deliverAll(5);
    expect(got()).toEqual([]);
  });

  it('[net.drv.49] the driver does not send them without CTRL_RX_EXTRA; the device refuses them', async () => {
    const r = rig();
    expect(() => r.driver.setRxExtra(VIRTIO_NET_CTRL_RX_NOBCAST, true)).toThrow(/net\.drv\.49/);
    const ack = rawCommand(r, 2, Uint8Array.of(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_NOBCAST, 1));
    expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_ERR);
    r.callback.deliver(ethFrame(60, 1, BROADCAST));
    expect(r.received).toHaveLength(1);
  });
});
