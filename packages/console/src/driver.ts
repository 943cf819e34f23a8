/**
 * The console device, driver side (spec 5.3): port 0 over receiveq0/transmitq0 and, with
 * VIRTIO_CONSOLE_F_MULTIPORT, the control queues: DEVICE_READY at start, PORT_READY for every
 * DEVICE_ADD, PORT_OPEN 1 for every CONSOLE_PORT, and the port's name, size and host state.
 * Everything the device writes is checked: lengths are bounded by the buffers, unknown events
 * and port numbers are ignored and counted.
 */
import {
  DriverDevice,
  featureMask,
  hasFeature,
  initializeDevice,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  type DriverTransport,
  type QueueRequest,
} from '@virtio/core';
import type { DriverQueue, GuestAllocator, GuestMemory } from '@virtio/ring';
import { CONSOLE_CONFIG_COLS, CONSOLE_CONFIG_EMERG_WR, CONSOLE_CONFIG_MAX_NR_PORTS, CONSOLE_CONFIG_ROWS } from './config.js';
import type { ConsoleSize } from './device.js';
import {
  receiveqIndex,
  transmitqIndex,
  VIRTIO_CONSOLE_CONSOLE_PORT,
  VIRTIO_CONSOLE_CONTROL_RECEIVEQ,
  VIRTIO_CONSOLE_CONTROL_SIZE,
  VIRTIO_CONSOLE_CONTROL_TRANSMITQ,
  VIRTIO_CONSOLE_DEVICE_ADD,
  VIRTIO_CONSOLE_DEVICE_READY,
  VIRTIO_CONSOLE_DEVICE_REMOVE,
  VIRTIO_CONSOLE_F_EMERG_WRITE,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_CONSOLE_PORT_NAME,
  VIRTIO_CONSOLE_PORT_OPEN,
  VIRTIO_CONSOLE_PORT_READY,
  VIRTIO_CONSOLE_RESIZE,
  VIRTIO_CONSOLE_RESIZE_SIZE,
} from './protocol.js';

/** A port as the driver knows it. */
export interface DriverPort {
  readonly id: number;
  /** From VIRTIO_CONSOLE_PORT_NAME. */
  name: string | undefined;
  /** Nominated with VIRTIO_CONSOLE_CONSOLE_PORT (port 0 of a single-port device always is). */
  console: boolean;
  /** The host side is connected (VIRTIO_CONSOLE_PORT_OPEN from the device). */
  hostConnected: boolean;
  /** The driver told the device the port is open. */
  guestOpen: boolean;
  /** Console size, from the configuration (port 0, single-port) or VIRTIO_CONSOLE_RESIZE. */
  size: ConsoleSize | undefined;
}

/** Callbacks for what the device does; all optional. */
export interface ConsoleDriverEvents {
  /** Bytes arrived on a port (a copy; keep it). */
  data?(port: number, bytes: Uint8Array): void;
  portAdded?(port: DriverPort): void;
  portRemoved?(id: number): void;
  resize?(port: number, size: ConsoleSize): void;
  hostConnected?(port: number, connected: boolean): void;
  /** The device needs a reset: pending writes were rejected. */
  needsReset?(): void;
}

export interface ConsoleDriverOptions {
  readonly memory: GuestMemory;
  /** Allocates rings and buffers; transmit buffers are freed after use (e.g. a FreeListAllocator). */
  readonly allocator: GuestAllocator;
  readonly events?: ConsoleDriverEvents;
  /** Device features to accept when offered. Default VIRTIO_CONSOLE_F_SIZE | _MULTIPORT | _EMERG_WRITE. */
  readonly consoleFeatures?: bigint;
  /** Ring features to accept when offered. Default INDIRECT_DESC | EVENT_IDX | RING_PACKED. */
  readonly ringFeatures?: bigint;
  /** Most ports the driver sets queues up for (ports at or above get PORT_READY 0). Default 32. */
  readonly maxPorts?: number;
  /** Receive buffers per port. Default 8. */
  readonly receiveBuffers?: number;
  /** Size of each receive buffer, in bytes. Default 4096. */
  readonly receiveBufferSize?: number;
  /** Control receiveq buffers. Default 16. */
  readonly controlBuffers?: number;
  /** Size of each control receiveq buffer, in bytes (>= 8; names longer than the rest are cut). Default 1024. */
  readonly controlBufferSize?: number;
  /** Requested size of every queue; the device's maximum when omitted. */
  readonly queueSize?: number;
}

