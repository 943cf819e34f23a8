import { describe, expect, it } from 'vitest';
import { Bus } from '../src/bus/io-bus.js';
import { COMMAND_MEMORY, ConfigSpace, PCI_CFG } from '../src/pci/config-space.js';
import { PciBus } from '../src/pci/bus.js';
import { PciConfigFilter } from '../src/pci/config-filter.js';
import type { PciBar, PciFunction, PciFunctionContext } from '../src/pci/function.js';
import { HOST_BRIDGE_DEVICE, HOST_BRIDGE_VENDOR } from '../src/pci/host-bridge.js';

/** A fake PCI function with real BAR sizing semantics and a scratch register per BAR. */
class FakeFunction implements PciFunction {
  readonly cfg = new ConfigSpace();
  readonly regs = new Map<string, number>();
  ctx?: PciFunctionContext;
  constructor(readonly bars: readonly PciBar[]) {
    this.cfg.set(PCI_CFG.VENDOR_ID, 2, 0x1af4);
    this.cfg.set(PCI_CFG.DEVICE_ID, 2, 0x1041);
    this.cfg.writable[PCI_CFG.COMMAND] = 0x07;
    this.cfg.writable[PCI_CFG.INTERRUPT_LINE] = 0xff;
    for (const b of bars) {
      const mask = -b.size >>> 0;
      this.cfg.set(PCI_CFG.BAR0 + 4 * b.index, 4, b.is64 ? 0x4 : 0);
      for (let i = 0; i < 4; i++) this.cfg.writable[PCI_CFG.BAR0 + 4 * b.index + i] = (mask >>> (8 * i)) & (i === 0 ? 0xf0 : 0xff);
      if (b.is64) this.cfg.writable.fill(0xff, PCI_CFG.BAR0 + 4 * b.index + 4, PCI_CFG.BAR0 + 4 * b.index + 8);
    }
  }
  configRead(o: number, w: number) {
    return this.cfg.read(o, w);
  }
  configWrite(o: number, w: number, v: number) {
    this.cfg.write(o, w, v);
  }
  barRead(i: number, o: number, w: number) {
    return this.regs.get(`${i}:${o}:${w}`) ?? 0;
  }
  barWrite(i: number, o: number, w: number, v: number) {
    this.regs.set(`${i}:${o}:${w}`, v);
  }
  attach(ctx: PciFunctionContext) {
    this.ctx = ctx;
  }
}

function setup() {
  const irqs: [number, boolean][] = [];
  const msis: [number, number][] = [];
  const pci = new PciBus({
    mmioWindow: { base: 0xc0000000, size: 0x20000000 },
    intxGsi: (slot, pin) => 20 + ((slot + pin) % 4),
    interrupts: { irqLine: (g, l) => irqs.push([g, l]), signalMsi: (a, d) => msis.push([a, d]) },
  });
  const pio = new Bus();
  pio.register(0xcf8, 8, pci.configPorts, 'pci');
  const mmio = new Bus();
  mmio.register(0xe0000000, 0x100000, pci.ecam, 'ecam');
  mmio.register(0xc0000000, 0x20000000, pci.barWindow, 'bars');
  const cf8 = (dev: number, reg: number) => pio.write(0xcf8, 4, (0x80000000 | (dev << 11) | reg) >>> 0);
  return { pci, pio, mmio, irqs, msis, cf8 };
}

describe('PCI host bridge and configuration access', () => {
  it('shows the host bridge at 00:00.0 through CF8/CFC', () => {
    const { pio, cf8 } = setup();
    cf8(0, 0);
    expect(pio.read(0xcfc, 4)).toBe((HOST_BRIDGE_DEVICE << 16) | HOST_BRIDGE_VENDOR);
    cf8(0, 8);
    expect(pio.read(0xcfc, 4) >>> 8).toBe(0x060000);
    expect(pio.read(0xcf8, 4)).toBe(0x80000008);
  });

  it('reads the byte and word lanes of CONFIG_DATA at 0xCFC-0xCFF', () => {
    const { pio, cf8 } = setup();
    cf8(0, 0);
    expect(pio.read(0xcfe, 2)).toBe(HOST_BRIDGE_DEVICE);
    expect(pio.read(0xcfd, 1)).toBe(HOST_BRIDGE_VENDOR >> 8);
  });

  it('reads absent functions, other buses and a disabled CONFIG_ADDRESS as all ones', () => {
    const { pio, mmio, cf8 } = setup();
    cf8(5, 0);
    expect(pio.read(0xcfc, 4)).toBe(0xffffffff);
    pio.write(0xcf8, 4, 0x80010000);
    expect(pio.read(0xcfc, 2)).toBe(0xffff);
    pio.write(0xcf8, 4, 0);
    expect(pio.read(0xcfc, 4)).toBe(0xffffffff);
    expect(mmio.read(0xe0000000 + (3 << 15), 4)).toBe(0xffffffff);
    expect(mmio.read(0xe0000000 + (1 << 12), 4)).toBe(0xffffffff); // function 1
  });

  it('reaches the same config space through ECAM', () => {
    const { pci, mmio } = setup();
    const f = new FakeFunction([]);
    const slot = pci.plug(f);
    expect(slot).toBe(1);
    expect(mmio.read(0xe0000000 + (slot << 15), 4)).toBe(0x10411af4);
    mmio.write(0xe0000000 + (slot << 15) + PCI_CFG.COMMAND, 2, COMMAND_MEMORY);
    expect(f.cfg.read(PCI_CFG.COMMAND, 2)).toBe(COMMAND_MEMORY);
  });
});

