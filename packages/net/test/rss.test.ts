// Receive-side scaling and hash reporting (spec 5.1.6.4.3-5, 5.1.6.5.6.4, 5.1.6.5.7): the
// hash capabilities in the configuration space, RSS_CONFIG / HASH_CONFIG validated on both
// sides, Toeplitz hashes of real IPv4 / IPv6 packets (Microsoft's vectors) steering through
// the indirection table and reported in struct virtio_net_hdr.
import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_CONFIG_S_FEATURES_OK } from '@virtio/core';
import {
  NET_CONTROL_EXTRA_FEATURES,
  NET_DRIVER_FEATURES,
  NetConfigOffset,
  NetDriverError,
  RSS_MAX_INDIRECTION_TABLE_LENGTH,
  SUPPORTED_TUNNEL_TYPES,
  VIRTIO_NET_CTRL_MQ,
  VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
  VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_HASH_REPORT_IPv4,
  VIRTIO_NET_HASH_REPORT_IPv6,
  VIRTIO_NET_HASH_REPORT_IPv6_EX,
  VIRTIO_NET_HASH_REPORT_NONE,
  VIRTIO_NET_HASH_REPORT_TCPv4,
  VIRTIO_NET_HASH_REPORT_TCPv6,
  VIRTIO_NET_HASH_REPORT_TCPv6_EX,
  VIRTIO_NET_HASH_REPORT_UDPv4,
  VIRTIO_NET_HASH_REPORT_UDPv6_EX,
  VIRTIO_NET_HASH_TYPE_ALL,
  VIRTIO_NET_HASH_TYPE_IP_EX,
  VIRTIO_NET_HASH_TYPE_IPv4,
  VIRTIO_NET_HASH_TYPE_IPv6,
  VIRTIO_NET_HASH_TYPE_TCP_EX,
  VIRTIO_NET_HASH_TYPE_TCPv4,
  VIRTIO_NET_HASH_TYPE_TCPv6,
  VIRTIO_NET_HASH_TYPE_UDP_EX,
  VIRTIO_NET_HASH_TYPE_UDPv4,
  VIRTIO_NET_HDR_HASH_SIZE,
  VIRTIO_NET_OK,
} from '../src/index.js';
import { ethFrame, rawCommand, rig, RING_MODES } from './harness.js';
import { homeAddressOption, ipv4Frame, ipv6Frame, routingType2, TCP, UDP } from './packets.js';
import { IPV4_VECTORS, IPV6_VECTORS, MS_KEY } from './rss-vectors.js';

const EXTRA = NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES;
const WITHOUT_HASH_REPORT = EXTRA & ~featureMask(VIRTIO_NET_F_HASH_REPORT);
const PAIRS = 4;
/** Entry i steers to pair i % 4. */
const TABLE = Array.from({ length: 128 }, (_, i) => i % PAIRS);

/** Raw struct virtio_net_rss_config. */
function rssBytes(o: { types?: number; table?: number[]; unclassified?: number; maxTx?: number; key?: Uint8Array; tail?: number } = {}): Uint8Array {
  const table = o.table ?? [0, 1];
  const key = o.key ?? MS_KEY;
  const b = new Uint8Array(2 + 11 + 2 * table.length + key.length + (o.tail ?? 0));
  const dv = new DataView(b.buffer);
  b[0] = VIRTIO_NET_CTRL_MQ;
  b[1] = VIRTIO_NET_CTRL_MQ_RSS_CONFIG;
  dv.setUint32(2, o.types ?? VIRTIO_NET_HASH_TYPE_TCPv4, true);
  dv.setUint16(6, table.length - 1, true);
  dv.setUint16(8, o.unclassified ?? 0, true);
  table.forEach((q, i) => dv.setUint16(10 + 2 * i, q, true));
  dv.setUint16(10 + 2 * table.length, o.maxTx ?? 1, true);
  b[12 + 2 * table.length] = key.length;
  b.set(key, 13 + 2 * table.length);
  return b;
}

