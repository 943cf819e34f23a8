/**
 * The control virtqueue's commands (spec 5.1.6.5): struct virtio_net_ctrl { u8 class;
 * u8 command; u8 command-specific-data[]; u8 ack; u8 command-specific-result[]; }. The
 * device-readable part holds class, command and data; the ack is the first device-writable
 * byte and the result (VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET) follows it, cut
 * to the room the driver gave. Every command takes effect before its chain is returned.
 */
import type { DescriptorChain, GuestMemory } from '@virtio/ring';
import { ChainReader } from '@virtio/ring';
import { coalesceCommand, type CoalesceTarget } from '../coalesce/command.js';
import type { NetConfig } from '../config.js';
import type { RxFilter } from '../filter.js';
import type { NetOffloads } from '../backend.js';
import type { Negotiated } from '../negotiated.js';
import { offloadsFromBits } from '../offloads/guest.js';
import type { RxHash } from '../rss/state.js';
import { SUPPORTED_TUNNEL_TYPES } from '../rss/tunnel.js';
import { CVQ_COMMANDS, CVQ_OK, type DeviceCounters } from '../stats/counters.js';
import { statsCommand } from '../stats/command.js';
import { CtrlReply } from './reply.js';
import {
  ETH_ALEN,
  VIRTIO_NET_CTRL_ANNOUNCE,
  VIRTIO_NET_CTRL_ANNOUNCE_ACK,
  VIRTIO_NET_CTRL_MAC,
  VIRTIO_NET_CTRL_MAC_ADDR_SET,
  VIRTIO_NET_CTRL_MAC_TABLE_SET,
  VIRTIO_NET_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET,
  VIRTIO_NET_CTRL_HASH_TUNNEL,
  VIRTIO_NET_CTRL_HASH_TUNNEL_SET,
  VIRTIO_NET_CTRL_MQ,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN,
  VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
  VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
  VIRTIO_NET_CTRL_NOTF_COAL,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_ALLUNI,
  VIRTIO_NET_CTRL_RX_NOBCAST,
  VIRTIO_NET_CTRL_RX_NOMULTI,
  VIRTIO_NET_CTRL_RX_NOUNI,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_CTRL_STATS,
  VIRTIO_NET_CTRL_VLAN,
  VIRTIO_NET_CTRL_VLAN_ADD,
  VIRTIO_NET_CTRL_VLAN_DEL,
  VIRTIO_NET_ERR,
  VIRTIO_NET_OK,
  VIRTIO_NET_S_ANNOUNCE,
  VLAN_N_VID,
} from '../protocol.js';

/** Largest command-specific-data the device reads, in bytes (a MAC table of 2 x 4096 entries). */
export const CTRL_MAX_DATA = 8 + 2 * 4096 * ETH_ALEN;

/** What control commands act on. */
export interface CtrlTarget extends CoalesceTarget {
  readonly neg: Negotiated;
  readonly config: NetConfig;
  readonly filter: RxFilter;
  readonly maxPairs: number;
  readonly hash: RxHash;
  readonly counters: DeviceCounters;
  readonly reply: CtrlReply;
  /** VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET or _RSS_CONFIG accepted. */
  setActivePairs(pairs: number): void;
  /** VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: applies the offloads (negotiated ones only); false when the backend refused them. */
  setGuestOffloads(offloads: NetOffloads): boolean;
}

/** Thrown for a control chain the device cannot even answer (no writable ack byte). */
export class CtrlChainError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'CtrlChainError';
  }
}

/**
 * Executes one control command and writes its ack, then its result. Returns the bytes written.
 * @throws CtrlChainError when the chain has no device-writable byte for the ack;
 * GuestMemoryError never (popped chains are inside guest memory).
 */
export function executeCtrl(memory: GuestMemory, chain: DescriptorChain, t: CtrlTarget): number {
  if (chain.writableLength < 1) throw new CtrlChainError('control chain without a device-writable ack byte');
  let ack = VIRTIO_NET_ERR;
  t.reply.clear();
  t.counters.addCvq(CVQ_COMMANDS, 1);
  if (chain.readableLength >= 2 && chain.readableLength - 2 <= CTRL_MAX_DATA) {
    const r = new ChainReader(memory, chain.readable);
    const cls = r.readU8();
    const cmd = r.readU8();
    if (command(cls, cmd, r.readBytes(r.remaining), t)) {
      ack = VIRTIO_NET_OK;
      t.counters.addCvq(CVQ_OK, 1);
    }
  }
  if (ack !== VIRTIO_NET_OK) t.reply.clear();
  // The ack, then as much of the result as fits ([net.dev.88]).
  const result = t.reply.bytes;
  let pos = -1;
  let written = 0;
  for (const seg of chain.writable) {
    for (let off = 0; off < seg.len; ) {
      if (pos < 0) {
        memory.writeU8(seg.addr + off, ack);
        off++;
        pos = 0;
        written = 1;
        continue;
      }
      const n = Math.min(seg.len - off, result.length - pos);
      if (n <= 0) return written;
      memory.write(seg.addr + off, result.subarray(pos, pos + n));
      pos += n;
      off += n;
      written += n;
    }
  }
  return written;
}

