/**
 * A virtio network driver (driver side of spec 5.1) over @virtio/core's initialization: posts
 * receive buffers on every receive queue, transmits frames, runs control commands and follows
 * link and announce changes. Requests are checked against the spec's driver requirements
 * before anything is exposed to the device.
 */
import {
  featureMask,
  hasFeature,
  initializeDevice,
  selectFeatures,
  VIRTIO_F_VERSION_1,
  type DriverDevice,
  type DriverTransport,
  type FeatureDependency,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import type { CoalesceParams } from './coalesce/notifier.js';
import { NetConfigOffset as C } from './config.js';
import { NetDriverError } from './errors.js';
import { decodeNetHeader, encodeNetHeader, PLAIN_HEADER, type NetHeader } from './header.js';
import { headersLength } from './hdrlen.js';
import { GUEST_OFFLOAD_BITS } from './offloads/guest.js';
import { VIRTIO_NET_HASH_TUNNEL_TYPE_ALL } from './rss/tunnel.js';
import { encodeHashConfig, encodeRssConfig, type RssConfig, type RssLimits } from './rss/encode.js';
import { decodeStatsReplies, encodeStatsRequest, type StatsReply, type StatsRequest } from './stats/decode.js';
import {
  ETH_ALEN,
  ETH_HLEN,
  netHdrSize,
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
  VIRTIO_NET_CTRL_MQ_HASH_CONFIG,
  VIRTIO_NET_CTRL_MQ_RSS_CONFIG,
  VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET,
  VIRTIO_NET_CTRL_NOTF_COAL,
  VIRTIO_NET_CTRL_NOTF_COAL_RX_SET,
  VIRTIO_NET_CTRL_NOTF_COAL_TX_SET,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET,
  VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET,
  VIRTIO_NET_CTRL_RX,
  VIRTIO_NET_CTRL_RX_ALLMULTI,
  VIRTIO_NET_CTRL_RX_ALLUNI,
  VIRTIO_NET_CTRL_RX_NOBCAST,
  VIRTIO_NET_CTRL_RX_NOMULTI,
  VIRTIO_NET_CTRL_RX_NOUNI,
  VIRTIO_NET_CTRL_RX_PROMISC,
  VIRTIO_NET_CTRL_STATS,
  VIRTIO_NET_CTRL_STATS_GET,
  VIRTIO_NET_CTRL_STATS_QUERY,
  VIRTIO_NET_CTRL_VLAN,
  VIRTIO_NET_CTRL_VLAN_ADD,
  VIRTIO_NET_CTRL_VLAN_DEL,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_HDRLEN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_HASH_TUNNEL,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_UFO,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_SPEED_DUPLEX,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_VQ_NOTF_COAL,
  VIRTIO_NET_HDR_F_NEEDS_CSUM,
  VIRTIO_NET_HDR_GSO_ECN,
  VIRTIO_NET_HDR_GSO_NONE,
  VIRTIO_NET_HDR_GSO_TCPV4,
  VIRTIO_NET_HDR_GSO_TCPV6,
  VIRTIO_NET_HDR_GSO_UDP,
  VIRTIO_NET_HDR_GSO_UDP_L4,
  VIRTIO_NET_OK,
  VIRTIO_NET_S_ANNOUNCE,
  VIRTIO_NET_S_LINK_UP,
  VLAN_HLEN,
  VLAN_N_VID,
} from './protocol.js';

/**
 * Device features this driver accepts by default: everything but the offloads and the
 * {@link NET_CONTROL_EXTRA_FEATURES}.
 */
export const NET_DRIVER_FEATURES = featureMask(
  VIRTIO_NET_F_MAC,
  VIRTIO_NET_F_STATUS,
  VIRTIO_NET_F_MTU,
  VIRTIO_NET_F_MRG_RXBUF,
  VIRTIO_NET_F_CTRL_VQ,
  VIRTIO_NET_F_CTRL_RX,
  VIRTIO_NET_F_CTRL_VLAN,
  VIRTIO_NET_F_CTRL_MAC_ADDR,
  VIRTIO_NET_F_GUEST_ANNOUNCE,
  VIRTIO_NET_F_MQ,
  VIRTIO_NET_F_SPEED_DUPLEX,
);

/**
 * The offload features (headers then matter to the caller: see {@link NetDriverOptions.onFrame}),
 * with GUEST_HDRLEN (the driver fills in or checks hdr_len of every GSO packet, net.drv.38) and
 * CTRL_GUEST_OFFLOADS ({@link NetDriver.setGuestOffloads}).
 */
export const NET_OFFLOAD_FEATURES = featureMask(
  VIRTIO_NET_F_CTRL_GUEST_OFFLOADS,
  VIRTIO_NET_F_GUEST_USO4,
  VIRTIO_NET_F_GUEST_USO6,
  VIRTIO_NET_F_HOST_USO,
  VIRTIO_NET_F_GUEST_HDRLEN,
  VIRTIO_NET_F_CSUM,
  VIRTIO_NET_F_GUEST_CSUM,
  VIRTIO_NET_F_GUEST_TSO4,
  VIRTIO_NET_F_GUEST_TSO6,
  VIRTIO_NET_F_GUEST_ECN,
  VIRTIO_NET_F_GUEST_UFO,
  VIRTIO_NET_F_HOST_TSO4,
  VIRTIO_NET_F_HOST_TSO6,
  VIRTIO_NET_F_HOST_ECN,
  VIRTIO_NET_F_HOST_UFO,
);

/**
 * Control queue features the driver supports but does not accept by default: CTRL_RX_EXTRA,
 * RSS, HASH_REPORT (the header grows to 20 bytes), HASH_TUNNEL, NOTF_COAL, VQ_NOTF_COAL,
 * DEVICE_STATS.
 */
export const NET_CONTROL_EXTRA_FEATURES = featureMask(
  VIRTIO_NET_F_CTRL_RX_EXTRA,
  VIRTIO_NET_F_RSS,
  VIRTIO_NET_F_HASH_REPORT,
  VIRTIO_NET_F_NOTF_COAL,
  VIRTIO_NET_F_VQ_NOTF_COAL,
  VIRTIO_NET_F_DEVICE_STATS,
  VIRTIO_NET_F_HASH_TUNNEL,
);

// Spec 5.1.3.1; ECN is kept only with TSO4 (stricter than "TSO4 or TSO6"). HASH_REPORT and
// CTRL_RX_EXTRA only with CTRL_VQ (net.drv.10, 11); DEVICE_STATS is useless without it.
const DEPENDENCIES: readonly FeatureDependency[] = [
  [VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_ECN, VIRTIO_NET_F_GUEST_TSO4],
  [VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_HOST_ECN, VIRTIO_NET_F_HOST_TSO4],
  [VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_GUEST_USO6, VIRTIO_NET_F_GUEST_CSUM],
  [VIRTIO_NET_F_HOST_USO, VIRTIO_NET_F_CSUM],
  [VIRTIO_NET_F_CTRL_RX, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_VLAN, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_GUEST_ANNOUNCE, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_MQ, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_MAC_ADDR, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_VQ_NOTF_COAL, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_RSS, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_HASH_REPORT, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_RX_EXTRA, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_DEVICE_STATS, VIRTIO_NET_F_CTRL_VQ],
  [VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, VIRTIO_NET_F_CTRL_VQ],
  // "CTRL_VQ along with RSS or HASH_REPORT": kept only with RSS here (stricter).
  [VIRTIO_NET_F_HASH_TUNNEL, VIRTIO_NET_F_CTRL_VQ, VIRTIO_NET_F_RSS],
];

export interface NetDriverOptions {
  readonly memory: GuestMemory;
  readonly allocator: GuestAllocator;
  /** Device features to accept if offered, plus ring features. Default {@link NET_DRIVER_FEATURES}. */
  readonly wantedFeatures?: bigint;
  /** Queue size for every queue (lowered to the device's maximum). */
  readonly queueSize?: number;
  /**
   * Bytes of each receive buffer, header included. Default: 2048 with MRG_RXBUF; without it,
   * room for the largest packet the negotiated features allow (spec 5.1.6.3.1).
   */
  readonly rxBufferSize?: number;
  /** Bytes of each transmit buffer, header included. Default: header + 65535 with HOST_TSO/UFO, else header + MTU (or 1500) + 18. */
  readonly txBufferSize?: number;
  /** A received frame (a copy) with its header and the queue pair it arrived on. */
  readonly onFrame?: (frame: Uint8Array, header: NetHeader, pair: number) => void;
  /**
   * The device's configuration changed (link status, announce request); see {@link NetDriver.linkUp}
   * and {@link NetDriver.announceRequested}: announce here (e.g. a gratuitous ARP); the driver then
   * acknowledges the request itself (VIRTIO_NET_CTRL_ANNOUNCE_ACK).
   */
  readonly onConfigChange?: () => void;
}

/** A control command waiting for its ack. */
interface CtrlRequest {
  readonly addr: number;
  /** Offset of the ack byte from addr; command-specific-result follows it. */
  readonly ackAt: number;
  /** Room for command-specific-result, in bytes. */
  readonly resultSize: number;
  /** The result (the bytes the device wrote after the ack) on VIRTIO_NET_OK, null on VIRTIO_NET_ERR or reset. */
  readonly resolve: (result: Uint8Array | null) => void;
}

/**
 * The network driver: construct it over a DriverTransport to initialize the device; call
 * {@link NetDriver.handleInterrupt} from the device's interrupt (or {@link NetDriver.poll}).
 * Received frames go to `onFrame`; {@link NetDriver.send} transmits; control commands return
 * promises of the device's ack.
 */
export class NetDriver {
  readonly device: DriverDevice;
  readonly features: bigint;
  /** Size of struct virtio_net_hdr in both directions (net.drv.12), in bytes. */
  readonly hdrSize: number;
  /** The MAC address in use: the device's with VIRTIO_NET_F_MAC, else a random locally administered one. */
  mac: Uint8Array;
  /** MTU the device reported (VIRTIO_NET_F_MTU negotiated), else 1500. */
  readonly mtu: number;
  /** max_virtqueue_pairs (1 without VIRTIO_NET_F_MQ). */
  readonly maxPairs: number;
  /** Queue pairs transmit may use (VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET); 1 at start. */
  activePairs = 1;
  /** Received packets the driver discarded (num_buffers inconsistent with the used buffers). */
  rxErrors = 0;
  /** Hash capabilities from the configuration space (zeros without RSS / HASH_REPORT) and the enabled queue pairs. */
  readonly rssLimits: RssLimits;
  /** supported_stats_types from the last VIRTIO_NET_CTRL_STATS_QUERY ({@link queryStats}); 0 before. */
  supportedStats = 0n;
  #rxSize = 0;
  #txSize = 0;
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #onFrame: NetDriverOptions['onFrame'];
  readonly #onConfigChange: NetDriverOptions['onConfigChange'];
  readonly #ctrlIndex: number;
  readonly #txFree: number[][] = [];
  readonly #ctrlQueue: CtrlRequest[] = [];
  readonly #hdr: Uint8Array;
  #status = VIRTIO_NET_S_LINK_UP;
  #speed: number | undefined;
  #duplex: 'full' | 'half' | undefined;
  #acking = false;
  #live = true;

  /** Initializes the device (spec 3.1.1) and posts receive buffers. @throws DeviceInitError */
  constructor(transport: DriverTransport, opts: NetDriverOptions) {
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#onFrame = opts.onFrame;
    this.#onConfigChange = opts.onConfigChange;
    const wanted = opts.wantedFeatures ?? NET_DRIVER_FEATURES;
    const queues: { index: number; size?: number }[] = [];
    let pairs = 1;
    let mtu = 1500;
    let mac: Uint8Array | undefined;
    let ctrlIndex = -1;
    let limits: RssLimits = { maxKeySize: 0, maxIndirectionTableLength: 0, supportedHashTypes: 0, supportedTunnelTypes: 0, pairs: 1 };
    this.device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: wanted,
      featureDependencies: DEPENDENCIES,
      queues,
      checkConfig: (config, offered) => {
        // The queues depend on what will be negotiated, known from the offer: fill them in here.
        const f = selectFeatures(offered, wanted, transport.kind, DEPENDENCIES);
        // Spec 5.1.2: N is max_virtqueue_pairs with MQ or RSS.
        if (hasFeature(f, VIRTIO_NET_F_MQ) || hasFeature(f, VIRTIO_NET_F_RSS)) pairs = config.u16(C.max_virtqueue_pairs);
        if (pairs < 1 || pairs > 0x8000) return false;
        const rss = hasFeature(f, VIRTIO_NET_F_RSS);
        if (rss || hasFeature(f, VIRTIO_NET_F_HASH_REPORT)) {
          limits = {
            maxKeySize: config.u8(C.rss_max_key_size),
            maxIndirectionTableLength: rss ? config.u16(C.rss_max_indirection_table_length) : 0,
            supportedHashTypes: config.u32(C.supported_hash_types),
            // [net.drv.47]: bits the specification does not define are ignored.
            supportedTunnelTypes: hasFeature(f, VIRTIO_NET_F_HASH_TUNNEL) ? config.u32(C.supported_tunnel_types) & VIRTIO_NET_HASH_TUNNEL_TYPE_ALL : 0,
            pairs,
          };
        }
        if (hasFeature(f, VIRTIO_NET_F_MTU)) mtu = config.u16(C.mtu);
        if (hasFeature(f, VIRTIO_NET_F_MAC)) mac = Uint8Array.from({ length: ETH_ALEN }, (_, i) => config.u8(C.mac + i));
        for (let p = 0; p < pairs; p++) queues.push({ index: 2 * p, size: opts.queueSize }, { index: 2 * p + 1, size: opts.queueSize });
        if (hasFeature(f, VIRTIO_NET_F_CTRL_VQ)) queues.push({ index: (ctrlIndex = 2 * pairs), size: opts.queueSize });
        const hdr = netHdrSize(hasFeature(f, VIRTIO_F_VERSION_1), hasFeature(f, VIRTIO_NET_F_MRG_RXBUF), hasFeature(f, VIRTIO_NET_F_HASH_REPORT));
        const guestGso = f & featureMask(VIRTIO_NET_F_GUEST_TSO4, VIRTIO_NET_F_GUEST_TSO6, VIRTIO_NET_F_GUEST_UFO, VIRTIO_NET_F_GUEST_USO4, VIRTIO_NET_F_GUEST_USO6);
        const hostGso = f & featureMask(VIRTIO_NET_F_HOST_TSO4, VIRTIO_NET_F_HOST_TSO6, VIRTIO_NET_F_HOST_UFO, VIRTIO_NET_F_HOST_USO);
        // [net.drv.5, 42]: buffers big enough for an MTU-sized packet, or a 64 KiB GSO packet without MRG_RXBUF.
        this.#rxSize = opts.rxBufferSize ?? (hasFeature(f, VIRTIO_NET_F_MRG_RXBUF) ? 2048 : guestGso ? 65601 : Math.max(1526, hdr + mtu + ETH_HLEN + VLAN_HLEN));
        // [net.drv.42]: with MRG_RXBUF every buffer holds at least the header.
        if (this.#rxSize < hdr) return false;
        this.#txSize = opts.txBufferSize ?? (hostGso ? hdr + 65535 + ETH_HLEN + VLAN_HLEN : hdr + mtu + ETH_HLEN + VLAN_HLEN);
        return true;
      },
      setup: (qs) => {
        for (let p = 0; p < pairs; p++) this.#fillRx(qs[2 * p]);
      },
    });
    this.features = this.device.features;
    this.hdrSize = netHdrSize(
      hasFeature(this.features, VIRTIO_F_VERSION_1),
      hasFeature(this.features, VIRTIO_NET_F_MRG_RXBUF),
      hasFeature(this.features, VIRTIO_NET_F_HASH_REPORT),
    );
    this.rssLimits = limits;
    this.#hdr = new Uint8Array(this.hdrSize);
    this.maxPairs = pairs;
    this.mtu = mtu;
    this.#ctrlIndex = ctrlIndex;
    // [net.drv.2]: the device's MAC when negotiated, else a locally administered random one,
    // which the device is told about when it can be ([net.drv.51]: its filter uses its own mac).
    this.mac = mac ?? randomMac();
    if (!mac && this.#has(VIRTIO_NET_F_CTRL_RX) && this.#has(VIRTIO_NET_F_CTRL_MAC_ADDR)) {
      void this.#command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, this.mac.slice()).catch(() => false);
    }
    for (let p = 0; p < pairs; p++) this.#txFree.push([]);
    this.#readStatus();
  }

  /** Bytes of each receive buffer, header included. */
  get rxBufferSize(): number {
    return this.#rxSize;
  }
  /** Bytes of each transmit buffer, header included. */
  get txBufferSize(): number {
    return this.#txSize;
  }

  #has(bit: number): boolean {
    return hasFeature(this.features, bit);
  }

  /** Whether the link is up: VIRTIO_NET_S_LINK_UP with VIRTIO_NET_F_STATUS, else always (net.drv.3). */
  get linkUp(): boolean {
    return !this.#has(VIRTIO_NET_F_STATUS) || (this.#status & VIRTIO_NET_S_LINK_UP) !== 0;
  }

  /** Whether the device asks the driver to announce itself (VIRTIO_NET_S_ANNOUNCE, GUEST_ANNOUNCE negotiated). */
  get announceRequested(): boolean {
    return this.#has(VIRTIO_NET_F_GUEST_ANNOUNCE) && (this.#status & VIRTIO_NET_S_ANNOUNCE) !== 0;
  }

  /** Link speed in Mbit/s (VIRTIO_NET_F_SPEED_DUPLEX), undefined when unknown or not negotiated. */
  get speed(): number | undefined {
    return this.#speed;
  }
  /** Duplex (VIRTIO_NET_F_SPEED_DUPLEX), undefined when unknown or not negotiated. */
  get duplex(): 'full' | 'half' | undefined {
    return this.#duplex;
  }

  /** Re-reads status and, with SPEED_DUPLEX, speed and duplex (net.drv.9). */
  #readStatus(): void {
    if (this.#has(VIRTIO_NET_F_STATUS)) this.#status = this.device.readConfig((c) => c.u16(C.status));
    if (this.#has(VIRTIO_NET_F_SPEED_DUPLEX)) {
      const [speed, duplex] = this.device.readConfig((c) => [c.u32(C.speed), c.u8(C.duplex)]);
      // [net.drv.8]: speed above 0x7fffffff and duplex other than 0 or 1 mean unknown.
      this.#speed = speed >>> 0 <= 0x7fffffff ? speed >>> 0 : undefined;
      this.#duplex = duplex === 0 ? 'full' : duplex === 1 ? 'half' : undefined;
    }
  }

  #fillRx(q: DriverQueue | undefined): void {
    if (!q) return;
    while (q.numFree > 0) {
      const addr = this.#allocator.alloc(this.rxBufferSize, 8);
      if (!q.add([], [{ addr, len: this.rxBufferSize }], addr)) {
        this.#allocator.free(addr);
        break;
      }
    }
  }

  /**
   * Queues one frame (Ethernet header first) on transmitq(pair+1) with `header` (default: no
   * offload). Checks the driver requirements on the header first.
   * @returns false when the queue is full (nothing queued; call {@link handleInterrupt} or {@link poll} and retry)
   * @throws NetDriverError 'not-allowed' (the requirement broken is in the message), 'bad-frame', 'not-live'
   */
  send(frame: Uint8Array, header: NetHeader = PLAIN_HEADER, pair = 0): boolean {
    if (!this.#live || this.device.needsReset) throw new NetDriverError('not-live', 'the device was reset or needs a reset');
    // [net.drv.58, 59]: only transmit queues of active pairs.
    if (!Number.isInteger(pair) || pair < 0 || pair >= this.activePairs) throw new NetDriverError('not-allowed', `transmitq${pair + 1} is not active`);
    if (frame.length < ETH_HLEN || this.hdrSize + frame.length > this.txBufferSize) {
      throw new NetDriverError('bad-frame', `frame of ${frame.length} bytes does not fit a ${this.txBufferSize}-byte transmit buffer`);
    }
    const hdrLen = this.#checkHeader(frame, header);
    const index = 2 * pair + 1;
    const q = this.device.queues[index];
    if (!q || q.numFree === 0) return false;
    const free = this.#txFree[pair];
    const addr = free.pop() ?? this.#allocator.alloc(this.txBufferSize, 8);
    // [net.drv.13]: num_buffers 0 on transmit.
    encodeNetHeader({ ...header, hdrLen, numBuffers: 0, hashValue: 0, hashReport: 0 }, this.#hdr, this.hdrSize);
    this.#memory.write(addr, this.#hdr);
    this.#memory.write(addr + this.hdrSize, frame);
    if (!q.add([{ addr, len: this.hdrSize + frame.length }], [], addr)) {
      free.push(addr);
      return false;
    }
    this.device.kick(index);
    return true;
  }

  /**
   * Driver requirements on a transmitted header (spec 5.1.6.2.1); returns the hdr_len to send.
   * @throws NetDriverError 'not-allowed'
   */
  #checkHeader(frame: Uint8Array, h: NetHeader): number {
    const bad = (id: string, why: string): never => {
      throw new NetDriverError('not-allowed', `[${id}] ${why}`);
    };
    const flags = h.flags;
    if (flags & ~VIRTIO_NET_HDR_F_NEEDS_CSUM) bad('net.drv.39', 'only VIRTIO_NET_HDR_F_NEEDS_CSUM may be set on transmit');
    if (flags && !this.#has(VIRTIO_NET_F_CSUM)) bad('net.drv.14', 'flags must be 0 without VIRTIO_NET_F_CSUM');
    if (flags & VIRTIO_NET_HDR_F_NEEDS_CSUM && h.csumStart + h.csumOffset + 2 > frame.length) {
      bad('net.drv.28', 'the checksum field at csum_start + csum_offset lies outside the frame');
    }
    const ecn = (h.gsoType & VIRTIO_NET_HDR_GSO_ECN) !== 0;
    const gso = h.gsoType & ~VIRTIO_NET_HDR_GSO_ECN;
    if (gso === VIRTIO_NET_HDR_GSO_NONE) {
      if (ecn) bad('net.drv.20', 'the ECN bit needs a TCP gso_type');
      // [net.drv.6]: no packet above the MTU without segmentation.
      const vlan = frame[12] === 0x81 && frame[13] === 0 ? VLAN_HLEN : 0;
      if (this.#has(VIRTIO_NET_F_MTU) && frame.length > this.mtu + ETH_HLEN + vlan) bad('net.drv.6', `frame exceeds the MTU of ${this.mtu}`);
      return h.hdrLen;
    }
    if (gso === VIRTIO_NET_HDR_GSO_TCPV4 && !this.#has(VIRTIO_NET_F_HOST_TSO4)) bad('net.drv.16', 'GSO_TCPV4 needs VIRTIO_NET_F_HOST_TSO4');
    if (gso === VIRTIO_NET_HDR_GSO_TCPV6 && !this.#has(VIRTIO_NET_F_HOST_TSO6)) bad('net.drv.17', 'GSO_TCPV6 needs VIRTIO_NET_F_HOST_TSO6');
    if (gso === VIRTIO_NET_HDR_GSO_UDP && !this.#has(VIRTIO_NET_F_HOST_UFO)) bad('net.drv.18', 'GSO_UDP needs VIRTIO_NET_F_HOST_UFO');
    if (gso === VIRTIO_NET_HDR_GSO_UDP_L4 && !this.#has(VIRTIO_NET_F_HOST_USO)) bad('net.drv.19', 'GSO_UDP_L4 needs VIRTIO_NET_F_HOST_USO');
    if (gso !== VIRTIO_NET_HDR_GSO_TCPV4 && gso !== VIRTIO_NET_HDR_GSO_TCPV6 && gso !== VIRTIO_NET_HDR_GSO_UDP && gso !== VIRTIO_NET_HDR_GSO_UDP_L4) {
      bad('net.drv.29', `gso_type ${h.gsoType} is not one this driver may use`);
    }
    if (ecn && (!this.#has(VIRTIO_NET_F_HOST_ECN) || gso === VIRTIO_NET_HDR_GSO_UDP || gso === VIRTIO_NET_HDR_GSO_UDP_L4)) {
      bad('net.drv.20', 'the ECN bit needs VIRTIO_NET_F_HOST_ECN and a TCP gso_type');
    }
    if (!(flags & VIRTIO_NET_HDR_F_NEEDS_CSUM) || h.gsoSize === 0) bad('net.drv.30', 'GSO needs NEEDS_CSUM and a gso_size');
    // hdr_len 0 asks the driver to fill it in. [net.drv.31]: with GUEST_HDRLEN exactly the
    // headers up to the transport payload; [net.drv.32]: without it at least that (a hint).
    const exact = this.#has(VIRTIO_NET_F_GUEST_HDRLEN);
    const headers = headersLength(frame);
    if (headers === 0) {
      if (exact && h.hdrLen === 0) bad('net.drv.31', 'hdr_len is 0 and the headers cannot be parsed to fill it in (VIRTIO_NET_F_GUEST_HDRLEN)');
      return h.hdrLen;
    }
    if (exact && h.hdrLen !== 0 && h.hdrLen !== headers) {
      bad('net.drv.31', `hdr_len ${h.hdrLen} is not the ${headers} bytes of headers (VIRTIO_NET_F_GUEST_HDRLEN)`);
    }
    return Math.max(h.hdrLen, headers);
  }

  /**
   * Handles the device's interrupt: reaps every queue, delivers received frames to onFrame,
   * re-posts receive buffers, resolves control commands, re-reads status on a configuration change.
   */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#live = false;
      for (const r of this.#ctrlQueue.splice(0)) r.resolve(null);
      return;
    }
    if (ev.usedBuffer) this.poll();
    if (ev.configChange) {
      this.#readStatus();
      this.#onConfigChange?.();
      // [net.drv.55]: an announce request is acknowledged (after onConfigChange had the chance to announce).
      if (this.announceRequested && !this.#acking) {
        this.#acking = true;
        void this.ackAnnounce().finally(() => (this.#acking = false));
      }
    }
  }

  /** Reaps all queues without waiting for an interrupt (see {@link handleInterrupt}). */
  poll(): void {
    if (!this.#live) return;
    for (let p = 0; p < this.maxPairs; p++) {
      this.#reapRx(p);
      const tq = this.device.queues[2 * p + 1];
      let u;
      while (tq && (u = tq.reap()) !== null) this.#txFree[p].push(u.token as number);
    }
    this.#reapCtrl();
  }

  #reapRx(pair: number): void {
    const q = this.device.queues[2 * pair] as DriverQueue<number> | undefined;
    if (!q) return;
    const mem = this.#memory;
    let any = false;
    let u;
    while ((u = q.reap()) !== null) {
      any = true;
      const bufs = [u];
      let ok = u.len >= this.hdrSize;
      let header = PLAIN_HEADER;
      if (ok) {
        mem.read(u.token, this.#hdr);
        header = decodeNetHeader(this.#hdr, this.hdrSize);
        const n = this.#has(VIRTIO_NET_F_MRG_RXBUF) ? header.numBuffers : 1;
        // [net.dev.30] seen from here: all num_buffers buffers are used together.
        for (let i = 1; i < n; i++) {
          const next = q.reap();
          if (next === null) {
            ok = false;
            break;
          }
          bufs.push(next);
        }
        if (n < 1) ok = false;
      }
      if (ok) {
        let len = -this.hdrSize;
        for (const b of bufs) len += b.len;
        const frame = new Uint8Array(len);
        let off = 0;
        for (let i = 0; i < bufs.length; i++) {
          const skip = i === 0 ? this.hdrSize : 0;
          mem.read(bufs[i].token + skip, frame.subarray(off, off + bufs[i].len - skip));
          off += bufs[i].len - skip;
        }
        this.#onFrame?.(frame, header, pair);
      } else {
        this.rxErrors++;
      }
      for (const b of bufs) q.add([], [{ addr: b.token, len: this.rxBufferSize }], b.token);
    }
    if (any) this.device.kick(2 * pair);
  }

  #reapCtrl(): void {
    const q = this.#ctrlIndex >= 0 ? this.device.queues[this.#ctrlIndex] : undefined;
    let u;
    while (q && (u = q.reap()) !== null) {
      const req = this.#ctrlQueue.find((r) => r.addr === u!.token);
      if (!req) continue;
      this.#ctrlQueue.splice(this.#ctrlQueue.indexOf(req), 1);
      const ack = this.#memory.readU8(req.addr + req.ackAt);
      // The device wrote u.len bytes: the ack, then the result.
      const result = new Uint8Array(Math.max(0, Math.min(u.len - 1, req.resultSize)));
      this.#memory.read(req.addr + req.ackAt + 1, result);
      this.#allocator.free(req.addr);
      req.resolve(ack === VIRTIO_NET_OK ? result : null);
    }
  }

  /**
   * Sends a control command; resolves true on VIRTIO_NET_OK, false on VIRTIO_NET_ERR (or a
   * device reset). `data` is the command-specific-data.
   */
  #command(cls: number, cmd: number, data: Uint8Array): Promise<boolean> {
    return new Promise((resolve, reject) => this.#submit(cls, cmd, data, 0, (result) => resolve(result !== null), reject));
  }

  /**
   * Sends a control command with room for `resultSize` bytes of command-specific-result after
   * the ack; resolves the bytes the device wrote there on VIRTIO_NET_OK, null on VIRTIO_NET_ERR
   * (or a device reset).
   */
  #commandResult(cls: number, cmd: number, data: Uint8Array, resultSize: number): Promise<Uint8Array | null> {
    return new Promise((resolve, reject) => this.#submit(cls, cmd, data, resultSize, resolve, reject));
  }

  #submit(cls: number, cmd: number, data: Uint8Array, resultSize: number, resolve: CtrlRequest['resolve'], reject: (e: Error) => void): void {
    if (!this.#live || this.device.needsReset) return reject(new NetDriverError('not-live', 'the device was reset or needs a reset'));
    const q = this.#ctrlIndex >= 0 ? this.device.queues[this.#ctrlIndex] : undefined;
    if (!q) return reject(new NetDriverError('not-negotiated', 'VIRTIO_NET_F_CTRL_VQ was not negotiated'));
    // One allocation: class, command, data at 0; the ack byte at 255 (or after the data), the result after it.
    const ackAt = Math.max(255, 2 + data.length);
    const addr = this.#allocator.alloc(ackAt + 1 + resultSize, 8);
    this.#memory.writeU8(addr, cls);
    this.#memory.writeU8(addr + 1, cmd);
    this.#memory.write(addr + 2, data);
    this.#memory.writeU8(addr + ackAt, 0xff);
    if (!q.add([{ addr, len: 2 + data.length }], [{ addr: addr + ackAt, len: 1 + resultSize }], addr)) {
      this.#allocator.free(addr);
      return reject(new NetDriverError('not-live', 'control queue full'));
    }
    this.#ctrlQueue.push({ addr, ackAt, resultSize, resolve });
    this.device.kick(this.#ctrlIndex);
  }

  #need(bit: number, id: string, what: string): void {
    if (!this.#has(bit)) throw new NetDriverError('not-negotiated', `[${id}] ${what}`);
  }

  /** VIRTIO_NET_CTRL_RX_PROMISC. @throws NetDriverError 'not-negotiated' without CTRL_RX (net.drv.48) */
  setPromisc(on: boolean): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_RX, 'net.drv.48', 'VIRTIO_NET_CTRL_RX needs VIRTIO_NET_F_CTRL_RX');
    return this.#command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_PROMISC, Uint8Array.of(on ? 1 : 0));
  }

  /** VIRTIO_NET_CTRL_RX_ALLMULTI. @throws NetDriverError 'not-negotiated' without CTRL_RX (net.drv.48) */
  setAllmulti(on: boolean): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_RX, 'net.drv.48', 'VIRTIO_NET_CTRL_RX needs VIRTIO_NET_F_CTRL_RX');
    return this.#command(VIRTIO_NET_CTRL_RX, VIRTIO_NET_CTRL_RX_ALLMULTI, Uint8Array.of(on ? 1 : 0));
  }

  /**
   * VIRTIO_NET_CTRL_MAC_TABLE_SET: le32 count + unicast addresses, le32 count + multicast
   * addresses (net.drv.52). @throws NetDriverError without CTRL_RX (net.drv.50) or for a bad address
   */
  setMacTable(unicast: readonly Uint8Array[], multicast: readonly Uint8Array[]): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_RX, 'net.drv.50', 'VIRTIO_NET_CTRL_MAC needs VIRTIO_NET_F_CTRL_RX');
    const all = [...unicast, ...multicast];
    if (all.some((m) => m.length !== ETH_ALEN)) throw new NetDriverError('not-allowed', 'MAC addresses are 6 bytes');
    if (unicast.some((m) => m[0] & 1) || multicast.some((m) => !(m[0] & 1))) {
      throw new NetDriverError('not-allowed', '[net.drv.52] unicast entries first, then multicast entries');
    }
    const data = new Uint8Array(8 + all.length * ETH_ALEN);
    const dv = new DataView(data.buffer);
    dv.setUint32(0, unicast.length, true);
    unicast.forEach((m, i) => data.set(m, 4 + i * ETH_ALEN));
    const mOff = 4 + unicast.length * ETH_ALEN;
    dv.setUint32(mOff, multicast.length, true);
    multicast.forEach((m, i) => data.set(m, mOff + 4 + i * ETH_ALEN));
    return this.#command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_TABLE_SET, data);
  }

  /** VIRTIO_NET_CTRL_MAC_ADDR_SET; on success {@link mac} follows. @throws NetDriverError without CTRL_MAC_ADDR */
  async setMac(mac: Uint8Array): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_MAC_ADDR, 'net.drv.50', 'VIRTIO_NET_CTRL_MAC_ADDR_SET needs VIRTIO_NET_F_CTRL_MAC_ADDR');
    if (mac.length !== ETH_ALEN) throw new NetDriverError('not-allowed', 'MAC addresses are 6 bytes');
    const ok = await this.#command(VIRTIO_NET_CTRL_MAC, VIRTIO_NET_CTRL_MAC_ADDR_SET, mac.slice());
    if (ok) this.mac = mac.slice();
    return ok;
  }

  /** VIRTIO_NET_CTRL_VLAN_ADD / _DEL. @throws NetDriverError without CTRL_VLAN or for vid >= 4096 */
  setVlan(vid: number, on: boolean): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_VLAN, 'net.drv.50', 'VIRTIO_NET_CTRL_VLAN needs VIRTIO_NET_F_CTRL_VLAN');
    if (!Number.isInteger(vid) || vid < 0 || vid >= VLAN_N_VID) throw new NetDriverError('not-allowed', `VLAN id ${vid} out of range`);
    return this.#command(VIRTIO_NET_CTRL_VLAN, on ? VIRTIO_NET_CTRL_VLAN_ADD : VIRTIO_NET_CTRL_VLAN_DEL, Uint8Array.of(vid & 0xff, vid >>> 8));
  }

  /** VIRTIO_NET_CTRL_ANNOUNCE_ACK, after announcing (net.drv.55). @throws NetDriverError without GUEST_ANNOUNCE */
  async ackAnnounce(): Promise<boolean> {
    this.#need(VIRTIO_NET_F_GUEST_ANNOUNCE, 'net.drv.55', 'VIRTIO_NET_CTRL_ANNOUNCE needs VIRTIO_NET_F_GUEST_ANNOUNCE');
    const ok = await this.#command(VIRTIO_NET_CTRL_ANNOUNCE, VIRTIO_NET_CTRL_ANNOUNCE_ACK, new Uint8Array(0));
    this.#readStatus();
    return ok;
  }

  /**
   * VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET; all queues were configured at initialization (net.drv.56).
   * Fewer pairs take effect for transmit at once (net.drv.59).
   * @throws NetDriverError without MQ, or for 0 or more than max_virtqueue_pairs (net.drv.57)
   */
  async setQueuePairs(pairs: number): Promise<boolean> {
    this.#need(VIRTIO_NET_F_MQ, 'net.drv.57', 'VIRTIO_NET_CTRL_MQ needs VIRTIO_NET_F_MQ');
    if (!Number.isInteger(pairs) || pairs < 1 || pairs > this.maxPairs) {
      throw new NetDriverError('not-allowed', `[net.drv.57] virtqueue_pairs ${pairs} not in 1..${this.maxPairs}`);
    }
    const before = this.activePairs;
    this.activePairs = Math.min(before, pairs);
    const ok = await this.#command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_VQ_PAIRS_SET, Uint8Array.of(pairs & 0xff, pairs >>> 8));
    this.activePairs = ok ? pairs : before;
    return ok;
  }

  /**
   * VIRTIO_NET_CTRL_RX_ALLUNI, _NOMULTI, _NOUNI or _NOBCAST (pass the command).
   * @throws NetDriverError 'not-negotiated' without CTRL_RX_EXTRA (net.drv.49), 'not-allowed' for another command
   */
  setRxExtra(command: number, on: boolean): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_RX_EXTRA, 'net.drv.49', 'ALLUNI, NOMULTI, NOUNI and NOBCAST need VIRTIO_NET_F_CTRL_RX_EXTRA');
    const extra = [VIRTIO_NET_CTRL_RX_ALLUNI, VIRTIO_NET_CTRL_RX_NOMULTI, VIRTIO_NET_CTRL_RX_NOUNI, VIRTIO_NET_CTRL_RX_NOBCAST];
    if (!extra.includes(command)) throw new NetDriverError('not-allowed', `${command} is not a VIRTIO_NET_F_CTRL_RX_EXTRA command`);
    return this.#command(VIRTIO_NET_CTRL_RX, command, Uint8Array.of(on ? 1 : 0));
  }

  /**
   * VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET: the GUEST_* offloads (bits at their feature bit
   * numbers, e.g. featureMask(VIRTIO_NET_F_GUEST_CSUM)) the device may use from now on.
   * @throws NetDriverError 'not-negotiated' without CTRL_GUEST_OFFLOADS; 'not-allowed' for an
   *   offload that was not negotiated (net.drv.68)
   */
  setGuestOffloads(offloads: bigint): Promise<boolean> {
    this.#need(VIRTIO_NET_F_CTRL_GUEST_OFFLOADS, 'net.drv.68', 'VIRTIO_NET_CTRL_GUEST_OFFLOADS needs VIRTIO_NET_F_CTRL_GUEST_OFFLOADS');
    const negotiated = this.features & GUEST_OFFLOAD_BITS;
    if (offloads < 0n || (offloads & ~negotiated) !== 0n) {
      throw new NetDriverError('not-allowed', `[net.drv.68] offloads 0x${offloads.toString(16)} include some not negotiated (0x${negotiated.toString(16)})`);
    }
    const data = new Uint8Array(8);
    new DataView(data.buffer).setBigUint64(0, offloads, true);
    return this.#command(VIRTIO_NET_CTRL_GUEST_OFFLOADS, VIRTIO_NET_CTRL_GUEST_OFFLOADS_SET, data);
  }

  /**
   * VIRTIO_NET_CTRL_MQ_RSS_CONFIG: hash types, key and indirection table; on success transmit
   * may use max_tx_vq queue pairs ({@link activePairs}).
   * @throws NetDriverError 'not-negotiated' without RSS (net.drv.60); 'not-allowed' for a
   *   configuration breaking net.drv.61..64
   */
  async configureRss(c: RssConfig): Promise<boolean> {
    this.#need(VIRTIO_NET_F_RSS, 'net.drv.60', 'VIRTIO_NET_CTRL_MQ_RSS_CONFIG needs VIRTIO_NET_F_RSS');
    const data = encodeRssConfig(c, this.rssLimits);
    const maxTx = new DataView(data.buffer).getUint16(8 + 2 * c.indirectionTable.length, true);
    const before = this.activePairs;
    this.activePairs = Math.min(before, maxTx);
    const ok = await this.#command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_RSS_CONFIG, data);
    this.activePairs = ok ? maxTx : before;
    return ok;
  }

  /**
   * VIRTIO_NET_CTRL_MQ_HASH_CONFIG: hash types and key of the reported hash (HASH_REPORT without RSS).
   * @throws NetDriverError 'not-negotiated' without HASH_REPORT, or with RSS (use {@link configureRss});
   *   'not-allowed' for unsupported hash types (net.drv.64)
   */
  setHashConfig(hashTypes: number, key: Uint8Array): Promise<boolean> {
    this.#need(VIRTIO_NET_F_HASH_REPORT, 'net.dev.71', 'VIRTIO_NET_CTRL_MQ_HASH_CONFIG needs VIRTIO_NET_F_HASH_REPORT');
    if (this.#has(VIRTIO_NET_F_RSS)) throw new NetDriverError('not-negotiated', 'with VIRTIO_NET_F_RSS the hash is configured by VIRTIO_NET_CTRL_MQ_RSS_CONFIG');
    return this.#command(VIRTIO_NET_CTRL_MQ, VIRTIO_NET_CTRL_MQ_HASH_CONFIG, encodeHashConfig(hashTypes, key, this.rssLimits));
  }

  /**
   * VIRTIO_NET_CTRL_HASH_TUNNEL_SET: the encapsulation types (VIRTIO_NET_HASH_TUNNEL_TYPE_*)
   * whose inner header is hashed; 0 hashes the outer header of every packet.
   * @throws NetDriverError 'not-negotiated' without HASH_TUNNEL (net.drv.45); 'not-allowed' for
   *   types not in supported_tunnel_types (net.drv.46)
   */
  setHashTunnel(types: number): Promise<boolean> {
    this.#need(VIRTIO_NET_F_HASH_TUNNEL, 'net.drv.45', 'VIRTIO_NET_CTRL_HASH_TUNNEL_SET needs VIRTIO_NET_F_HASH_TUNNEL');
    if (!Number.isInteger(types) || types < 0 || (types & ~this.rssLimits.supportedTunnelTypes) !== 0) {
      throw new NetDriverError('not-allowed', `[net.drv.46] tunnel types 0x${types.toString(16)} are not all in supported_tunnel_types 0x${this.rssLimits.supportedTunnelTypes.toString(16)}`);
    }
    const data = new Uint8Array(4);
    new DataView(data.buffer).setUint32(0, types, true);
    return this.#command(VIRTIO_NET_CTRL_HASH_TUNNEL, VIRTIO_NET_CTRL_HASH_TUNNEL_SET, data);
  }

  /**
   * VIRTIO_NET_CTRL_NOTF_COAL_TX_SET / _RX_SET: coalescing of every transmit or receive queue.
   * @throws NetDriverError 'not-negotiated' without NOTF_COAL (net.drv.71)
   */
  setCoalescing(direction: 'tx' | 'rx', p: CoalesceParams): Promise<boolean> {
    this.#need(VIRTIO_NET_F_NOTF_COAL, 'net.drv.71', 'VIRTIO_NET_CTRL_NOTF_COAL_TX_SET and _RX_SET need VIRTIO_NET_F_NOTF_COAL');
    const data = new Uint8Array(8);
    const dv = new DataView(data.buffer);
    dv.setUint32(0, p.maxPackets, true);
    dv.setUint32(4, p.maxUsecs, true);
    return this.#command(VIRTIO_NET_CTRL_NOTF_COAL, direction === 'tx' ? VIRTIO_NET_CTRL_NOTF_COAL_TX_SET : VIRTIO_NET_CTRL_NOTF_COAL_RX_SET, data);
  }

  #checkCoalVq(vq: number): void {
    this.#need(VIRTIO_NET_F_VQ_NOTF_COAL, 'net.drv.72', 'VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET and _VQ_GET need VIRTIO_NET_F_VQ_NOTF_COAL');
    // [net.drv.70]: an enabled transmit or receive queue.
    if (!Number.isInteger(vq) || vq < 0 || vq >= 2 * this.maxPairs) throw new NetDriverError('not-allowed', `[net.drv.70] ${vq} is not a receive or transmit queue`);
  }

  /**
   * VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET: coalescing of virtqueue `vq`.
   * @throws NetDriverError 'not-negotiated' without VQ_NOTF_COAL (net.drv.72); 'not-allowed' for a vq that is no receive/transmit queue (net.drv.70)
   */
  setQueueCoalescing(vq: number, p: CoalesceParams): Promise<boolean> {
    this.#checkCoalVq(vq);
    const data = new Uint8Array(12);
    const dv = new DataView(data.buffer);
    dv.setUint16(0, vq, true);
    dv.setUint32(4, p.maxPackets, true);
    dv.setUint32(8, p.maxUsecs, true);
    return this.#command(VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_SET, data);
  }

  /**
   * VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET: the coalescing parameters of virtqueue `vq`, or undefined
   * when the device answered VIRTIO_NET_ERR (whatever it wrote is ignored, net.drv.73).
   * @throws NetDriverError as {@link setQueueCoalescing}
   */
  async getQueueCoalescing(vq: number): Promise<CoalesceParams | undefined> {
    this.#checkCoalVq(vq);
    const result = await this.#commandResult(VIRTIO_NET_CTRL_NOTF_COAL, VIRTIO_NET_CTRL_NOTF_COAL_VQ_GET, Uint8Array.of(vq & 0xff, vq >>> 8, 0, 0), 8);
    if (result === null || result.length < 8) return undefined;
    const dv = new DataView(result.buffer);
    return { maxPackets: dv.getUint32(0, true), maxUsecs: dv.getUint32(4, true) };
  }

  /**
   * VIRTIO_NET_CTRL_STATS_QUERY: the statistics types the device supports (also kept in
   * {@link supportedStats}), or undefined on VIRTIO_NET_ERR.
   * @throws NetDriverError 'not-negotiated' without DEVICE_STATS
   */
  async queryStats(): Promise<bigint | undefined> {
    this.#need(VIRTIO_NET_F_DEVICE_STATS, 'net.dev.85', 'VIRTIO_NET_CTRL_STATS needs VIRTIO_NET_F_DEVICE_STATS');
    const result = await this.#commandResult(VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_QUERY, new Uint8Array(0), 8);
    if (result === null || result.length < 8) return undefined;
    this.supportedStats = new DataView(result.buffer).getBigUint64(0, true);
    return this.supportedStats;
  }

  /**
   * VIRTIO_NET_CTRL_STATS_GET for `requests`, with room for every reply (net.drv.76); resolves
   * the replies, or undefined on VIRTIO_NET_ERR.
   * @throws NetDriverError 'not-negotiated' without DEVICE_STATS; 'not-allowed' for types not
   *   reported by {@link queryStats} (net.drv.74) or not valid for the virtqueue (net.drv.75)
   */
  async getStats(requests: readonly StatsRequest[]): Promise<StatsReply[] | undefined> {
    this.#need(VIRTIO_NET_F_DEVICE_STATS, 'net.dev.85', 'VIRTIO_NET_CTRL_STATS needs VIRTIO_NET_F_DEVICE_STATS');
    const { data, replySize } = encodeStatsRequest(requests, this.supportedStats, this.#ctrlIndex, 2 * this.maxPairs);
    const result = await this.#commandResult(VIRTIO_NET_CTRL_STATS, VIRTIO_NET_CTRL_STATS_GET, data, replySize);
    return result === null ? undefined : decodeStatsReplies(result);
  }

  /** Resets the device; afterwards nothing is sent and pending commands resolve false. */
  reset(): void {
    this.#live = false;
    for (const r of this.#ctrlQueue.splice(0)) r.resolve(null);
    this.device.reset();
  }
}

function randomMac(): Uint8Array {
  const mac = new Uint8Array(ETH_ALEN);
  for (let i = 0; i < ETH_ALEN; i++) mac[i] = Math.floor(Math.random() * 256);
  mac[0] = (mac[0] & 0xfe) | 0x02; // unicast, locally administered
  return mac;
}