describe('hash capabilities and feature offers', () => {
  it('[net.dev.7] [net.dev.8] rss_max_key_size >= 40, rss_max_indirection_table_length >= 128, every hash type supported', () => {
    const r = rig({ queuePairs: PAIRS, driverFeatures: EXTRA });
    expect(r.device.readConfig(NetConfigOffset.rss_max_key_size, 1)).toBeGreaterThanOrEqual(40);
    expect(r.device.readConfig(NetConfigOffset.rss_max_indirection_table_length, 2)).toBeGreaterThanOrEqual(128);
    expect(r.device.readConfig(NetConfigOffset.supported_hash_types, 4)).toBe(VIRTIO_NET_HASH_TYPE_ALL);
    expect(r.driver.rssLimits).toEqual({
      maxKeySize: 40,
      maxIndirectionTableLength: RSS_MAX_INDIRECTION_TABLE_LENGTH,
      supportedHashTypes: 0x1ff,
      supportedTunnelTypes: SUPPORTED_TUNNEL_TYPES,
      pairs: PAIRS,
    });
    expect(r.driver.hdrSize).toBe(VIRTIO_NET_HDR_HASH_SIZE);
  });

  it('[net.dev.13] [net.dev.14] without the control queue neither HASH_REPORT, RSS nor CTRL_RX_EXTRA is offered', () => {
    const r = rig({ controlQueue: false });
    const f = r.device.deviceFeatures;
    for (const bit of [VIRTIO_NET_F_HASH_REPORT, VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_RX_EXTRA]) expect(f & featureMask(bit)).toBe(0n);
    expect(rig().device.deviceFeatures & featureMask(VIRTIO_NET_F_HASH_REPORT, VIRTIO_NET_F_CTRL_RX_EXTRA)).not.toBe(0n);
  });

  it('[net.drv.10] [net.drv.11] the driver takes neither HASH_REPORT nor CTRL_RX_EXTRA without CTRL_VQ', () => {
    const r = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_CTRL_VQ) });
    expect(r.driver.features & featureMask(VIRTIO_NET_F_HASH_REPORT, VIRTIO_NET_F_CTRL_RX_EXTRA, VIRTIO_NET_F_RSS)).toBe(0n);
    expect(r.driver.hdrSize).toBe(12);
  });

  it('FEATURES_OK is refused for RSS accepted without CTRL_VQ', () => {
    const r = rig();
    const t = r.transport;
    t.setStatus(0);
    t.setStatus(1 | 2);
    t.writeDriverFeatures(featureMask(32, VIRTIO_NET_F_RSS));
    t.setStatus(1 | 2 | VIRTIO_CONFIG_S_FEATURES_OK);
    expect(t.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
  });
});

describe.each(RING_MODES)('RSS over $name', ({ ring }) => {
  const setup = async (driverFeatures = EXTRA) => {
    const r = rig({ ring, queuePairs: PAIRS, driverFeatures });
    expect(await r.driver.configureRss({ hashTypes: VIRTIO_NET_HASH_TYPE_TCPv4 | VIRTIO_NET_HASH_TYPE_IPv4, key: MS_KEY, indirectionTable: TABLE, unclassifiedQueue: 3 })).toBe(true);
    return r;
  };

  it('[net.dev.73] steers each packet by its Toeplitz hash through the indirection table; unhashed packets to unclassified_queue', async () => {
    const r = await setup();
    for (const [src, sp, dst, dp, , tcpHash] of IPV4_VECTORS) r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received.map((x) => x.pair)).toEqual(IPV4_VECTORS.map((v) => TABLE[v[5] & 127]));
    expect(r.received.map((x) => x.header.hashValue)).toEqual(IPV4_VECTORS.map((v) => v[5]));
    expect(r.received.every((x) => x.header.hashReport === VIRTIO_NET_HASH_REPORT_TCPv4)).toBe(true);
    // UDP is not enabled: the IPv4 hash (addresses only).
    const [src, sp, dst, dp, ipHash] = IPV4_VECTORS[0];
    r.callback.deliver(ipv4Frame(src, dst, UDP, sp, dp));
    expect(r.received[5]).toMatchObject({ pair: TABLE[ipHash & 127], header: { hashValue: ipHash, hashReport: VIRTIO_NET_HASH_REPORT_IPv4 } });
    // Not IP: no hash, unclassified_queue, VIRTIO_NET_HASH_REPORT_NONE.
    r.callback.deliver(ethFrame(80, 1));
    expect(r.received[6]).toMatchObject({ pair: 3, header: { hashValue: 0, hashReport: VIRTIO_NET_HASH_REPORT_NONE } });
  });

  it('[net.dev.73] a packet whose destination queue is being reset is dropped, not re-steered', async () => {
    const r = await setup();
    const [src, sp, dst, dp, , tcpHash] = IPV4_VECTORS[1];
    const pair = TABLE[tcpHash & 127];
    r.state.disableQueue(2 * pair);
    const errors = r.device.stats.rxErrors;
    r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received).toHaveLength(0);
    expect(r.device.stats.rxErrors).toBe(errors + 1);
  });

  it('steering works without HASH_REPORT (12-byte header), and VQ_PAIRS_SET returns to automatic steering', async () => {
    const r = await setup(WITHOUT_HASH_REPORT | featureMask(VIRTIO_NET_F_MQ));
    expect(r.driver.hdrSize).toBe(12);
    for (const [src, sp, dst, dp] of IPV4_VECTORS) r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received.map((x) => x.pair)).toEqual(IPV4_VECTORS.map((v) => TABLE[v[5] & 127]));
    expect(await r.driver.setQueuePairs(1)).toBe(true);
    for (const [src, sp, dst, dp] of IPV4_VECTORS) r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received.slice(5).every((x) => x.pair === 0)).toBe(true);
  });
});

