/**
 * The receive filter the control queue programs (spec 5.1.6.5.1 "Packet Receive Filtering",
 * 5.1.6.5.2 "MAC Address Filtering", 5.1.6.5.3 "VLAN Filtering"): receive modes, the MAC
 * filtering table and the VLAN filter table. {@link accepts} decides whether a received frame
 * goes to the driver.
 */
import { ETH_ALEN, VLAN_N_VID } from './protocol.js';

/** Entries of each half (unicast, multicast) of the MAC table; more means "accept all of that kind". */
export const MAC_TABLE_ENTRIES = 64;

const ETH_P_8021Q = 0x8100;

export class RxFilter {
  /** VIRTIO_NET_CTRL_RX_PROMISC; on after reset (every frame reaches a driver that never set a mode). */
  promisc = true;
  allmulti = false;
  alluni = false;
  nomulti = false;
  nouni = false;
  nobcast = false;
  /** Whether VLAN filtering applies (VIRTIO_NET_F_CTRL_VLAN negotiated). */
  vlanFiltering = false;
  readonly #unicast = new Uint8Array(MAC_TABLE_ENTRIES * ETH_ALEN);
  readonly #multicast = new Uint8Array(MAC_TABLE_ENTRIES * ETH_ALEN);
  #unicastCount = 0;
  #multicastCount = 0;
  #unicastOverflow = false;
  #multicastOverflow = false;
  readonly #vlans = new Uint8Array(VLAN_N_VID);

  /** Device reset: receive modes back to promiscuous, empty MAC table (net.dev.59), empty VLAN table. */
  reset(): void {
    this.promisc = true;
    this.allmulti = this.alluni = this.nomulti = this.nouni = this.nobcast = false;
    this.vlanFiltering = false;
    this.#unicastCount = this.#multicastCount = 0;
    this.#unicastOverflow = this.#multicastOverflow = false;
    this.#vlans.fill(0);
  }

  /** Number of entries in the unicast and multicast halves of the MAC table. */
  get macTableSize(): { unicast: number; multicast: number } {
    return { unicast: this.#unicastCount, multicast: this.#multicastCount };
  }

  /**
   * Replaces the MAC table (VIRTIO_NET_CTRL_MAC_TABLE_SET). `unicast` and `multicast` are
   * concatenated 6-byte addresses; beyond {@link MAC_TABLE_ENTRIES} that kind overflows to "all".
   */
  setMacTable(unicast: Uint8Array, multicast: Uint8Array): void {
    const u = unicast.length / ETH_ALEN;
    const m = multicast.length / ETH_ALEN;
    this.#unicastOverflow = u > MAC_TABLE_ENTRIES;
    this.#multicastOverflow = m > MAC_TABLE_ENTRIES;
    this.#unicastCount = this.#unicastOverflow ? 0 : u;
    this.#multicastCount = this.#multicastOverflow ? 0 : m;
    if (!this.#unicastOverflow) this.#unicast.set(unicast);
    if (!this.#multicastOverflow) this.#multicast.set(multicast);
  }

  /** VIRTIO_NET_CTRL_VLAN_ADD / _DEL. `vid` < 4096 (checked by the caller). */
  setVlan(vid: number, on: boolean): void {
    this.#vlans[vid] = on ? 1 : 0;
  }

  /**
   * Whether a frame (at least 14 bytes) passes the filter, given the device's own MAC address.
   * Order: VLAN filter, then promiscuous, then broadcast / multicast / unicast rules.
   */
  accepts(frame: Uint8Array, mac: Uint8Array): boolean {
    if (this.vlanFiltering && ((frame[12] << 8) | frame[13]) === ETH_P_8021Q) {
      if (frame.length < 16 || this.#vlans[((frame[14] << 8) | frame[15]) & 0xfff] === 0) return false;
    }
    if (this.promisc) return true;
    if (isBroadcast(frame)) return !this.nobcast;
    if (frame[0] & 1) {
      if (this.nomulti) return false;
      return this.allmulti || this.#multicastOverflow || inTable(this.#multicast, this.#multicastCount, frame);
    }
    if (this.nouni) return false;
    if (this.alluni || this.#unicastOverflow || sameMac(frame, 0, mac)) return true;
    return inTable(this.#unicast, this.#unicastCount, frame);
  }
}

function isBroadcast(frame: Uint8Array): boolean {
  return (frame[0] & frame[1] & frame[2] & frame[3] & frame[4] & frame[5]) === 0xff;
}

function sameMac(table: Uint8Array, offset: number, frame: Uint8Array): boolean {
  for (let i = 0; i < ETH_ALEN; i++) if (table[offset + i] !== frame[i]) return false;
  return true;
}

function inTable(table: Uint8Array, count: number, frame: Uint8Array): boolean {
  for (let e = 0; e < count; e++) if (sameMac(table, e * ETH_ALEN, frame)) return true;
  return false;
}