function command(cls: number, cmd: number, data: Uint8Array, t: CtrlTarget): boolean {
  const { neg, filter } = t;
  const dv = new DataView(data.buffer, data.byteOffset, data.byteLength);
  switch (cls) {
    case VIRTIO_NET_CTRL_RX: {
      // [net.dev.57]; [net.dev.58]: ALLUNI, NOMULTI, NOUNI, NOBCAST with CTRL_RX_EXTRA.
      if (!neg.ctrlRx || data.length !== 1) return false;
      const on = data[0] !== 0;
      if (cmd === VIRTIO_NET_CTRL_RX_PROMISC) filter.promisc = on;
      else if (cmd === VIRTIO_NET_CTRL_RX_ALLMULTI) filter.allmulti = on;
      else if (!neg.ctrlRxExtra) return false;
      else if (cmd === VIRTIO_NET_CTRL_RX_ALLUNI) filter.alluni = on;
      else if (cmd === VIRTIO_NET_CTRL_RX_NOMULTI) filter.nomulti = on;
      else if (cmd === VIRTIO_NET_CTRL_RX_NOUNI) filter.nouni = on;
      else if (cmd === VIRTIO_NET_CTRL_RX_NOBCAST) filter.nobcast = on;
      else return false;
      return true;
    }
    case VIRTIO_NET_CTRL_MAC: {
      if (cmd === VIRTIO_NET_CTRL_MAC_ADDR_SET) {
        // [net.dev.61]: mac in config space updated before the command is consumed.
        if (!neg.ctrlMacAddr || data.length !== ETH_ALEN) return false;
        t.config.setMac(data);
        return true;
      }
      if (cmd !== VIRTIO_NET_CTRL_MAC_TABLE_SET || !neg.ctrlRx) return false;
      // le32 entries + entries * 6 (unicast), then le32 entries + entries * 6 (multicast).
      if (data.length < 4) return false;
      const u = dv.getUint32(0, true);
      const uEnd = 4 + u * ETH_ALEN;
      if (uEnd + 4 > data.length) return false;
      const m = dv.getUint32(uEnd, true);
      if (uEnd + 4 + m * ETH_ALEN !== data.length) return false;
      // [net.dev.60]: the table is updated before the command is consumed.
      filter.setMacTable(data.subarray(4, uEnd), data.subarray(uEnd + 4));
      return true;
    }
    case VIRTIO_NET_CTRL_VLAN: {
      if (!neg.ctrlVlan || data.length !== 2) return false;
      const vid = dv.getUint16(0, true);
      if (vid >= VLAN_N_VID) return false;
      if (cmd === VIRTIO_NET_CTRL_VLAN_ADD) filter.setVlan(vid, true);
      else if (cmd === VIRTIO_NET_CTRL_VLAN_DEL) filter.setVlan(vid, false);
      else return false;
      return true;
    }
    case VIRTIO_NET_CTRL_ANNOUNCE: {
      // [net.dev.66]: the acknowledgement clears VIRTIO_NET_S_ANNOUNCE.
      if (!neg.guestAnnounce || cmd !== VIRTIO_NET_CTRL_ANNOUNCE_ACK) return false;
      t.config.status &= ~VIRTIO_NET_S_ANNOUNCE;
      return true;
    }
    case VIRTIO_NET_CTRL_MQ: {
      if (cmd === VIRTIO_NET_CTRL_MQ_RSS_CONFIG) {
        if (!neg.rss) return false;
        const pairs = t.hash.setRss(data, t.maxPairs);
        if (pairs === 0) return false;
        t.setActivePairs(pairs);
        return true;
      }
      // [net.dev.71]: hash parameters for hash reporting without RSS.
      if (cmd === VIRTIO_NET_CTRL_MQ_HASH_CONFIG) return neg.hashReport && !neg.rss && t.hash.setHash(data);
      if (!neg.mq || cmd !== VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET || data.length !== 2) return false;
      const pairs = dv.getUint16(0, true);
      if (pairs < VIRTIO_NET_CTRL_MQ_VQ_PAIRS_MIN || pairs > t.maxPairs) return false;
      // [net.dev.68]: in force before the command's buffer is used; automatic steering again.
      t.hash.rss = false;
      t.setActivePairs(pairs);
      return true;
    }
    case VIRTIO_NET_CTRL_GUEST_OFFLOADS: {
      // [net.drv.68] seen from the device: an offload that was not negotiated is refused.
      if (!neg.ctrlGuestOffloads || cmd !== VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET || data.length !== 8) return false;
      const bits = dv.getBigUint64(0, true);
      if ((bits & ~neg.guestBits) !== 0n) return false;
      return t.setGuestOffloads(offloadsFromBits(bits));
    }
    case VIRTIO_NET_CTRL_HASH_TUNNEL: {
      // [net.dev.55]: types not in supported_tunnel_types are refused; [net.dev.56]: 0 disables.
      if (!neg.hashTunnel || cmd !== VIRTIO_NET_CTRL_HASH_TUNNEL_SET || data.length !== 4) return false;
      const types = dv.getUint32(0, true);
      if (types & ~SUPPORTED_TUNNEL_TYPES) return false;
      t.hash.hasher.tunnelTypes = types;
      return true;
    }
    case VIRTIO_NET_CTRL_NOTF_COAL:
      return coalesceCommand(cmd, data, t, t.reply);
    case VIRTIO_NET_CTRL_STATS:
      return neg.deviceStats && statsCommand(cmd, data, neg, t.counters, t.reply);
    default:
      return false;
  }
}