describe('hash report', () => {
  const withRss = async (hashTypes: number) => {
    const r = rig({ queuePairs: 2, driverFeatures: EXTRA });
    expect(await r.driver.configureRss({ hashTypes, key: MS_KEY, indirectionTable: [0, 1] })).toBe(true);
    return r;
  };

  it('IPv6 packets: TCPv6 over IPv6 when enabled (Microsoft vectors)', async () => {
    const r = await withRss(VIRTIO_NET_HASH_TYPE_TCPv6 | VIRTIO_NET_HASH_TYPE_IPv6);
    for (const [src, sp, dst, dp] of IPV6_VECTORS) r.callback.deliver(ipv6Frame(src, dst, TCP, sp, dp));
    for (const [src, sp, dst, dp] of IPV6_VECTORS) r.callback.deliver(ipv6Frame(src, dst, UDP, sp, dp));
    expect(r.received.map((x) => [x.header.hashReport, x.header.hashValue])).toEqual([
      ...IPV6_VECTORS.map((v) => [VIRTIO_NET_HASH_REPORT_TCPv6, v[5]]),
      ...IPV6_VECTORS.map((v) => [VIRTIO_NET_HASH_REPORT_IPv6, v[4]]),
    ]);
  });

  it('IPv4 UDP with UDPv4 enabled; a fragment has no transport header to hash', async () => {
    const r = await withRss(VIRTIO_NET_HASH_TYPE_UDPv4 | VIRTIO_NET_HASH_TYPE_IPv4);
    const [src, sp, dst, dp, ipHash, portsHash] = IPV4_VECTORS[2];
    r.callback.deliver(ipv4Frame(src, dst, UDP, sp, dp));
    const frag = ipv4Frame(src, dst, UDP, sp, dp);
    frag[14 + 6] = 0x20; // more fragments
    r.callback.deliver(frag);
    // The spec's hash over addresses and ports does not depend on the protocol: the TCP vector's value.
    expect(r.received.map((x) => [x.header.hashReport, x.header.hashValue])).toEqual([
      [VIRTIO_NET_HASH_REPORT_UDPv4, portsHash],
      [VIRTIO_NET_HASH_REPORT_IPv4, ipHash],
    ]);
  });

  it('IPv6 with extension headers: the home address and type 2 routing address replace source and destination', async () => {
    const r = await withRss(VIRTIO_NET_HASH_TYPE_TCP_EX | VIRTIO_NET_HASH_TYPE_UDP_EX | VIRTIO_NET_HASH_TYPE_IP_EX);
    const [src, sp, dst, dp, ipHash, tcpHash] = IPV6_VECTORS[0];
    r.callback.deliver(ipv6Frame('2001:db8::1', '2001:db8::2', TCP, sp, dp, [homeAddressOption(src), routingType2(dst)]));
    r.callback.deliver(ipv6Frame(src, '2001:db8::2', UDP, sp, dp, [routingType2(dst)]));
    r.callback.deliver(ipv6Frame(src, dst, 58, 0, 0, [homeAddressOption(src)])); // ICMPv6
    expect(r.received.map((x) => [x.header.hashReport, x.header.hashValue])).toEqual([
      [VIRTIO_NET_HASH_REPORT_TCPv6_EX, tcpHash],
      [VIRTIO_NET_HASH_REPORT_UDPv6_EX, tcpHash],
      [VIRTIO_NET_HASH_REPORT_IPv6_EX, ipHash],
    ]);
  });

  it('IPv6 with extension headers but no _EX type enabled: hashed as without them, over the real addresses', async () => {
    const r = await withRss(VIRTIO_NET_HASH_TYPE_TCPv6);
    const [src, sp, dst, dp, , tcpHash] = IPV6_VECTORS[1];
    r.callback.deliver(ipv6Frame(src, dst, TCP, sp, dp, [homeAddressOption('2001:db8::9'), [0, [0, 0, 1, 4, 0, 0, 0, 0]]]));
    expect(r.received[0].header).toMatchObject({ hashReport: VIRTIO_NET_HASH_REPORT_TCPv6, hashValue: tcpHash });
  });

  it('truncated or malformed IP headers yield VIRTIO_NET_HASH_REPORT_NONE, never an exception', async () => {
    const r = await withRss(VIRTIO_NET_HASH_TYPE_ALL);
    const v4 = ipv4Frame('1.2.3.4', '5.6.7.8', TCP, 1, 2, 0);
    const bad = [v4.subarray(0, 20), v4.slice(), ipv6Frame('::1', '::2', TCP, 1, 2).subarray(0, 40)];
    bad[1][14] = 0x4f; // IHL 60 bytes: past the frame
    for (const f of bad) r.callback.deliver(f);
    // A long chain of extension headers: given up on, the addresses hashed.
    r.callback.deliver(ipv6Frame('::1', '::2', TCP, 1, 2, Array.from({ length: 10 }, () => [0, [0, 0, 1, 4, 0, 0, 0, 0]] as [number, number[]])));
    expect(r.received.map((x) => x.header.hashReport)).toEqual([
      VIRTIO_NET_HASH_REPORT_NONE,
      VIRTIO_NET_HASH_REPORT_NONE,
      VIRTIO_NET_HASH_REPORT_NONE,
      VIRTIO_NET_HASH_REPORT_IPv6_EX,
    ]);
  });

  it('[net.dev.71] without RSS the hash is configured by HASH_CONFIG; before it nothing is hashed', async () => {
    const r = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_RSS) });
    const [src, sp, dst, dp, , tcpHash] = IPV4_VECTORS[3];
    r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received[0].header.hashReport).toBe(VIRTIO_NET_HASH_REPORT_NONE);
    expect(await r.driver.setHashConfig(VIRTIO_NET_HASH_TYPE_TCPv4, MS_KEY)).toBe(true);
    r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received[1].header).toMatchObject({ hashReport: VIRTIO_NET_HASH_REPORT_TCPv4, hashValue: tcpHash });
  });

  it('[net.dev.72] HASH_CONFIG with non-zero reserved fields is refused', async () => {
    const r = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_RSS) });
    const cmd = (reserved: number) => {
      const b = new Uint8Array(2 + 13 + 40);
      b.set([VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, VIRTIO_NET_HASH_TYPE_TCPv4, 0, 0, 0, 0, 0, 0, 0, 0, reserved, 0, 0, 40]);
      b.set(MS_KEY, 15);
      return b;
    };
    expect(r.memory.readU8(rawCommand(r, 2, cmd(1)))).toBe(VIRTIO_NET_ERR);
    expect(r.memory.readU8(rawCommand(r, 2, cmd(0)))).toBe(VIRTIO_NET_OK);
  });
});

