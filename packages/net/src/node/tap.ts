/**
 * A TAP backend (Linux): opens /dev/net/tun, attaches to (or creates) the TAP interface `name`
 * with IFF_TAP | IFF_NO_PI | IFF_VNET_HDR, sets TUNSETVNETHDRSZ to the 12-byte struct
 * virtio_net_hdr and TUNSETOFFLOAD to the offloads the driver negotiated. Reads happen in a
 * worker thread blocked in poll(2), so the event loop never blocks; frames reach the device
 * through a SharedArrayBuffer ring. Writes are one write(2) per frame from the caller's thread.
 *
 * Back-pressure: while the device has paused the backend, the main thread stops consuming the
 * ring; once it is full the reader stops reading and frames wait in the kernel's TAP queue
 * (which drops beyond txqueuelen, as any NIC would).
 */
import { createRequire } from 'node:module';
import { Worker } from 'node:worker_threads';
import type { NetBackend, NetOffloads, NetReceiver } from '../backend.js';
import { TapError } from './errors.js';
import * as libc from './libc.js';
import {
  READER_SOURCE,
  RING_CONTROL_WORDS,
  RING_ERRNO,
  RING_FAILED,
  RING_HEAD,
  RING_STOP,
  RING_TAIL,
} from './reader-worker.js';

/** Bytes of struct virtio_net_hdr the TAP device exchanges (TUNSETVNETHDRSZ). */
export const TAP_VNET_HDR_SIZE = 12;
/** Largest read: a 64 KiB GSO packet with Ethernet, VLAN and virtio-net headers. */
const SLOT_SIZE = 65536 + 64;

export interface TapBackendOptions {
  /** Interface name (at most 15 bytes), e.g. "tap0"; a pattern like "tap%d" lets the kernel choose. */
  readonly name: string;
  /** Carry struct virtio_net_hdr (IFF_VNET_HDR): checksum and segmentation offloads. Default true. */
  readonly vnetHeader?: boolean;
  /** Frames the reader may hold ahead of the device (a power of two). Default 64. */
  readonly ringSlots?: number;
  /** Path of the clone device. Default /dev/net/tun. */
  readonly path?: string;
}

type WaitAsync = (ta: Int32Array, index: number, value: number) => { async: boolean; value: Promise<string> | string };
const waitAsync = (Atomics as unknown as { waitAsync: WaitAsync }).waitAsync;

export class TapBackend implements NetBackend {
  readonly vnetHeader: boolean;
  /** The kernel sets VIRTIO_NET_HDR_F_DATA_VALID only for checksums it validated. */
  readonly checksumsValidated = true;
  /** The kernel handles VIRTIO_NET_HDR_GSO_UDP_L4 (Linux 6.2 and later; probed with TUNSETOFFLOAD). */
  readonly uso: boolean;
  /** The interface name the kernel gave (resolves patterns like "tap%d"). */
  readonly name: string;
  /** Frames write(2) refused (interface down, no carrier); they are dropped as a wire drops them. */
  txDropped = 0;
  /** Set when the reader stopped on an error: no more frames will be received. */
  error: TapError | undefined;
  readonly #fd: number;
  readonly #efd: number;
  readonly #ctrl: Int32Array;
  readonly #lens: Int32Array;
  readonly #frames: Uint8Array[];
  readonly #headers: (Uint8Array | null)[];
  readonly #slots: number;
  readonly #worker: Worker;
  readonly #out = new Uint8Array(SLOT_SIZE);
  #receiver: NetReceiver | undefined;
  #paused = true;
  #armed = false;
  #closed = false;
  #consuming = false;
  #more = false;

