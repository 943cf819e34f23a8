// Device statistics (spec 5.1.6.5.9, VIRTIO_NET_F_DEVICE_STATS): the capability query, the
// basic receiveq / transmitq statistics and the controlq statistics, request validation on
// both sides, replies cut to the driver's buffer, 64-bit counters wrapping to zero.
import { describe, expect, it } from 'vitest';
import { featureMask } from '@virtio/core';
import {
  NET_CONTROL_EXTRA_FEATURES,
  NET_DRIVER_FEATURES,
  NET_OFFLOAD_FEATURES,
  PLAIN_HEADER,
  VIRTIO_NET_HDR_F_DATA_VALID,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_STATS_TYPE_RX_CSUM,
  VIRTIO_NET_STATS_TYPE_RX_GSO,
  VIRTIO_NET_STATS_TYPE_TX_CSUM,
  VIRTIO_NET_STATS_TYPE_TX_GSO,
  SUPPORTED_STATS_TYPES,
  VIRTIO_NET_CTRL_STATS,
  VIRTIO_NET_CTRL_STATS_GET,
  VIRTIO_NET_CTRL_STATS_QUERY,
  VIRTIO_NET_ERR,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_OK,
  VIRTIO_NET_STATS_TYPE_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_CVQ,
  VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC,
  VIRTIO_NET_STATS_TYPE_RX_BASIC,
  VIRTIO_NET_STATS_TYPE_TX_BASIC,
  type StatsRequest,
} from '../src/index.js';
import { DeviceCounters, PACKETS } from '../src/stats/counters.js';
import { ethFrame, hdrBytes, rawCommand, rawTransmit, rig, RING_MODES } from './harness.js';
import { ipv4Frame, TCP, UDP } from './packets.js';

const EXTRA = NET_DRIVER_FEATURES | NET_CONTROL_EXTRA_FEATURES;

/** Raw VIRTIO_NET_CTRL_STATS_GET for `entries`. */
function getBytes(entries: readonly StatsRequest[]): Uint8Array {
  const b = new Uint8Array(2 + 16 * entries.length);
  const dv = new DataView(b.buffer);
  b[0] = VIRTIO_NET_CTRL_STATS;
  b[1] = VIRTIO_NET_CTRL_STATS_GET;
  entries.forEach((e, i) => {
    dv.setUint16(2 + 16 * i, e.vq, true);
    dv.setBigUint64(2 + 16 * i + 8, e.types, true);
  });
  return b;
}

describe.each(RING_MODES)('device statistics over $name', ({ ring }) => {
  it('[net.dev.85] [net.dev.87] [net.drv.74] [net.drv.76] basic receiveq, transmitq and controlq statistics', async () => {
    const r = rig({ ring, driverFeatures: EXTRA });
    expect(await r.driver.queryStats()).toBe(VIRTIO_NET_STATS_TYPE_RX_BASIC | VIRTIO_NET_STATS_TYPE_TX_BASIC | VIRTIO_NET_STATS_TYPE_CVQ);
    for (let i = 0; i < 3; i++) r.callback.deliver(ethFrame(100 + i, i));
    for (let i = 0; i < 2; i++) r.driver.send(ethFrame(60, i));
    rawTransmit(r, hdrBytes(0, 0x42), ethFrame(60, 9)); // unknown gso_type: dropped as malformed
    r.driver.poll();
    const replies = await r.driver.getStats([
      { vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_BASIC },
      { vq: 1, types: VIRTIO_NET_STATS_TYPE_TX_BASIC },
      { vq: 2, types: VIRTIO_NET_STATS_TYPE_CVQ },
    ]);
    expect(replies).toHaveLength(3);
    const [rx, tx, cvq] = replies!;
    expect(rx.type).toBe(VIRTIO_NET_STATS_TYPE_REPLY_RX_BASIC);
    expect(rx.vq).toBe(0);
    // rx_notifications, rx_packets, rx_bytes, rx_interrupts, rx_drops, rx_drop_overruns
    expect(rx.counters.slice(1, 3)).toEqual([3n, BigInt(100 + 101 + 102)]);
    expect(rx.counters[3]).toBeGreaterThan(0n);
    expect(rx.counters.slice(4)).toEqual([0n, 0n]);
    expect(tx.type).toBe(VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC);
    expect(tx.vq).toBe(1);
    // tx_notifications, tx_packets, tx_bytes, tx_interrupts, tx_drops, tx_drop_malformed
    expect(tx.counters[0]).toBeGreaterThan(0n);
    expect(tx.counters.slice(1, 3)).toEqual([2n, 120n]);
    expect(tx.counters.slice(4)).toEqual([1n, 1n]);
    expect(cvq.type).toBe(VIRTIO_NET_STATS_TYPE_REPLY_CVQ);
    expect(cvq.vq).toBe(2);
    // command_num and ok_num include the current command: QUERY and this GET.
    expect(cvq.counters).toEqual([2n, 2n]);
  });
});

