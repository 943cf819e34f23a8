/**
 * The console device, device side (spec 5.3): port 0's receiveq/transmitq; the console size
 * (VIRTIO_CONSOLE_F_SIZE) with a configuration change on resize; VIRTIO_CONSOLE_F_MULTIPORT
 * with the control queues, port hot-plug and the control messages; emergency write
 * (VIRTIO_CONSOLE_F_EMERG_WRITE). All work is synchronous: a transmitq chain is used before
 * queueNotify returns (Linux's hvc driver busy-waits for it).
 */
import {
  featureMask,
  hasFeature,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  type ActivateContext,
  type DeviceHost,
  type VirtioDevice,
} from '@virtio/core';
import { ChainReader, ChainWriter, type DescriptorChain, type DeviceQueue } from '@virtio/ring';
import { ConsoleConfigSpace, CONSOLE_CONFIG_SIZE } from './config.js';
import { ControlBacklog } from './control-out.js';
import { ConsoleRequestError } from './errors.js';
import { ConsolePort, type ConsolePortOptions, type PortOwner } from './port.js';
import {
  consoleQueueCount,
  queueRole,
  receiveqIndex,
  transmitqIndex,
  VIRTIO_CONSOLE_CONSOLE_PORT,
  VIRTIO_CONSOLE_CONTROL_RECEIVEQ,
  VIRTIO_CONSOLE_CONTROL_SIZE,
  VIRTIO_CONSOLE_CONTROL_TRANSMITQ,
  VIRTIO_CONSOLE_DEVICE_ADD,
  VIRTIO_CONSOLE_DEVICE_ID,
  VIRTIO_CONSOLE_DEVICE_READY,
  VIRTIO_CONSOLE_DEVICE_REMOVE,
  VIRTIO_CONSOLE_F_EMERG_WRITE,
  VIRTIO_CONSOLE_F_MULTIPORT,
  VIRTIO_CONSOLE_F_SIZE,
  VIRTIO_CONSOLE_PORT_NAME,
  VIRTIO_CONSOLE_PORT_OPEN,
  VIRTIO_CONSOLE_PORT_READY,
  VIRTIO_CONSOLE_RESIZE,
} from './protocol.js';

/** A console size in character cells. */
export interface ConsoleSize {
  readonly cols: number;
  readonly rows: number;
}

export interface ConsoleDeviceOptions {
  /** Ports present from the start, by port number; `ports[0]` is port 0 (created with defaults when absent). */
  readonly ports?: readonly (ConsolePortOptions | undefined)[];
  /**
   * Offers VIRTIO_CONSOLE_F_MULTIPORT with `max_nr_ports` = maxPorts (1..16383). Default:
   * `ports.length` when more than one port is given, else multiport is not offered.
   */
  readonly maxPorts?: number;
  /** Offers VIRTIO_CONSOLE_F_SIZE with this initial size of port 0. */
  readonly size?: ConsoleSize;
  /**
   * VIRTIO_CONSOLE_F_EMERG_WRITE: true (default) passes bytes written to `emerg_wr` to port 0's
   * backend; a function receives them instead; false does not offer the feature.
   */
  readonly emergencyWrite?: boolean | ((byte: number) => void);
  /** Maximum size of every virtqueue (descriptors, 1..32768). Default 256. */
  readonly queueSize?: number;
  /**
   * Ring and transport feature bits offered besides VIRTIO_F_VERSION_1. Default
   * VIRTIO_F_INDIRECT_DESC | VIRTIO_F_EVENT_IDX | VIRTIO_F_RING_PACKED | VIRTIO_F_RING_RESET.
   */
  readonly ringFeatures?: bigint;
}

/** Counters since construction. */
export interface ConsoleDeviceStats {
  /** Control messages from the driver that were ignored: unknown event, port out of range or not added, bad value. */
  readonly badControl: number;
  /** Device control messages whose payload (a name) did not fit the driver's buffer. */
  readonly truncatedControl: number;
  /** Device control messages dropped because too many waited for buffers. */
  readonly droppedControl: number;
  /** Guest output bytes a backend threw on. */
  readonly backendErrors: number;
  /** Emergency-write bytes with nowhere to go. */
  readonly discardedEmergency: number;
}

