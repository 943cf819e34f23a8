import type { BusDevice } from '../bus/io-bus.js';
import { COMMAND_MEMORY, PCI_CFG } from './config-space.js';
import { HostBridge } from './host-bridge.js';
import type { PciFunction } from './function.js';
import { PCI_SHARED, PCI_SHARED_BYTES } from './config-filter.js';

/** How the PCI bus reaches the interrupt controller (KVM's vm.irqLine / vm.signalMsi). */
export interface PciInterrupts {
  irqLine(gsi: number, level: boolean): void;
  signalMsi(address: number, data: number): void;
}

/** Bus geometry: the 32-bit BAR window and the INTx swizzle (slot, pin 0-3) -> GSI. */
export interface PciBusOptions {
  readonly mmioWindow: { readonly base: number; readonly size: number };
  readonly intxGsi: (slot: number, pin: number) => number;
  readonly interrupts: PciInterrupts;
}

interface Mapping {
  base: number;
  size: number;
  fn: PciFunction;
  index: number;
}

/** Raised when a function cannot be plugged (no free slot, BAR window exhausted, bad BAR). */
export class PciBusError extends Error {
  override name = 'PciBusError';
}

/**
 * PCI bus 0 (segment 0): a host bridge at 00:00.0 and up to 31 single-function devices.
 * Configuration space is reachable through ECAM (`ecam`, an MMIO BusDevice for the MCFG
 * window: offset = bus << 20 | device << 15 | function << 12 | register) and through the
 * 0xCF8 address / 0xCFC data ports (`configPorts`, a port BusDevice for 0xCF8-0xCFF).
 * Absent functions read as all ones. BARs are assigned from the window when plugged; the
 * bus re-reads a function's BAR registers after every write to its COMMAND or BAR
 * registers, so the guest may move them, and `barWindow` (an MMIO BusDevice for the
 * window) dispatches accesses to enabled (COMMAND.MEMORY) BARs.
 */
export class PciBus {
  readonly #slots: (PciFunction | undefined)[] = new Array(32).fill(undefined);
  readonly #opts: PciBusOptions;
  #mappings: Mapping[] = [];
  #nextBar: number;
  /** CONFIG_ADDRESS and the populated-slot bitmap, shared with vCPU threads' PciConfigFilter. */
  readonly sharedState = new SharedArrayBuffer(PCI_SHARED_BYTES);
  readonly #shared = new Int32Array(this.sharedState);

