/**
 * Two backends joined back to back, like a cable between two NICs: what one device transmits,
 * the other receives. Back-pressure crosses the cable: while a device has paused its end,
 * frames from the peer queue at that end (in order, never dropped) up to `limit`, beyond which
 * they are dropped as a full switch port would.
 */
import type { NetBackend, NetReceiver } from '../backend.js';

/** One end of a {@link createPair}. */
class PairEnd implements NetBackend {
  readonly vnetHeader: boolean;
  /** UDP segmentation crosses with the headers (each device drops what its driver did not negotiate). */
  readonly uso: boolean;
  peer!: PairEnd;
  /** Frames dropped at this end because its queue was full. */
  dropped = 0;
  readonly #limit: number;
  #receiver: NetReceiver | undefined;
  #paused = true;
  #closed = false;
  readonly #queue: { frame: Uint8Array; header: Uint8Array | null }[] = [];
  #pumping = false;

  constructor(vnetHeader: boolean, limit: number) {
    this.vnetHeader = vnetHeader;
    this.uso = vnetHeader;
    this.#limit = limit;
  }

  /** Frames waiting at this end for its device. */
  get queued(): number {
    return this.#queue.length;
  }

  send(header: Uint8Array | null, frame: readonly Uint8Array[]): void {
    this.peer.#arrive(header, frame);
  }
  start(receiver: NetReceiver): void {
    this.#receiver = receiver;
  }
  pause(): void {
    this.#paused = true;
  }
  resume(): void {
    this.#paused = false;
    this.#pump();
  }
  close(): void {
    this.#closed = true;
    this.#receiver = undefined;
    this.#queue.length = 0;
  }

  #arrive(header: Uint8Array | null, frame: readonly Uint8Array[]): void {
    if (this.#closed) return;
    if (this.#queue.length >= this.#limit) {
      this.dropped++;
      return;
    }
    let len = 0;
    for (const v of frame) len += v.length;
    const copy = new Uint8Array(len);
    let off = 0;
    for (const v of frame) {
      copy.set(v, off);
      off += v.length;
    }
    this.#queue.push({ frame: copy, header: header ? header.slice(0, 10) : null });
    this.#pump();
  }

  #pump(): void {
    if (this.#pumping) return; // re-entered from the receiver (it transmitted in reply)
    this.#pumping = true;
    try {
      while (!this.#paused && this.#receiver && this.#queue.length > 0) {
        const { frame, header } = this.#queue.shift()!;
        this.#receiver(frame, header, this.#queue.length > 0);
      }
    } finally {
      this.#pumping = false;
    }
  }
}

export interface PairOptions {
  /** Carry struct virtio_net_hdr between the two devices (both offer offloads). Default false. */
  readonly vnetHeader?: boolean;
  /** Frames queued at a paused end before further ones are dropped. Default 1024. */
  readonly limit?: number;
}

/**
 * Creates two connected backends. With `vnetHeader`, offload metadata crosses the cable; give
 * both devices the same options so each negotiates offloads the other can take (the driver of
 * the receiving device decides; a device completes checksums its driver did not accept).
 */
export function createPair(opts: PairOptions = {}): [NetBackend & { readonly queued: number; readonly dropped: number }, NetBackend & { readonly queued: number; readonly dropped: number }] {
  const limit = opts.limit ?? 1024;
  const a = new PairEnd(opts.vnetHeader ?? false, limit);
  const b = new PairEnd(opts.vnetHeader ?? false, limit);
  a.peer = b;
  b.peer = a;
  return [a, b];
}