describe('receive processing order', () => {
  it('[net.dev.103] [net.dev.104] receive filtering comes before RSS steering, and a filtered packet goes no further', async () => {
    const r = rig({ queuePairs: 2, driverFeatures: EXTRA });
    expect(await r.driver.configureRss({ hashTypes: VIRTIO_NET_HASH_TYPE_TCPv4, key: MS_KEY, indirectionTable: [1, 1] })).toBe(true);
    expect(await r.driver.setPromisc(false)).toBe(true);
    r.state.disableQueue(2); // receiveq2 is being reset: RSS drops what it steers there
    const [src, sp, dst, dp] = IPV4_VECTORS[0];
    const toOther = ipv4Frame(src, dst, TCP, sp, dp);
    toOther.set([0x02, 0x11, 0x22, 0x33, 0x44, 0x55], 0);
    r.callback.deliver(toOther);
    expect([r.device.stats.rxFiltered, r.device.stats.rxErrors]).toEqual([1, 0]);
    r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp)); // to our MAC: passes the filter, dropped by RSS
    expect([r.device.stats.rxFiltered, r.device.stats.rxErrors]).toEqual([1, 1]);
    expect(r.received).toHaveLength(0);
  });
});

describe('RSS_CONFIG validation', () => {
  it('the device answers VIRTIO_NET_ERR to every malformed or unsupported configuration and keeps the old one', async () => {
    const r = rig({ queuePairs: 2, driverFeatures: EXTRA });
    const ctrl = 4;
    const bad = [
      rssBytes({ table: [0, 1, 0] }), // not a power of two
      rssBytes({ table: new Array<number>(256).fill(0) }), // longer than rss_max_indirection_table_length
      rssBytes({ types: 1 << 9 }), // unknown hash type
      rssBytes({ table: [0, 2] }), // receiveq3 does not exist
      rssBytes({ table: [0, 0x8001] }), // reserved bit
      rssBytes({ unclassified: 5 }),
      rssBytes({ maxTx: 0 }),
      rssBytes({ maxTx: 3 }),
      rssBytes({ key: new Uint8Array(41) }), // above rss_max_key_size
      rssBytes({ tail: 1 }), // trailing byte
      rssBytes().subarray(0, 20), // truncated
    ];
    for (const b of bad) expect(r.memory.readU8(rawCommand(r, ctrl, b))).toBe(VIRTIO_NET_ERR);
    expect(r.memory.readU8(rawCommand(r, ctrl, rssBytes({ table: [1, 1] })))).toBe(VIRTIO_NET_OK);
    const [src, sp, dst, dp] = IPV4_VECTORS[0];
    r.callback.deliver(ipv4Frame(src, dst, TCP, sp, dp));
    expect(r.received[0].pair).toBe(1);
  });

  it('RSS_CONFIG is refused when RSS was not negotiated, HASH_CONFIG when HASH_REPORT was not', () => {
    const r = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_RSS, VIRTIO_NET_F_HASH_REPORT) });
    expect(r.memory.readU8(rawCommand(r, 2, rssBytes({ table: [0] })))).toBe(VIRTIO_NET_ERR);
    const hash = new Uint8Array(15);
    hash.set([VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, 1]);
    expect(r.memory.readU8(rawCommand(r, 2, hash))).toBe(VIRTIO_NET_ERR);
  });

  it('[net.drv.60] [net.drv.61] [net.drv.62] [net.drv.63] [net.drv.64] the driver checks its configuration before sending it', async () => {
    const r = rig({ queuePairs: 2, driverFeatures: EXTRA });
    const ok = { hashTypes: VIRTIO_NET_HASH_TYPE_TCPv4, key: MS_KEY, indirectionTable: [0, 1] };
    const refused = (c: object, id: string) => expect(r.driver.configureRss({ ...ok, ...c })).rejects.toThrow(new RegExp(`^\\[${id}\\]`));
    await refused({ indirectionTable: [0, 2] }, 'net.drv.61');
    await refused({ unclassifiedQueue: 2 }, 'net.drv.61');
    await refused({ indirectionTable: [0, 1, 1] }, 'net.drv.62');
    await refused({ indirectionTable: new Array<number>(256).fill(0) }, 'net.drv.63');
    await refused({ hashTypes: 1 << 9 }, 'net.drv.64');
    await expect(r.driver.configureRss({ ...ok, hashTypes: VIRTIO_NET_HASH_TYPE_UDP_EX })).resolves.toBe(true);
    const noRss = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_RSS) });
    await expect(noRss.driver.configureRss(ok)).rejects.toThrow(/net\.drv\.60/);
    expect(() => noRss.driver.setHashConfig(1 << 9, MS_KEY)).toThrow(/net\.drv\.64/);
  });
});