  constructor(opts: PciBusOptions) {
    this.#opts = opts;
    this.#nextBar = opts.mmioWindow.base;
    this.#slots[0] = new HostBridge();
    Atomics.store(this.#shared, PCI_SHARED.PRESENT, 1);
  }

  /**
   * Plugs `fn` into the lowest free slot, assigns its BARs (naturally aligned, from the
   * window) and tells it its interrupts. Returns the device (slot) number.
   * @throws PciBusError when no slot is free or the window cannot fit a BAR.
   */
  plug(fn: PciFunction): number {
    const slot = this.#slots.indexOf(undefined);
    if (slot < 0) throw new PciBusError('no free PCI slot on bus 0');
    for (const bar of fn.bars) {
      if (!(bar.size >= 16) || (bar.size & (bar.size - 1)) !== 0 || bar.index < 0 || bar.index > (bar.is64 ? 4 : 5)) {
        throw new PciBusError(`BAR ${bar.index} of ${bar.size} bytes is not a valid memory BAR`);
      }
      const base = Math.ceil(this.#nextBar / bar.size) * bar.size;
      if (base + bar.size > this.#opts.mmioWindow.base + this.#opts.mmioWindow.size) throw new PciBusError('PCI MMIO window exhausted');
      this.#nextBar = base + bar.size;
      fn.configWrite(PCI_CFG.BAR0 + 4 * bar.index, 4, base);
      if (bar.is64) fn.configWrite(PCI_CFG.BAR0 + 4 * bar.index + 4, 4, 0);
    }
    const gsi = this.#opts.intxGsi(slot, 0);
    fn.configWrite(PCI_CFG.INTERRUPT_LINE, 1, gsi);
    this.#slots[slot] = fn;
    Atomics.or(this.#shared, PCI_SHARED.PRESENT, 1 << slot);
    const irq = this.#opts.interrupts;
    fn.attach?.({ intxGsi: gsi, setIntx: (a) => irq.irqLine(gsi, a), signalMsi: (addr, data) => irq.signalMsi(addr, data) });
    this.#remap();
    return slot;
  }

  /** Reads config space of bus/device/function at `offset` (width 1, 2 or 4). */
  configRead(bus: number, dev: number, fn: number, offset: number, width: number): number {
    const f = bus === 0 && fn === 0 ? this.#slots[dev] : undefined;
    if (!f) return width === 4 ? 0xffffffff : (1 << (width * 8)) - 1;
    return f.configRead(offset, width);
  }

  /** Writes config space; BAR or COMMAND writes update the BAR decoding. */
  configWrite(bus: number, dev: number, fn: number, offset: number, width: number, value: number): void {
    const f = bus === 0 && fn === 0 ? this.#slots[dev] : undefined;
    if (!f) return;
    f.configWrite(offset, width, value);
    if (offset < PCI_CFG.BAR0 + 24 && offset + width > PCI_CFG.COMMAND) this.#remap();
  }

  #remap(): void {
    const maps: Mapping[] = [];
    for (const fn of this.#slots) {
      if (!fn || !(fn.configRead(PCI_CFG.COMMAND, 2) & COMMAND_MEMORY)) continue;
      for (const bar of fn.bars) {
        const lo = fn.configRead(PCI_CFG.BAR0 + 4 * bar.index, 4) & ~0xf;
        const hi = bar.is64 ? fn.configRead(PCI_CFG.BAR0 + 4 * bar.index + 4, 4) : 0;
        const base = (lo >>> 0) + hi * 2 ** 32;
        if (base !== 0) maps.push({ base, size: bar.size, fn, index: bar.index });
      }
    }
    this.#mappings = maps;
  }

  #mapping(addr: number): Mapping | undefined {
    for (const m of this.#mappings) if (addr >= m.base && addr < m.base + m.size) return m;
    return undefined;
  }

  /** MMIO BusDevice for the ECAM window (bus 0 only; other buses read as all ones). */
  readonly ecam: BusDevice = {
    read: (off, size) => this.configRead(off >>> 20, (off >>> 15) & 31, (off >>> 12) & 7, off & 0xfff, size),
    write: (off, size, v) => this.configWrite(off >>> 20, (off >>> 15) & 31, (off >>> 12) & 7, off & 0xfff, size, v),
  };

  /** Port BusDevice for 0xCF8-0xCFF: CONFIG_ADDRESS (32-bit at 0xCF8) and CONFIG_DATA. */
  readonly configPorts: BusDevice = {
    read: (off, size) => {
      if (off === 0) return size === 4 ? Atomics.load(this.#shared, PCI_SHARED.CF8) >>> 0 : 0xffffffff >>> (32 - size * 8);
      return this.#dataAccess(off - 4, size, undefined);
    },
    write: (off, size, v) => {
      if (off === 0) {
        if (size === 4) Atomics.store(this.#shared, PCI_SHARED.CF8, v & 0x80fffffc);
        return;
      }
      this.#dataAccess(off - 4, size, v);
    },
  };

  #dataAccess(byte: number, size: number, value: number | undefined): number {
    const a = Atomics.load(this.#shared, PCI_SHARED.CF8) >>> 0;
    const ones = size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
    if (!(a & 0x80000000) || byte + size > 4) return ones;
    const bus = (a >>> 16) & 0xff;
    const dev = (a >>> 11) & 31;
    const fn = (a >>> 8) & 7;
    const reg = (a & 0xfc) + byte;
    if (value === undefined) return this.configRead(bus, dev, fn, reg, size);
    this.configWrite(bus, dev, fn, reg, size, value);
    return 0;
  }

  /** MMIO BusDevice for the BAR window: offsets are relative to the window base. */
  readonly barWindow: BusDevice = {
    read: (off, size) => {
      const addr = this.#opts.mmioWindow.base + off;
      const m = this.#mapping(addr);
      if (!m) return size === 4 ? 0xffffffff : (1 << (size * 8)) - 1;
      return m.fn.barRead(m.index, addr - m.base, size);
    },
    write: (off, size, v) => {
      const addr = this.#opts.mmioWindow.base + off;
      const m = this.#mapping(addr);
      if (m) m.fn.barWrite(m.index, addr - m.base, size, v);
    },
  };
}