describe('statistics requests', () => {
  it('[net.dev.87] each reply header carries its type, vq_index and size', () => {
    const r = rig({ driverFeatures: EXTRA });
    const ack = rawCommand(r, 2, getBytes([{ vq: 1, types: VIRTIO_NET_STATS_TYPE_TX_BASIC }, { vq: 2, types: VIRTIO_NET_STATS_TYPE_CVQ }]), 1 + 56 + 24);
    expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_OK);
    const hdr = (at: number) => [r.memory.readU8(at), r.memory.readU16(at + 2), r.memory.readU16(at + 6)];
    expect(hdr(ack + 1)).toEqual([VIRTIO_NET_STATS_TYPE_REPLY_TX_BASIC, 1, 56]);
    expect(hdr(ack + 1 + 56)).toEqual([VIRTIO_NET_STATS_TYPE_REPLY_CVQ, 2, 24]);
  });

  it('[net.dev.86] an incorrect entry fails the whole command', () => {
    const r = rig({ driverFeatures: EXTRA });
    const good = { vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_BASIC };
    const bad: StatsRequest[] = [
      { vq: 3, types: VIRTIO_NET_STATS_TYPE_RX_BASIC }, // beyond the queues (controlq is 2)
      { vq: 0xffff, types: VIRTIO_NET_STATS_TYPE_RX_BASIC },
      { vq: 0, types: 1n << 40n }, // unknown type
      { vq: 0, types: 1n << 1n }, // RX_CSUM: not supported
      { vq: 1, types: VIRTIO_NET_STATS_TYPE_RX_BASIC }, // a receive type on a transmitq
      { vq: 0, types: VIRTIO_NET_STATS_TYPE_CVQ }, // the controlq type on a receiveq
      { vq: 2, types: VIRTIO_NET_STATS_TYPE_TX_BASIC }, // a transmit type on the controlq
      { vq: 0, types: 0n },
    ];
    for (const b of bad) {
      const ack = rawCommand(r, 2, getBytes([good, b]), 200);
      expect(r.memory.readU8(ack)).toBe(VIRTIO_NET_ERR);
      expect(r.memory.readU8(ack + 1)).toBe(0xee); // nothing replied
    }
    expect(r.memory.readU8(rawCommand(r, 2, getBytes([good]), 200))).toBe(VIRTIO_NET_OK);
    const odd = getBytes([good]).subarray(0, 10);
    expect(r.memory.readU8(rawCommand(r, 2, odd, 200))).toBe(VIRTIO_NET_ERR);
  });

  it('[net.dev.88] a result buffer too small gets only the bytes that fit; a larger one keeps its tail', () => {
    const r = rig({ driverFeatures: EXTRA });
    const small = rawCommand(r, 2, getBytes([{ vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_BASIC }]), 1 + 20);
    expect(r.memory.readU8(small)).toBe(VIRTIO_NET_OK);
    expect(r.memory.readU16(small + 1 + 6)).toBe(56);
    const big = rawCommand(r, 2, getBytes([{ vq: 2, types: VIRTIO_NET_STATS_TYPE_CVQ }]), 1 + 24 + 8);
    expect(r.memory.readU8(big)).toBe(VIRTIO_NET_OK);
    expect(r.memory.readU8(big + 1 + 24)).toBe(0xee);
    const q = rawCommand(r, 2, Uint8Array.of(VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_QUERY), 1 + 8);
    const basic = VIRTIO_NET_STATS_TYPE_RX_BASIC | VIRTIO_NET_STATS_TYPE_TX_BASIC | VIRTIO_NET_STATS_TYPE_CVQ;
    expect(r.memory.readU32(q + 1)).toBe(Number(basic & 0xffffffffn));
    expect(r.memory.readU32(q + 5)).toBe(Number(basic >> 32n));
  });

  it('[net.dev.89] the 64-bit counters wrap around to zero', () => {
    const c = new DeviceCounters(2);
    const out = new DataView(new ArrayBuffer(8));
    c.add(0, PACKETS, 2 ** 53 - 1);
    c.add(0, PACKETS, 1);
    c.write(0, PACKETS, 1, out, 0);
    expect(out.getBigUint64(0, true)).toBe(2n ** 53n);
    for (let i = 1; i < 2048; i++) c.add(0, PACKETS, 2 ** 53);
    c.add(0, PACKETS, 5);
    c.write(0, PACKETS, 1, out, 0);
    expect(out.getBigUint64(0, true)).toBe(5n);
    c.write(1, PACKETS, 1, out, 0);
    expect(out.getBigUint64(0, true)).toBe(0n);
  });

  it('[net.drv.74] [net.drv.75] the driver asks only for types the device reported, valid for the virtqueue', async () => {
    const r = rig({ driverFeatures: EXTRA });
    await expect(r.driver.getStats([{ vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_BASIC }])).rejects.toThrow(/net\.drv\.74/);
    await r.driver.queryStats();
    await expect(r.driver.getStats([{ vq: 1, types: VIRTIO_NET_STATS_TYPE_RX_BASIC }])).rejects.toThrow(/net\.drv\.75/);
    await expect(r.driver.getStats([{ vq: 0, types: VIRTIO_NET_STATS_TYPE_CVQ }])).rejects.toThrow(/net\.drv\.75/);
    await expect(r.driver.getStats([{ vq: 2, types: VIRTIO_NET_STATS_TYPE_CVQ }])).resolves.toHaveLength(1);
  });

  it('VIRTIO_NET_CTRL_STATS is refused without DEVICE_STATS', async () => {
    const r = rig({ driverFeatures: EXTRA & ~featureMask(VIRTIO_NET_F_DEVICE_STATS) });
    await expect(r.driver.queryStats()).rejects.toThrow();
    expect(r.memory.readU8(rawCommand(r, 2, Uint8Array.of(VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_QUERY), 9))).toBe(VIRTIO_NET_ERR);
  });
});

