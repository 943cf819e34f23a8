// The VIRTIO_PCI_CAP_PCI_CFG window: BAR accesses through configuration space.
import { describe, expect, it } from 'vitest';
import { COMMON_CFG as C, VIRTIO_PCI_CAP_PCI_CFG } from '../src/index.js';
import { bringUp, commonCfg, echoThrough, rig, virtioCap } from './helpers.js';

function windowOf(r: ReturnType<typeof rig>) {
  const at = virtioCap(r.pci, VIRTIO_PCI_CAP_PCI_CFG)!.at;
  const aim = (bar: number, offset: number, length: number) => {
    r.pci.configWrite(at + 4, 1, bar);
    r.pci.configWrite(at + 8, 4, offset);
    r.pci.configWrite(at + 12, 4, length);
  };
  return {
    at,
    read(bar: number, offset: number, length: 1 | 2 | 4): number {
      aim(bar, offset, length);
      return r.pci.configRead(at + 16, length);
    },
    write(bar: number, offset: number, length: 1 | 2 | 4, value: number): void {
      aim(bar, offset, length);
      r.pci.configWrite(at + 16, length, value);
    },
  };
}

describe('PCI configuration access capability', () => {
  it('[pci.dev.39] a write to pci_cfg_data writes cap.length bytes at cap.offset of cap.bar', () => {
    const r = rig({ echo: { queues: 2 } });
    const w = windowOf(r);
    const common = r.pci.layout.common;
    w.write(common.bar, common.offset + C.queue_select, 2, 1);
    w.write(common.bar, common.offset + C.queue_desc, 4, 0xabc000);
    expect(commonCfg(r.pci).read(C.queue_select, 2)).toBe(1);
    expect(r.pci.state.queue(1)!.descTable).toBe(0xabc000);
    // Device-specific configuration too.
    const dev = r.pci.layout.device!;
    w.write(dev.bar, dev.offset + 4, 4, 0x5a5a5a5a);
    expect(r.pci.barRead(dev.bar, dev.offset + 4, 4)).toBe(0x5a5a5a5a);
    // The window's fields are read-write.
    expect(r.pci.configRead(w.at + 12, 4)).toBe(4);
    expect(r.pci.configRead(w.at + 8, 4)).toBe(dev.offset + 4);
  });

  it('[pci.dev.40] a read of pci_cfg_data executes the BAR read (side effects included) and presents its bytes', () => {
    const r = rig();
    const w = windowOf(r);
    const common = r.pci.layout.common;
    expect(w.read(common.bar, common.offset + C.num_queues, 2)).toBe(1);
    expect(w.read(common.bar, common.offset + C.queue_size, 2)).toBe(256);
    // Reading the ISR through the window clears it, as a BAR read does.
    const up = bringUp(r);
    echoThrough(r, up, 0, new Uint8Array([1]));
    expect(r.pci.intxAsserted).toBe(true);
    const isr = r.pci.layout.isr;
    expect(w.read(isr.bar, isr.offset, 1)).toBe(1);
    expect(r.pci.intxAsserted).toBe(false);
    expect(w.read(isr.bar, isr.offset, 1)).toBe(0);
  });

  it('[pci.dev.39] notifications go through the window too', () => {
    const r = rig();
    const up = bringUp(r);
    const w = windowOf(r);
    const n = r.pci.layout.notify;
    const dq = up.queues[0];
    r.memory.write(0x1000, new Uint8Array([7]));
    dq.add([{ addr: 0x1000, len: 1 }], [{ addr: 0x2000, len: 1 }], 1);
    dq.kick();
    w.write(n.bar, n.offset, 2, 0);
    expect(dq.reap()).toEqual({ token: 1, len: 1 });
  });

  it('window accesses outside every structure, unaligned or of a bad length are ignored and read 0', () => {
    const r = rig();
    const w = windowOf(r);
    const common = r.pci.layout.common;
    const before = { ...r.pci.counters };
    expect(w.read(common.bar, common.offset + common.length, 4)).toBe(0); // past the structure
    expect(w.read(common.bar, common.offset + C.num_queues + 1, 2)).toBe(0); // unaligned
    expect(w.read(0, 0, 4)).toBe(0); // BAR 0 holds nothing
    expect(w.read(7, 0, 4)).toBe(0); // reserved BAR number
    expect(w.read(r.pci.layout.msixTable!.bar, 0, 4)).toBe(0); // not a virtio structure
    r.pci.configWrite(w.at + 12, 4, 3); // length 3
    expect(r.pci.configRead(w.at + 16, 4)).toBe(0);
    w.write(common.bar, 0x1ffc, 4, 0xffffffff);
    expect(r.pci.counters.ignoredReads - before.ignoredReads).toBe(6);
    expect(r.pci.counters.ignoredWrites - before.ignoredWrites).toBe(1);
    expect(r.pci.state.status).toBe(0);
  });
});
