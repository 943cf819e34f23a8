/**
 * One console port as the host sees it: guest output goes to its {@link PortBackend}; host
 * input is pushed with {@link ConsolePort.push} and held, bounded, until the guest posts
 * receive buffers. Bytes beyond the bound are dropped and counted, never silently.
 */
import type { PortBackend } from './backends/backend.js';
import { ByteRing } from './byte-ring.js';

export interface ConsolePortOptions {
  /** Name announced with VIRTIO_CONSOLE_PORT_NAME (multiport), e.g. "org.qemu.guest_agent.0". UTF-8. */
  readonly name?: string;
  /**
   * Announced with VIRTIO_CONSOLE_CONSOLE_PORT (multiport): the guest treats it as a text console
   * (hvc). Default true for port 0, false for the others.
   */
  readonly console?: boolean;
  /** Where guest output goes; may be set later with {@link ConsolePort.backend}. */
  readonly backend?: PortBackend;
  /** Most bytes held for the guest, in bytes. Default 65536. */
  readonly bufferLimit?: number;
  /** {@link ConsolePort.push} returns false once this many bytes are held. Default bufferLimit / 4. */
  readonly highWaterMark?: number;
  /** Whether the host side is connected (VIRTIO_CONSOLE_PORT_OPEN value sent to the guest). Default true. */
  readonly hostConnected?: boolean;
}

/** How a port reaches its device (internal). */
export interface PortOwner {
  /** Host bytes are waiting: deliver what the guest has buffers for. */
  deliver(port: ConsolePort): void;
  /** The host connected or disconnected. */
  hostConnectionChanged(port: ConsolePort): void;
}

export class ConsolePort {
  /** Port number (0 .. max_nr_ports - 1). */
  readonly id: number;
  readonly name: string | undefined;
  readonly isConsole: boolean;
  /** Where guest output goes; undefined drops it (counted in {@link discardedBytes}). */
  backend: PortBackend | undefined;
  /** Called after a {@link push} returned false, once the held bytes fell back to zero. */
  onDrain: (() => void) | undefined;

  readonly #ring: ByteRing;
  readonly #highWater: number;
  readonly #owner: PortOwner;
  #hostConnected: boolean;
  #needDrain = false;
  #dropped = 0;
  /** @internal set by the device */
  guestOpenState = false;
  /** @internal bytes of guest output with no backend */
  discarded = 0;

  /** @internal created by ConsoleDevice. @throws RangeError for bad limits */
  constructor(id: number, opts: ConsolePortOptions, owner: PortOwner) {
    const limit = opts.bufferLimit ?? 65536;
    if (!Number.isInteger(limit) || limit < 1) throw new RangeError(`console: bufferLimit ${limit}`);
    const high = opts.highWaterMark ?? Math.max(1, limit >> 2);
    if (!Number.isInteger(high) || high < 1 || high > limit) throw new RangeError(`console: highWaterMark ${high}`);
    this.id = id;
    this.name = opts.name;
    this.isConsole = opts.console ?? id === 0;
    this.backend = opts.backend;
    this.#ring = new ByteRing(limit);
    this.#highWater = high;
    this.#owner = owner;
    this.#hostConnected = opts.hostConnected ?? true;
  }

  /**
   * Queues `data` for the guest and delivers what it has receive buffers for. Bytes beyond
   * `bufferLimit` are dropped and counted in {@link droppedBytes}. `data` is copied.
   * @returns false when the held bytes reached the high-water mark: stop pushing until {@link onDrain}
   */
  push(data: Uint8Array): boolean {
    // Deliver as we go, so bytes the guest has buffers for never count against the bound.
    let off = 0;
    while (off < data.length) {
      const n = this.#ring.push(off === 0 ? data : data.subarray(off));
      off += n;
      this.#owner.deliver(this);
      if (n === 0) break;
    }
    this.#dropped += data.length - off;
    const ok = this.#ring.length < this.#highWater;
    if (!ok) this.#needDrain = true;
    return ok;
  }

  /** Bytes held for the guest, in bytes. */
  get buffered(): number {
    return this.#ring.length;
  }
  /** Host bytes dropped because the buffer was full. */
  get droppedBytes(): number {
    return this.#dropped;
  }
  /** Guest output bytes dropped because the port had no backend (or was not announced). */
  get discardedBytes(): number {
    return this.discarded;
  }
  /** Whether the guest has the port open (always true for a single-port device once live). */
  get guestOpen(): boolean {
    return this.guestOpenState;
  }
  get hostConnected(): boolean {
    return this.#hostConnected;
  }

  /** Connects or disconnects the host side; the guest learns it with VIRTIO_CONSOLE_PORT_OPEN (multiport). */
  setHostConnected(connected: boolean): void {
    if (connected === this.#hostConnected) return;
    this.#hostConnected = connected;
    this.#owner.hostConnectionChanged(this);
  }

  /** Drops the held bytes (e.g. the host side went away). */
  discardBuffered(): void {
    this.#ring.clear();
    this.#drained();
  }

  /** @internal moves held bytes into a guest buffer. @returns bytes moved */
  take(dest: Uint8Array): number {
    return this.#ring.take(dest);
  }

  /** @internal after a delivery batch */
  drained(): void {
    if (this.#ring.length === 0) this.#drained();
  }

  #drained(): void {
    if (!this.#needDrain) return;
    this.#needDrain = false;
    this.onDrain?.();
  }
}