  /**
   * @throws TapError with a clear message: ENOENT (/dev/net/tun missing), EPERM (no
   * CAP_NET_ADMIN), EBUSY (the name is held by another process), EINVAL; RangeError for a bad
   * name or ring size.
   */
  constructor(opts: TapBackendOptions) {
    const nameBytes = new TextEncoder().encode(opts.name);
    if (nameBytes.length === 0 || nameBytes.length >= libc.IFNAMSIZ) throw new RangeError(`TAP name must be 1..15 bytes: "${opts.name}"`);
    const slots = opts.ringSlots ?? 64;
    if (!Number.isInteger(slots) || slots < 2 || (slots & (slots - 1)) !== 0) throw new RangeError('ringSlots must be a power of two >= 2');
    this.vnetHeader = opts.vnetHeader ?? true;
    const path = opts.path ?? '/dev/net/tun';
    const fd = libc.open(path, libc.O_RDWR | libc.O_NONBLOCK | libc.O_CLOEXEC);
    if (fd < 0) throw new TapError(`open ${path}`, libc.errno());
    let uso = false;
    try {
      const ifr = new Uint8Array(libc.IFREQ_SIZE);
      ifr.set(nameBytes);
      const flags = libc.IFF_TAP | libc.IFF_NO_PI | (this.vnetHeader ? libc.IFF_VNET_HDR : 0);
      new DataView(ifr.buffer).setUint16(libc.IFNAMSIZ, flags, true);
      if (libc.ioctlBuffer(fd, libc.TUNSETIFF, ifr) < 0) throw new TapError(`TUNSETIFF ${opts.name}`, libc.errno());
      const end = ifr.indexOf(0);
      this.name = new TextDecoder().decode(ifr.subarray(0, end < 0 ? libc.IFNAMSIZ : Math.min(end, libc.IFNAMSIZ)));
      if (this.vnetHeader) {
        const size = Uint8Array.of(TAP_VNET_HDR_SIZE, 0, 0, 0);
        if (libc.ioctlBuffer(fd, libc.TUNSETVNETHDRSZ, size) < 0) throw new TapError('TUNSETVNETHDRSZ', libc.errno());
        uso = libc.ioctlValue(fd, libc.TUNSETOFFLOAD, libc.TUN_F_CSUM | libc.TUN_F_USO4 | libc.TUN_F_USO6) >= 0;
        if (libc.ioctlValue(fd, libc.TUNSETOFFLOAD, 0) < 0) throw new TapError('TUNSETOFFLOAD', libc.errno());
      }
    } catch (err) {
      libc.close(fd);
      throw err;
    }
    const efd = libc.eventfd(0, libc.EFD_CLOEXEC);
    if (efd < 0) {
      const e = libc.errno();
      libc.close(fd);
      throw new TapError('eventfd', e);
    }
    this.uso = uso;
    this.#fd = fd;
    this.#efd = efd;
    this.#slots = slots;
    const dataOffset = (RING_CONTROL_WORDS + slots) * 4 + 64;
    const sab = new SharedArrayBuffer(dataOffset + slots * SLOT_SIZE);
    this.#ctrl = new Int32Array(sab, 0, RING_CONTROL_WORDS);
    this.#lens = new Int32Array(sab, RING_CONTROL_WORDS * 4, slots);
    const hdr = this.vnetHeader ? TAP_VNET_HDR_SIZE : 0;
    this.#frames = [];
    this.#headers = [];
    for (let i = 0; i < slots; i++) {
      const base = dataOffset + i * SLOT_SIZE;
      this.#frames.push(new Uint8Array(sab, base + hdr, SLOT_SIZE - hdr));
      this.#headers.push(this.vnetHeader ? new Uint8Array(sab, base, 10) : null);
    }
    const koffi = createRequire(import.meta.url).resolve('koffi');
    this.#worker = new Worker(READER_SOURCE, { eval: true, workerData: { koffi, fd, efd, sab, slots, slotSize: SLOT_SIZE, dataOffset } });
    this.#worker.unref();
  }