export const CONSOLE_DEFAULT_RING_FEATURES = featureMask(
  VIRTIO_F_INDIRECT_DESC,
  VIRTIO_F_EVENT_IDX,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
);

const MAX_PORTS_LIMIT = 16383;

export class ConsoleDevice implements VirtioDevice {
  readonly deviceId = VIRTIO_CONSOLE_DEVICE_ID;
  readonly deviceFeatures: bigint;
  readonly numQueues: number;
  readonly configSize = CONSOLE_CONFIG_SIZE;

  readonly #config: ConsoleConfigSpace;
  readonly #queueSize: number;
  readonly #maxPorts: number;
  readonly #ports: (ConsolePort | undefined)[];
  readonly #sizes: (ConsoleSize | undefined)[];
  readonly #emergency: ((byte: number) => void) | undefined;
  readonly #owner: PortOwner;
  readonly #backlog = new ControlBacklog();
  readonly #byte = new Uint8Array(1);
  readonly #encoder = new TextEncoder();
  #host: DeviceHost | undefined;
  #ctx: ActivateContext | undefined;
  #multiport = false;
  #driverReady = false;
  /** Ports the driver has (or will have once the backlog is out): DEVICE_ADD queued, no DEVICE_REMOVE since. */
  readonly #guestHas: boolean[];
  /** Ports the driver answered PORT_READY with value 1. */
  readonly #ready: boolean[];
  #broken = false;
  #badControl = 0;
  #truncated = 0;
  #backendErrors = 0;
  #discardedEmergency = 0;