describe('checksum and GSO statistics', () => {
  const OFFLOADS = EXTRA | NET_OFFLOAD_FEATURES;

  it('[net.dev.85] the types reported follow the negotiated offloads; [net.dev.86] others are refused', async () => {
    const plain = rig({ driverFeatures: EXTRA });
    expect(await plain.driver.queryStats()).toBe(VIRTIO_NET_STATS_TYPE_RX_BASIC | VIRTIO_NET_STATS_TYPE_TX_BASIC | VIRTIO_NET_STATS_TYPE_CVQ);
    const ack = rawCommand(plain, 2, getBytes([{ vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_CSUM }]), 100);
    expect(plain.memory.readU8(ack)).toBe(VIRTIO_NET_ERR);
    const r = rig({ vnetHeader: true, driverFeatures: OFFLOADS });
    expect(await r.driver.queryStats()).toBe(SUPPORTED_STATS_TYPES);
  });

  it('receiveq checksum and GSO counters; transmitq checksum and GSO counters', async () => {
    const r = rig({ vnetHeader: true, driverFeatures: OFFLOADS });
    await r.driver.queryStats();
    const good = ipv4Frame('10.0.0.1', '10.0.0.2', UDP, 1, 2, 10);
    const goodSum = Uint8Array.from(good);
    // UDP checksum of this datagram, filled in by hand: the device must find it right.
    fillUdpChecksum(goodSum);
    const bad = goodSum.slice();
    bad[bad.length - 1] ^= 0xff;
    r.callback.deliver(goodSum, hdrBytes(VIRTIO_NET_HDR_F_DATA_VALID, 0));
    r.callback.deliver(bad, hdrBytes(VIRTIO_NET_HDR_F_DATA_VALID, 0));
    r.callback.deliver(good, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, 0, 0, 34, 6));
    const tso = ipv4Frame('10.0.0.1', '10.0.0.2', TCP, 1, 2, 3000);
    r.callback.deliver(tso, hdrBytes(VIRTIO_NET_HDR_F_NEEDS_CSUM, VIRTIO_NET_HDR_GSO_TCPV4, 1448, 34, 16, 54));
    r.driver.send(good);
    r.driver.send(tso, { ...PLAIN_HEADER, flags: VIRTIO_NET_HDR_F_NEEDS_CSUM, gsoType: VIRTIO_NET_HDR_GSO_TCPV4, gsoSize: 1000, csumStart: 34, csumOffset: 16 });
    const replies = await r.driver.getStats([
      { vq: 0, types: VIRTIO_NET_STATS_TYPE_RX_CSUM | VIRTIO_NET_STATS_TYPE_RX_GSO },
      { vq: 1, types: VIRTIO_NET_STATS_TYPE_TX_CSUM | VIRTIO_NET_STATS_TYPE_TX_GSO },
    ]);
    expect(replies!.map((x) => [x.type, x.vq])).toEqual([[1, 0], [2, 0], [17, 1], [18, 1]]);
    const [rxCsum, rxGso, txCsum, txGso] = replies!.map((x) => x.counters);
    // rx_csum_valid, rx_needs_csum, rx_csum_none, rx_csum_bad
    expect(rxCsum).toEqual([1n, 2n, 1n, 1n]);
    // rx_gso_packets, rx_gso_bytes, rx_gso_packets_coalesced, rx_gso_bytes_coalesced
    expect(rxGso).toEqual([1n, BigInt(tso.length), 0n, 0n]);
    // tx_csum_none, tx_needs_csum
    expect(txCsum).toEqual([1n, 1n]);
    // 3000 payload bytes behind 54 header bytes, cut at 1000: 3 segments.
    expect(txGso).toEqual([1n, BigInt(tso.length), 3n, BigInt(3000 + 3 * 54), 0n, 0n]);
  });
});

/** Fills in the UDP checksum of an IPv4 frame from packets.ts. */
function fillUdpChecksum(f: Uint8Array): void {
  let sum = 0;
  const add = (from: number, to: number) => {
    for (let i = from; i < to; i += 2) sum += (f[i] << 8) | (i + 1 < to ? f[i + 1] : 0);
  };
  f[40] = f[41] = 0;
  add(26, 34);
  sum += 17 + (f.length - 34);
  add(34, f.length);
  while (sum > 0xffff) sum = (sum & 0xffff) + (sum >>> 16);
  const c = ~sum & 0xffff || 0xffff;
  f[40] = c >>> 8;
  f[41] = c & 0xff;
}