  send(header: Uint8Array | null, frame: readonly Uint8Array[]): void {
    if (this.#closed) return;
    const out = this.#out;
    let len = 0;
    if (this.vnetHeader) {
      if (header) out.set(header.subarray(0, TAP_VNET_HDR_SIZE));
      else out.fill(0, 0, TAP_VNET_HDR_SIZE);
      len = TAP_VNET_HDR_SIZE;
    }
    for (const v of frame) {
      if (len + v.length > out.length) {
        this.txDropped++;
        return;
      }
      out.set(v, len);
      len += v.length;
    }
    if (libc.write(this.#fd, out, len) !== len) this.txDropped++;
  }

  start(receiver: NetReceiver): void {
    this.#receiver = receiver;
  }

  pause(): void {
    this.#paused = true;
  }

  resume(): void {
    if (this.#closed) return;
    this.#paused = false;
    this.#consume();
  }

  /** TUNSETOFFLOAD for the driver's GUEST_* offloads (without vnetHeader nothing is offloaded). */
  setOffloads(o: NetOffloads): void {
    if (!this.vnetHeader || this.#closed) return;
    let flags = 0;
    if (o.csum) {
      flags |= libc.TUN_F_CSUM;
      if (o.tso4) flags |= libc.TUN_F_TSO4;
      if (o.tso6) flags |= libc.TUN_F_TSO6;
      if (o.ecn && (o.tso4 || o.tso6)) flags |= libc.TUN_F_TSO_ECN;
      if (o.ufo) flags |= libc.TUN_F_UFO;
      if (o.uso4) flags |= libc.TUN_F_USO4;
      if (o.uso6) flags |= libc.TUN_F_USO6;
    }
    // Kernels without UFO refuse TUN_F_UFO: retry without it (the device drops such frames anyway).
    if (libc.ioctlValue(this.#fd, libc.TUNSETOFFLOAD, flags) < 0 && libc.ioctlValue(this.#fd, libc.TUNSETOFFLOAD, flags & ~libc.TUN_F_UFO) < 0) {
      throw new TapError('TUNSETOFFLOAD', libc.errno());
    }
  }

  /** Stops the reader, closes the descriptors. The interface goes away unless it is persistent. */
  close(): void {
    if (this.#closed) return;
    this.#closed = true;
    this.#receiver = undefined;
    Atomics.store(this.#ctrl, RING_STOP, 1);
    Atomics.notify(this.#ctrl, RING_TAIL);
    Atomics.notify(this.#ctrl, RING_HEAD);
    libc.write(this.#efd, new Uint8Array(new BigUint64Array([1n]).buffer), 8);
    void this.#worker.terminate().finally(() => {
      libc.close(this.#efd);
      libc.close(this.#fd);
    });
  }

  /**
   * Hands ring frames to the receiver while not paused, then waits for the reader. The receiver
   * may pause and resume this backend from inside the call: a nested call only marks that the
   * running loop should go on.
   */
  #consume(): void {
    if (this.#consuming) {
      this.#more = true;
      return;
    }
    this.#consuming = true;
    const ctrl = this.#ctrl;
    let head = Atomics.load(ctrl, RING_HEAD);
    do {
      this.#more = false;
      let tail = Atomics.load(ctrl, RING_TAIL);
      while (!this.#paused && !this.#closed && tail !== head) {
        const s = tail & (this.#slots - 1);
        const n = this.#lens[s] - (this.vnetHeader ? TAP_VNET_HDR_SIZE : 0);
        tail = (tail + 1) | 0;
        // Released before the call: a nested consume sees the slot as taken.
        Atomics.store(ctrl, RING_TAIL, tail);
        if (n > 0) this.#receiver?.(this.#frames[s].subarray(0, n), this.#headers[s], tail !== head);
        Atomics.notify(ctrl, RING_TAIL);
        tail = Atomics.load(ctrl, RING_TAIL);
        if (tail === head) head = Atomics.load(ctrl, RING_HEAD);
      }
    } while (this.#more && !this.#paused && !this.#closed);
    this.#consuming = false;
    if (Atomics.load(ctrl, RING_FAILED) && Atomics.load(ctrl, RING_TAIL) === head && !this.error) {
      this.error = new TapError('read', Atomics.load(ctrl, RING_ERRNO));
    }
    if (!this.#paused && !this.#closed && !this.error) this.#arm(head);
  }

  #arm(head: number): void {
    if (this.#armed) return;
    this.#armed = true;
    const r = waitAsync(this.#ctrl, RING_HEAD, head);
    const wake = (): void => {
      this.#armed = false;
      if (!this.#paused && !this.#closed) this.#consume();
    };
    if (r.async) void (r.value as Promise<string>).then(wake);
    else queueMicrotask(wake);
  }
}
