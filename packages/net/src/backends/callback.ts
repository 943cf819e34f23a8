/**
 * A backend whose other end is JavaScript (the browser case): transmitted frames go to a
 * callback, received frames are injected with {@link CallbackBackend.deliver}. While the device
 * has paused it, injected frames are queued here and handed over on resume, in order.
 */
import type { NetBackend, NetOffloads, NetReceiver } from '../backend.js';

export interface CallbackBackendOptions {
  /**
   * Called for every transmitted frame with a copy of the frame (Ethernet header first) and, when
   * `vnetHeader`, a copy of the 12-byte struct virtio_net_hdr.
   */
  readonly onFrame: (frame: Uint8Array, header: Uint8Array | null) => void;
  /** Whether frames carry struct virtio_net_hdr both ways (offloads offered). Default false. */
  readonly vnetHeader?: boolean;
  /**
   * Whether the caller validated the checksum of every frame it delivers with
   * VIRTIO_NET_HDR_F_DATA_VALID. Default false: the device verifies those frames itself.
   */
  readonly checksumsValidated?: boolean;
}

export class CallbackBackend implements NetBackend {
  readonly vnetHeader: boolean;
  readonly checksumsValidated: boolean;
  /** UDP segmentation crosses with the headers (`vnetHeader`). */
  readonly uso: boolean;
  /** The offloads the driver negotiated, once activated. */
  offloads: NetOffloads | undefined;
  readonly #onFrame: (frame: Uint8Array, header: Uint8Array | null) => void;
  #receiver: NetReceiver | undefined;
  #paused = true;
  #closed = false;
  readonly #queue: { frame: Uint8Array; header: Uint8Array | null }[] = [];

  constructor(opts: CallbackBackendOptions) {
    this.#onFrame = opts.onFrame;
    this.vnetHeader = opts.vnetHeader ?? false;
    this.checksumsValidated = opts.checksumsValidated ?? false;
    this.uso = this.vnetHeader;
  }

  /** Whether the device paused delivery (no receive buffers, or no driver). */
  get paused(): boolean {
    return this.#paused;
  }
  /** Frames waiting here for the device to resume. */
  get queued(): number {
    return this.#queue.length;
  }

  /**
   * Hands a frame to the device (copied). `header` is the 10- or 12-byte struct virtio_net_hdr
   * and is used only when `vnetHeader`. While paused, the frame waits here.
   */
  deliver(frame: Uint8Array, header: Uint8Array | null = null): void {
    if (this.#closed) return;
    this.#queue.push({ frame: frame.slice(), header: this.vnetHeader && header ? header.slice() : null });
    this.#pump();
  }

  send(header: Uint8Array | null, frame: readonly Uint8Array[]): void {
    let len = 0;
    for (const v of frame) len += v.length;
    const out = new Uint8Array(len);
    let off = 0;
    for (const v of frame) {
      out.set(v, off);
      off += v.length;
    }
    this.#onFrame(out, header ? header.slice() : null);
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
  setOffloads(offloads: NetOffloads): void {
    this.offloads = offloads;
  }
  close(): void {
    this.#closed = true;
    this.#receiver = undefined;
    this.#queue.length = 0;
  }

  #pump(): void {
    while (!this.#paused && this.#receiver && this.#queue.length > 0) {
      const { frame, header } = this.#queue.shift()!;
      this.#receiver(frame, header, !this.#paused && this.#queue.length > 0);
    }
  }
}