describe('BARs and interrupts', () => {
  it('assigns naturally aligned BARs from the window and writes the INTx GSI', () => {
    const { pci } = setup();
    const a = new FakeFunction([{ index: 0, size: 0x1000, is64: false }]);
    const b = new FakeFunction([{ index: 0, size: 0x4000, is64: true }, { index: 2, size: 0x100, is64: false }]);
    pci.plug(a);
    pci.plug(b);
    expect(a.cfg.read(0x10, 4)).toBe(0xc0000000);
    expect(b.cfg.read(0x10, 4)).toBe(0xc0004004);
    expect(b.cfg.read(0x14, 4)).toBe(0);
    expect(b.cfg.read(0x18, 4)).toBe(0xc0008000);
    expect(a.cfg.read(PCI_CFG.INTERRUPT_LINE, 1)).toBe(21);
    expect(b.ctx?.intxGsi).toBe(22);
  });

  it('supports BAR sizing by writing all ones', () => {
    const { pci, pio, cf8 } = setup();
    const slot = pci.plug(new FakeFunction([{ index: 0, size: 0x1000, is64: false }]));
    cf8(slot, 0x10);
    pio.write(0xcfc, 4, 0xffffffff);
    expect(pio.read(0xcfc, 4)).toBe(0xfffff000);
  });

  it('dispatches BAR accesses only while memory decoding is enabled, following moves', () => {
    const { pci, mmio, pio, cf8 } = setup();
    const f = new FakeFunction([{ index: 0, size: 0x1000, is64: false }]);
    const slot = pci.plug(f);
    mmio.write(0xc0000010, 4, 7);
    expect(f.regs.size).toBe(0);
    expect(mmio.read(0xc0000010, 4)).toBe(0xffffffff);
    cf8(slot, PCI_CFG.COMMAND);
    pio.write(0xcfc, 2, COMMAND_MEMORY);
    mmio.write(0xc0000010, 4, 7);
    expect(f.regs.get('0:16:4')).toBe(7);
    expect(mmio.read(0xc0000010, 4)).toBe(7);
    cf8(slot, 0x10);
    pio.write(0xcfc, 4, 0xc0100000);
    expect(mmio.read(0xc0000010, 4)).toBe(0xffffffff);
    expect(mmio.read(0xc0100010, 4)).toBe(7);
  });

  it('routes INTx to the slot GSI and MSIs to signalMsi', () => {
    const { pci, irqs, msis } = setup();
    const f = new FakeFunction([]);
    pci.plug(f);
    f.ctx?.setIntx(true);
    f.ctx?.setIntx(false);
    f.ctx?.signalMsi(0xfee00000, 0x4021);
    expect(irqs).toEqual([[21, true], [21, false]]);
    expect(msis).toEqual([[0xfee00000, 0x4021]]);
  });

  it('refuses invalid BARs, a full window and a full bus', () => {
    const { pci } = setup();
    expect(() => pci.plug(new FakeFunction([{ index: 0, size: 3000, is64: false }]))).toThrow(/not a valid/);
    expect(() => pci.plug(new FakeFunction([{ index: 0, size: 0x40000000, is64: false }]))).toThrow(/exhausted/);
    for (let i = 1; i < 32; i++) pci.plug(new FakeFunction([]));
    expect(() => pci.plug(new FakeFunction([]))).toThrow(/no free PCI slot/);
  });
});

describe('PciConfigFilter (served in vCPU threads)', () => {
  it('shares CONFIG_ADDRESS with the bus and answers empty slots, other buses and functions itself', () => {
    const { pci, pio } = setup();
    const slot = pci.plug(new FakeFunction([]));
    const filter = new PciConfigFilter(pci.sharedState);
    const addr = (bus: number, dev: number, fn: number) => {
      const v = (0x80000000 | (bus << 16) | (dev << 11) | (fn << 8)) >>> 0;
      return Uint8Array.of(v & 0xff, (v >>> 8) & 0xff, (v >>> 16) & 0xff, v >>> 24);
    };
    const data = new Uint8Array(4);
    expect(filter.tryServe(0xcf8, 4, 1, true, addr(0, 7, 0))).toBe(true);
    expect(pio.read(0xcf8, 4)).toBe(0x80003800);
    expect(filter.tryServe(0xcfc, 4, 1, false, data)).toBe(true);
    expect([...data]).toEqual([0xff, 0xff, 0xff, 0xff]);
    for (const [bus, dev, fn] of [[1, slot, 0], [0, slot, 3]]) {
      filter.tryServe(0xcf8, 4, 1, true, addr(bus, dev, fn));
      expect(filter.tryServe(0xcfc, 2, 1, false, data)).toBe(true);
    }
    pio.write(0xcf8, 4, 0x80000000 | (slot << 11));
    expect(filter.tryServe(0xcfc, 4, 1, false, data)).toBe(false);
    filter.tryServe(0xcf8, 4, 1, false, data);
    expect([...data]).toEqual([0x00, slot << 3, 0x00, 0x80]);
    pio.write(0xcf8, 4, 0);
    expect(filter.tryServe(0xcfc, 4, 1, false, data)).toBe(true);
    expect(filter.tryServe(0x3f8, 1, 1, false, data)).toBe(false);
  });
});