/** A console write or control message failed: the device was reset or needs a reset. */
export class ConsoleDriverError extends Error {
  override readonly name = 'ConsoleDriverError';
}

interface RxToken {
  readonly addr: number;
  readonly len: number;
}
interface TxToken {
  readonly addr: number;
  resolve(): void;
  reject(err: Error): void;
}
interface Outgoing {
  readonly data: Uint8Array;
  resolve(): void;
  reject(err: Error): void;
}

export const DEFAULT_CONSOLE_FEATURES = featureMask(VIRTIO_CONSOLE_F_SIZE, VIRTIO_CONSOLE_F_MULTIPORT, VIRTIO_CONSOLE_F_EMERG_WRITE);

export class ConsoleDriver {
  readonly device: DriverDevice;
  /** VIRTIO_CONSOLE_F_MULTIPORT was negotiated. */
  readonly multiport: boolean;
  /** Ports the driver has queues for: min(max_nr_ports, maxPorts), 1 without multiport. */
  readonly portLimit: number;
  readonly #ports = new Map<number, DriverPort>();
  readonly #memory: GuestMemory;
  readonly #allocator: GuestAllocator;
  readonly #events: ConsoleDriverEvents;
  readonly #rxCount: number;
  readonly #rxSize: number;
  /** Unsent data per transmitq index (the ring was full). */
  readonly #backlog = new Map<number, Outgoing[]>();
  readonly #pendingTx = new Set<TxToken>();
  #ignored = 0;
  #closed: Error | undefined;
  readonly #decoder = new TextDecoder();

  private constructor(device: DriverDevice, opts: ConsoleDriverOptions, portLimit: number) {
    this.device = device;
    this.#memory = opts.memory;
    this.#allocator = opts.allocator;
    this.#events = opts.events ?? {};
    this.#rxCount = opts.receiveBuffers ?? 8;
    this.#rxSize = opts.receiveBufferSize ?? 4096;
    this.multiport = hasFeature(device.features, VIRTIO_CONSOLE_F_MULTIPORT);
    this.portLimit = portLimit;
  }

  /**
   * Initializes the console behind `transport` (spec 3.1.1, 5.3.5): sets up port 0's queues and,
   * with multiport, the control queues and every port's queues up to `maxPorts`; fills the
   * receive queues; sends VIRTIO_CONSOLE_DEVICE_READY.
   * @throws DeviceInitError from the initialization sequence; RangeError for bad options
   */
  static initialize(transport: DriverTransport, opts: ConsoleDriverOptions): ConsoleDriver {
    const cap = opts.maxPorts ?? 32;
    if (!Number.isInteger(cap) || cap < 1 || cap > 16383) throw new RangeError(`console: maxPorts ${cap}`);
    const ctrlSize = opts.controlBufferSize ?? 1024;
    if (!Number.isInteger(ctrlSize) || ctrlSize < VIRTIO_CONSOLE_CONTROL_SIZE) throw new RangeError(`console: controlBufferSize ${ctrlSize}`);
    const wanted = (opts.consoleFeatures ?? DEFAULT_CONSOLE_FEATURES) | (opts.ringFeatures ?? featureMask(VIRTIO_F_INDIRECT_DESC, VIRTIO_F_EVENT_IDX, VIRTIO_F_RING_PACKED));
    const size = opts.queueSize;
    const queues: QueueRequest[] = [
      { index: 0, size },
      { index: 1, size },
    ];
    let portLimit = 1;
    const device = initializeDevice(transport, {
      memory: opts.memory,
      allocator: opts.allocator,
      wantedFeatures: wanted,
      queues,
      checkConfig: (config, offered) => {
        if (hasFeature(offered & wanted, VIRTIO_CONSOLE_F_MULTIPORT)) {
          // max_nr_ports is device-written: bound it by what the driver sets up.
          portLimit = Math.max(1, Math.min(config.u32(CONSOLE_CONFIG_MAX_NR_PORTS), cap));
          queues.push({ index: VIRTIO_CONSOLE_CONTROL_RECEIVEQ, size }, { index: VIRTIO_CONSOLE_CONTROL_TRANSMITQ, size });
          for (let p = 1; p < portLimit; p++) queues.push({ index: receiveqIndex(p), size }, { index: transmitqIndex(p), size });
        }
        return true;
      },
      setup: (qs) => {
        const ctrl = qs[VIRTIO_CONSOLE_CONTROL_RECEIVEQ];
        if (ctrl) fill(ctrl, opts.allocator, opts.controlBuffers ?? 16, ctrlSize);
        // [console.drv.1] receive buffers are device-writable only.
        fill(qs[0]!, opts.allocator, opts.receiveBuffers ?? 8, opts.receiveBufferSize ?? 4096);
      },
    });
    const driver = new ConsoleDriver(device, opts, portLimit);
    driver.#start();
    return driver;
  }