  /** @throws RangeError for out-of-range options */
  constructor(opts: ConsoleDeviceOptions = {}) {
    const given = opts.ports ?? [];
    const maxPorts = opts.maxPorts ?? (given.length > 1 ? given.length : undefined);
    if (maxPorts !== undefined && (!Number.isInteger(maxPorts) || maxPorts < 1 || maxPorts > MAX_PORTS_LIMIT)) {
      throw new RangeError(`console: maxPorts ${maxPorts} outside 1..${MAX_PORTS_LIMIT}`);
    }
    if (given.length > (maxPorts ?? 1)) throw new RangeError(`console: ${given.length} ports given, max_nr_ports is ${maxPorts ?? 1}`);
    const size = opts.queueSize ?? 256;
    if (!Number.isInteger(size) || size < 1 || size > 32768) throw new RangeError(`console: queueSize ${size} outside 1..32768`);
    this.#queueSize = size;
    this.#maxPorts = maxPorts ?? 1;
    this.numQueues = consoleQueueCount(maxPorts);
    this.#config = new ConsoleConfigSpace(maxPorts ?? 0);

    let f = featureMask(VIRTIO_F_VERSION_1) | (opts.ringFeatures ?? CONSOLE_DEFAULT_RING_FEATURES);
    if (maxPorts !== undefined) f |= featureMask(VIRTIO_CONSOLE_F_MULTIPORT);
    if (opts.size) {
      f |= featureMask(VIRTIO_CONSOLE_F_SIZE);
      this.#setConfigSize(opts.size);
    }
    const emerg = opts.emergencyWrite ?? true;
    if (emerg !== false) {
      f |= featureMask(VIRTIO_CONSOLE_F_EMERG_WRITE);
      this.#emergency = typeof emerg === 'function' ? emerg : (b) => this.#emergencyToPort0(b);
    }
    this.deviceFeatures = f;

    this.#owner = {
      deliver: (port) => this.#onPortInput(port),
      hostConnectionChanged: (port) => this.#onHostConnection(port),
    };
    this.#ports = new Array<ConsolePort | undefined>(this.#maxPorts).fill(undefined);
    this.#sizes = new Array<ConsoleSize | undefined>(this.#maxPorts).fill(undefined);
    this.#guestHas = new Array<boolean>(this.#maxPorts).fill(false);
    this.#ready = new Array<boolean>(this.#maxPorts).fill(false);
    this.#ports[0] = new ConsolePort(0, given[0] ?? {}, this.#owner);
    if (opts.size) this.#sizes[0] = opts.size;
    for (let i = 1; i < given.length; i++) {
      const p = given[i];
      if (p) this.#ports[i] = new ConsolePort(i, p, this.#owner);
    }
  }

  /** Whether VIRTIO_CONSOLE_F_MULTIPORT is offered (ports besides 0 can exist). */
  get multiportOffered(): boolean {
    return hasFeature(this.deviceFeatures, VIRTIO_CONSOLE_F_MULTIPORT);
  }

  /** `max_nr_ports` (1 without multiport). */
  get maxPorts(): number {
    return this.#maxPorts;
  }

  /** Port `id`, if it exists. */
  port(id: number): ConsolePort | undefined {
    return Number.isInteger(id) && id >= 0 && id < this.#maxPorts ? this.#ports[id] : undefined;
  }

  /** The existing ports, by port number. */
  get ports(): readonly ConsolePort[] {
    return this.#ports.filter((p): p is ConsolePort => p !== undefined);
  }

  get stats(): ConsoleDeviceStats {
    return {
      badControl: this.#badControl,
      truncatedControl: this.#truncated,
      droppedControl: this.#backlog.dropped,
      backendErrors: this.#backendErrors,
      discardedEmergency: this.#discardedEmergency,
    };
  }

  /**
   * Hot-plugs a port (multiport): announced with VIRTIO_CONSOLE_DEVICE_ADD once the driver is ready.
   * @param id port number; default the lowest free one
   * @throws RangeError when multiport is not offered, `id` exists or is not below max_nr_ports (spec 5.3.6.2.1)
   */
  addPort(opts: ConsolePortOptions = {}, id?: number): ConsolePort {
    if (!this.multiportOffered) throw new RangeError('console: VIRTIO_CONSOLE_F_MULTIPORT is not offered');
    const n = id ?? this.#ports.findIndex((p) => p === undefined);
    if (!Number.isInteger(n) || n < 0 || n >= this.#maxPorts) throw new RangeError(`console: no free port number below max_nr_ports ${this.#maxPorts}`);
    if (this.#ports[n]) throw new RangeError(`console: port ${n} exists`);
    const port = new ConsolePort(n, opts, this.#owner);
    this.#ports[n] = port;
    if (this.#controlLive()) {
      this.#announce(n);
      this.#guarded(() => this.#flushControl());
    }
    return port;
  }

  /**
   * Hot-unplugs port `id` (not port 0): VIRTIO_CONSOLE_DEVICE_REMOVE if the driver was told of it.
   * Its held input is dropped. @throws RangeError when the port does not exist or is port 0
   */
  removePort(id: number): void {
    const port = this.port(id);
    if (!port || id === 0) throw new RangeError(`console: cannot remove port ${id}`);
    this.#ports[id] = undefined;
    this.#sizes[id] = undefined;
    port.guestOpenState = false;
    port.discardBuffered();
    this.#ready[id] = false;
    if (this.#guestHas[id]) {
      // [console.dev.4] only ports announced with DEVICE_ADD are removed.
      this.#guestHas[id] = false;
      this.#backlog.add(id, VIRTIO_CONSOLE_DEVICE_REMOVE, 0);
      this.#guarded(() => this.#flushControl());
    }
  }

  /**
   * The console behind port `port` (default 0) changed size: for port 0 with VIRTIO_CONSOLE_F_SIZE
   * offered, the configuration changes (configuration change notification); on a multiport
   * console port the driver gets VIRTIO_CONSOLE_RESIZE. @throws RangeError for sizes outside 0..65535
   */
  resize(cols: number, rows: number, port = 0): void {
    for (const v of [cols, rows]) if (!Number.isInteger(v) || v < 0 || v > 0xffff) throw new RangeError(`console: size ${cols}x${rows}`);
    if (!this.port(port)) return;
    const size = { cols, rows };
    this.#sizes[port] = size;
    if (port === 0 && hasFeature(this.deviceFeatures, VIRTIO_CONSOLE_F_SIZE)) {
      this.#setConfigSize(size);
      this.#host?.configChanged();
    }
    if (this.#controlLive() && this.#ready[port] && this.#ports[port]?.isConsole) {
      this.#backlog.add(port, VIRTIO_CONSOLE_RESIZE, 0, resizePayload(size));
      this.#guarded(() => this.#flushControl());
    }
  }

  // ------------------------------------------------------------------ VirtioDevice

  queueMaxSize(index: number): number {
    return Number.isInteger(index) && index >= 0 && index < this.numQueues ? this.#queueSize : 0;
  }

  readConfig(offset: number, width: 1 | 2 | 4): number {
    return this.#config.read(offset, width);
  }

  /** [console.dev.1] emerg_wr is accepted in any device state, before and without feature negotiation. */
  writeConfig(offset: number, _width: 1 | 2 | 4, value: number): void {
    const byte = this.#config.write(offset, value);
    if (byte >= 0 && this.#emergency) this.#emergency(byte);
  }

  attach(host: DeviceHost): void {
    this.#host = host;
  }

  activate(ctx: ActivateContext): void {
    this.#ctx = ctx;
    this.#broken = false;
    this.#multiport = hasFeature(ctx.features, VIRTIO_CONSOLE_F_MULTIPORT);
    const port0 = this.#ports[0];
    if (!this.#multiport && port0) port0.guestOpenState = true;
    this.#guarded(() => {
      for (let i = 0; i < this.numQueues; i++) if (ctx.queues[i]) this.#service(i);
    });
  }

  queueNotify(queueIndex: number): void {
    this.#guarded(() => this.#service(queueIndex));
  }

  enableQueue(queueIndex: number): void {
    this.#guarded(() => this.#service(queueIndex));
  }

  reset(): void {
    this.#ctx = undefined;
    this.#multiport = false;
    this.#driverReady = false;
    this.#broken = false;
    this.#guestHas.fill(false);
    this.#ready.fill(false);
    this.#backlog.clear();
    for (const p of this.#ports) if (p) p.guestOpenState = false;
  }

  // ------------------------------------------------------------------ queues

  #controlLive(): boolean {
    return this.#ctx !== undefined && this.#multiport && this.#driverReady && !this.#broken;
  }

  /** Runs `fn`; a malformed ring or chain sets DEVICE_NEEDS_RESET instead of throwing. */
  #guarded(fn: () => void): void {
    const ctx = this.#ctx;
    if (!ctx || this.#broken) return;
    try {
      fn();
    } catch (err) {
      this.#broken = true;
      ctx.needsReset(err instanceof Error ? err : new Error(String(err)));
    }
  }

  #queue(index: number): DeviceQueue | undefined {
    return this.#ctx?.queues[index];
  }

  #interrupt(index: number, q: DeviceQueue): void {
    if (q.needsNotification()) this.#ctx?.interrupt.usedBuffer(index);
  }

  #service(index: number): void {
    if (!Number.isInteger(index) || index < 0 || index >= this.numQueues) return;
    const role = queueRole(index);
    if (role.kind === 'control') {
      if (!this.#multiport) return;
      if (index === VIRTIO_CONSOLE_CONTROL_TRANSMITQ) this.#drainControl();
      this.#flushControl();
      return;
    }
    if (role.port > 0 && !this.#multiport) return;
    if (role.kind === 'transmitq') this.#drainTransmit(role.port);
    else {
      const port = this.#ports[role.port];
      if (port) this.#deliver(port);
    }
  }

  #onPortInput(port: ConsolePort): void {
    this.#guarded(() => this.#deliver(port));
  }

  /** Moves held host bytes into the port's posted receive buffers, then notifies once. */
  #deliver(port: ConsolePort): void {
    const id = port.id;
    const q = this.#queue(receiveqIndex(id));
    const ctx = this.#ctx;
    if (!q || !ctx || this.#ports[id] !== port) return;
    // Multiport: only ports the driver added, made ready and opened take data (Linux drops the rest).
    if (this.#multiport ? !(this.#guestHas[id] && this.#ready[id] && port.guestOpenState) : id !== 0) return;
    while (port.buffered > 0) {
      const chain = q.pop();
      if (chain === null) {
        if (!q.enableNotifications()) break;
        continue;
      }
      checkReceive(chain, 1);
      let written = 0;
      for (const seg of chain.writable) {
        const len = Math.min(seg.len, port.buffered);
        if (len === 0) break;
        for (const view of ctx.memory.views(seg.addr, len)) written += port.take(view);
      }
      q.push(chain, written);
    }
    this.#interrupt(receiveqIndex(id), q);
    port.drained();
  }

  /** Hands every transmitq chain's bytes to the port's backend and uses the chain at once. */
  #drainTransmit(id: number): void {
    const index = transmitqIndex(id);
    const q = this.#queue(index);
    const ctx = this.#ctx;
    if (!q || !ctx) return;
    for (;;) {
      let chain: DescriptorChain | null;
      while ((chain = q.pop()) !== null) {
        checkTransmit(chain);
        const port = id < this.#maxPorts ? this.#ports[id] : undefined;
        const backend = port?.backend;
        for (const seg of chain.readable) {
          if (seg.len === 0) continue;
          if (!port || !backend) {
            if (port) port.discarded += seg.len;
            continue;
          }
          for (const view of ctx.memory.views(seg.addr, seg.len)) {
            try {
              backend.write(view);
            } catch {
              this.#backendErrors++;
            }
          }
        }
        q.push(chain, 0);
      }
      if (!q.enableNotifications()) break;
    }
    this.#interrupt(index, q);
  }

  // ------------------------------------------------------------------ control queues

  /** Reads and handles every driver control message. */
  #drainControl(): void {
    const q = this.#queue(VIRTIO_CONSOLE_CONTROL_TRANSMITQ);
    const ctx = this.#ctx;
    if (!q || !ctx) return;
    for (;;) {
      let chain: DescriptorChain | null;
      while ((chain = q.pop()) !== null) {
        checkTransmit(chain);
        if (chain.readableLength < VIRTIO_CONSOLE_CONTROL_SIZE) {
          throw new ConsoleRequestError('short-control-message', `${chain.readableLength} bytes`);
        }
        const r = new ChainReader(ctx.memory, chain.readable);
        const id = r.readU32();
        const event = r.readU16();
        const value = r.readU16();
        q.push(chain, 0);
        this.#handleControl(id, event, value);
      }
      if (!q.enableNotifications()) break;
    }
    this.#interrupt(VIRTIO_CONSOLE_CONTROL_TRANSMITQ, q);
  }

  #handleControl(id: number, event: number, value: number): void {
    if (event === VIRTIO_CONSOLE_DEVICE_READY) {
      if (value !== 1 && value !== 0) this.#badControl++;
      else if (value === 1 && !this.#driverReady) {
        this.#driverReady = true;
        for (let i = 0; i < this.#maxPorts; i++) if (this.#ports[i]) this.#announce(i);
      }
      return;
    }
    // Every other driver message names a port the driver was told of.
    const port = id < this.#maxPorts && this.#guestHas[id] ? this.#ports[id] : undefined;
    if (!port || (value !== 0 && value !== 1)) {
      this.#badControl++;
      return;
    }
    if (event === VIRTIO_CONSOLE_PORT_READY) {
      this.#ready[id] = value === 1;
      if (value === 1) this.#describe(port);
    } else if (event === VIRTIO_CONSOLE_PORT_OPEN) {
      const open = value === 1;
      port.guestOpenState = open;
      try {
        port.backend?.guestOpened?.(open);
      } catch {
        this.#backendErrors++;
      }
      if (open) this.#deliver(port);
    } else {
      // Unknown events and device-to-driver events sent by the driver.
      this.#badControl++;
    }
  }

  /** [console.dev.3] DEVICE_ADD only for a port below max_nr_ports the driver does not have. */
  #announce(id: number): void {
    if (id >= this.#maxPorts || this.#guestHas[id]) return;
    this.#guestHas[id] = true;
    this.#backlog.add(id, VIRTIO_CONSOLE_DEVICE_ADD, 0);
  }

  /** After PORT_READY: console nomination, size, name and host connection state. */
  #describe(port: ConsolePort): void {
    const id = port.id;
    if (port.isConsole) {
      this.#backlog.add(id, VIRTIO_CONSOLE_CONSOLE_PORT, 1);
      const size = this.#sizes[id];
      if (size) this.#backlog.add(id, VIRTIO_CONSOLE_RESIZE, 0, resizePayload(size));
    }
    if (port.name !== undefined) this.#backlog.add(id, VIRTIO_CONSOLE_PORT_NAME, 0, this.#encoder.encode(port.name));
    if (port.hostConnected) this.#backlog.add(id, VIRTIO_CONSOLE_PORT_OPEN, 1);
  }

  #onHostConnection(port: ConsolePort): void {
    if (!this.#controlLive() || !this.#ready[port.id] || this.#ports[port.id] !== port) return;
    this.#backlog.add(port.id, VIRTIO_CONSOLE_PORT_OPEN, port.hostConnected ? 1 : 0);
    this.#guarded(() => this.#flushControl());
  }

  /** Writes waiting control messages into control receiveq buffers, then notifies once. */
  #flushControl(): void {
    const q = this.#queue(VIRTIO_CONSOLE_CONTROL_RECEIVEQ);
    const ctx = this.#ctx;
    if (!q || !ctx || !this.#multiport) return;
    let msg;
    while ((msg = this.#backlog.peek()) !== undefined) {
      const chain = q.pop();
      if (chain === null) {
        if (!q.enableNotifications()) break;
        continue;
      }
      checkReceive(chain, VIRTIO_CONSOLE_CONTROL_SIZE);
      const w = new ChainWriter(ctx.memory, chain.writable);
      w.writeU32(msg.id);
      w.writeU16(msg.event);
      w.writeU16(msg.value);
      if (msg.extra) {
        const n = Math.min(msg.extra.length, w.remaining);
        if (n < msg.extra.length) this.#truncated++;
        w.write(msg.extra.subarray(0, n));
      }
      q.push(chain, w.written);
      this.#backlog.shift();
    }
    this.#interrupt(VIRTIO_CONSOLE_CONTROL_RECEIVEQ, q);
  }

  // ------------------------------------------------------------------ helpers

  #setConfigSize(size: ConsoleSize): void {
    this.#config.cols = size.cols & 0xffff;
    this.#config.rows = size.rows & 0xffff;
  }

  /** [console.dev.2] the lower byte written to emerg_wr goes to port 0's output. */
  #emergencyToPort0(byte: number): void {
    const backend = this.#ports[0]?.backend;
    if (!backend) {
      this.#discardedEmergency++;
      return;
    }
    this.#byte[0] = byte;
    try {
      backend.write(this.#byte);
    } catch {
      this.#backendErrors++;
    }
  }
}

/** [console.drv.1] receive buffers are device-writable only and hold at least `min` bytes. */
function checkReceive(chain: DescriptorChain, min: number): void {
  if (chain.readable.length > 0) throw new ConsoleRequestError('readable-in-receiveq', `chain ${chain.id}`);
  if (chain.writableLength < min) throw new ConsoleRequestError('short-receive-buffer', `chain ${chain.id}: ${chain.writableLength} bytes`);
}

/** [console.drv.1] transmit buffers are device-readable only. */
function checkTransmit(chain: DescriptorChain): void {
  if (chain.writable.length > 0) throw new ConsoleRequestError('writable-in-transmitq', `chain ${chain.id}`);
}

function resizePayload(size: ConsoleSize): Uint8Array {
  const b = new Uint8Array(4);
  const dv = new DataView(b.buffer);
  dv.setUint16(0, size.cols, true);
  dv.setUint16(2, size.rows, true);
  return b;
}