  #start(): void {
    if (this.multiport) {
      // [console.drv.2] with VIRTIO_CONSOLE_F_MULTIPORT the driver sends DEVICE_READY.
      this.#sendControl(0, VIRTIO_CONSOLE_DEVICE_READY, 1);
      return;
    }
    const size = hasFeature(this.device.features, VIRTIO_CONSOLE_F_SIZE) ? this.#readSize() : undefined;
    this.#ports.set(0, { id: 0, name: undefined, console: true, hostConnected: true, guestOpen: true, size });
  }

  /** Ports the device added (port 0 of a single-port device from the start). */
  get ports(): ReadonlyMap<number, DriverPort> {
    return this.#ports;
  }

  /** Device control messages ignored: unknown events, ports out of range or unknown, short messages. */
  get ignoredControl(): number {
    return this.#ignored;
  }

  /**
   * Writes `data` to port `port` (copied into one device-readable buffer, spec 5.3.6.1).
   * Resolves once the device used the buffer.
   * @throws RangeError for an unknown port; rejects with ConsoleDriverError on reset
   */
  write(port: number, data: Uint8Array): Promise<void> {
    if (!this.#ports.has(port)) throw new RangeError(`console: no port ${port}`);
    if (this.#closed) return Promise.reject(this.#closed);
    if (data.length === 0) return Promise.resolve();
    return new Promise((resolve, reject) => {
      const index = transmitqIndex(port);
      let list = this.#backlog.get(index);
      if (!list) this.#backlog.set(index, (list = []));
      list.push({ data: data.slice(), resolve, reject });
      this.#submit(index);
    });
  }

  /** Opens or closes port `port` from the guest side (VIRTIO_CONSOLE_PORT_OPEN; multiport only). */
  setOpen(port: number, open: boolean): void {
    const p = this.#ports.get(port);
    if (!p || !this.multiport) return;
    p.guestOpen = open;
    this.#sendControl(port, VIRTIO_CONSOLE_PORT_OPEN, open ? 1 : 0);
  }

  /**
   * Emergency write (VIRTIO_CONSOLE_F_EMERG_WRITE): one byte through `emerg_wr`, no queue involved.
   * @returns false when the device does not offer the feature
   */
  emergencyWrite(byte: number): boolean {
    if (!hasFeature(this.device.transport.readDeviceFeatures(), VIRTIO_CONSOLE_F_EMERG_WRITE)) return false;
    this.device.writeConfig(CONSOLE_CONFIG_EMERG_WR, 4, byte & 0xff);
    return true;
  }

  /** Call when the device interrupts: receives data and control messages, completes writes, follows resizes. */
  handleInterrupt(): void {
    const ev = this.device.handleInterrupt();
    if (ev.needsReset) {
      this.#close(new ConsoleDriverError('console: the device needs a reset'));
      this.#events.needsReset?.();
      return;
    }
    if (ev.configChange && !this.multiport && hasFeature(this.device.features, VIRTIO_CONSOLE_F_SIZE)) {
      const size = this.#readSize();
      const p0 = this.#ports.get(0);
      if (p0) p0.size = size;
      this.#events.resize?.(0, size);
    }
    if (ev.usedBuffer) this.#reapAll();
  }

  /** Resets the device; pending writes reject. */
  reset(): void {
    this.device.reset();
    this.#close(new ConsoleDriverError('console: device reset'));
  }

  #close(err: Error): void {
    this.#closed = err;
    for (const t of this.#pendingTx) t.reject(err);
    this.#pendingTx.clear();
    for (const list of this.#backlog.values()) for (const o of list.splice(0)) o.reject(err);
  }

  #readSize(): ConsoleSize {
    return this.device.readConfig((c) => ({ cols: c.u16(CONSOLE_CONFIG_COLS), rows: c.u16(CONSOLE_CONFIG_ROWS) }));
  }

  #queue<T>(index: number): DriverQueue<T> | undefined {
    return this.device.queues[index] as DriverQueue<T> | undefined;
  }

  #reapAll(): void {
    if (this.multiport) {
      this.#reap<RxToken>(VIRTIO_CONSOLE_CONTROL_RECEIVEQ, (t, len) => this.#onControl(t, len));
      this.#reap<TxToken>(VIRTIO_CONSOLE_CONTROL_TRANSMITQ, (t) => this.#txDone(t));
    }
    for (let p = 0; p < this.portLimit; p++) {
      this.#reap<RxToken>(receiveqIndex(p), (t, len) => this.#onData(p, receiveqIndex(p), t, len));
      this.#reap<TxToken>(transmitqIndex(p), (t) => this.#txDone(t));
      if (this.#backlog.get(transmitqIndex(p))?.length) this.#submit(transmitqIndex(p));
    }
    if (this.#backlog.get(VIRTIO_CONSOLE_CONTROL_TRANSMITQ)?.length) this.#submit(VIRTIO_CONSOLE_CONTROL_TRANSMITQ);
  }

  #reap<T>(index: number, handle: (token: T, len: number) => void): void {
    const q = this.#queue<T>(index);
    if (!q) return;
    for (;;) {
      let used;
      while ((used = q.reap()) !== null) handle(used.token, used.len);
      if (!q.enableInterrupts()) break;
    }
  }

  #txDone(t: TxToken): void {
    if (!this.#pendingTx.delete(t)) return;
    this.#allocator.free(t.addr);
    t.resolve();
  }

  /** A used receive buffer: deliver its bytes (the used length, bounded by the buffer) and post it again. */
  #onData(port: number, index: number, t: RxToken, len: number): void {
    const n = Math.min(len, t.len);
    if (n > 0 && this.#ports.has(port)) {
      const bytes = new Uint8Array(n);
      this.#memory.read(t.addr, bytes);
      this.#events.data?.(port, bytes);
    }
    this.#repost(index, t);
  }

  #repost(index: number, t: RxToken): void {
    const q = this.#queue<RxToken>(index);
    if (!this.#closed && q?.add([], [{ addr: t.addr, len: t.len }], t)) this.device.kick(index);
  }

  #onControl(t: RxToken, len: number): void {
    const n = Math.min(len, t.len);
    if (n < VIRTIO_CONSOLE_CONTROL_SIZE) {
      this.#ignored++;
      this.#repost(VIRTIO_CONSOLE_CONTROL_RECEIVEQ, t);
      return;
    }
    const m = this.#memory;
    const id = m.readU32(t.addr);
    const event = m.readU16(t.addr + 4);
    const value = m.readU16(t.addr + 6);
    const extra = t.addr + VIRTIO_CONSOLE_CONTROL_SIZE;
    const extraLen = n - VIRTIO_CONSOLE_CONTROL_SIZE;
    this.#control(id, event, value, extra, extraLen);
    this.#repost(VIRTIO_CONSOLE_CONTROL_RECEIVEQ, t);
  }

  #control(id: number, event: number, value: number, extra: number, extraLen: number): void {
    if (event === VIRTIO_CONSOLE_DEVICE_ADD) {
      if (id >= this.portLimit) {
        // A port the driver has no queues for: refuse it.
        this.#sendControl(id, VIRTIO_CONSOLE_PORT_READY, 0);
        return;
      }
      if (this.#ports.has(id)) {
        this.#ignored++;
        return;
      }
      const port: DriverPort = { id, name: undefined, console: false, hostConnected: false, guestOpen: false, size: undefined };
      this.#ports.set(id, port);
      if (id !== 0) fill(this.#queue(receiveqIndex(id))!, this.#allocator, this.#rxCount, this.#rxSize);
      this.device.kick(receiveqIndex(id));
      this.#sendControl(id, VIRTIO_CONSOLE_PORT_READY, 1);
      this.#events.portAdded?.(port);
      return;
    }
    const port = this.#ports.get(id);
    if (!port) {
      this.#ignored++;
      return;
    }
    switch (event) {
      case VIRTIO_CONSOLE_DEVICE_REMOVE:
        this.#ports.delete(id);
        this.#events.portRemoved?.(id);
        return;
      case VIRTIO_CONSOLE_CONSOLE_PORT:
        port.console = true;
        port.guestOpen = true;
        // [console.drv.3] a console port is answered with PORT_OPEN, value 1.
        this.#sendControl(id, VIRTIO_CONSOLE_PORT_OPEN, 1);
        return;
      case VIRTIO_CONSOLE_RESIZE: {
        if (extraLen < VIRTIO_CONSOLE_RESIZE_SIZE) {
          this.#ignored++;
          return;
        }
        port.size = { cols: this.#memory.readU16(extra), rows: this.#memory.readU16(extra + 2) };
        this.#events.resize?.(id, port.size);
        return;
      }
      case VIRTIO_CONSOLE_PORT_OPEN:
        port.hostConnected = value === 1;
        this.#events.hostConnected?.(id, port.hostConnected);
        return;
      case VIRTIO_CONSOLE_PORT_NAME: {
        const bytes = new Uint8Array(extraLen);
        this.#memory.read(extra, bytes);
        port.name = this.#decoder.decode(bytes);
        return;
      }
      default:
        this.#ignored++;
    }
  }

  #sendControl(id: number, event: number, value: number): void {
    if (this.#closed) return;
    const msg = new Uint8Array(VIRTIO_CONSOLE_CONTROL_SIZE);
    const dv = new DataView(msg.buffer);
    dv.setUint32(0, id, true);
    dv.setUint16(4, event, true);
    dv.setUint16(6, value, true);
    let list = this.#backlog.get(VIRTIO_CONSOLE_CONTROL_TRANSMITQ);
    if (!list) this.#backlog.set(VIRTIO_CONSOLE_CONTROL_TRANSMITQ, (list = []));
    list.push({ data: msg, resolve: () => undefined, reject: () => undefined });
    this.#submit(VIRTIO_CONSOLE_CONTROL_TRANSMITQ);
  }

  /** Moves waiting data of transmitq `index` onto the ring as device-readable buffers. */
  #submit(index: number): void {
    const q = this.#queue<TxToken>(index);
    const list = this.#backlog.get(index);
    if (!q || !list) return;
    let added = false;
    while (list.length > 0) {
      const o = list[0];
      let addr: number;
      try {
        addr = this.#allocator.alloc(o.data.length, 1);
      } catch (err) {
        if (this.#pendingTx.size > 0) break;
        list.shift();
        o.reject(err as Error);
        continue;
      }
      this.#memory.write(addr, o.data);
      const t: TxToken = { addr, resolve: o.resolve, reject: o.reject };
      // [console.drv.1] transmit buffers are device-readable only.
      if (!q.add([{ addr, len: o.data.length }], [], t)) {
        this.#allocator.free(addr);
        break;
      }
      list.shift();
      this.#pendingTx.add(t);
      added = true;
    }
    if (added) this.device.kick(index);
  }
}

/** Posts `count` device-writable buffers of `size` bytes on `q` (as many as fit). */
function fill(q: DriverQueue, allocator: GuestAllocator, count: number, size: number): void {
  for (let i = 0; i < count; i++) {
    const addr = allocator.alloc(size, 8);
    if (!q.add([], [{ addr, len: size }], { addr, len: size })) {
      allocator.free(addr);
      return;
    }
  }
}
