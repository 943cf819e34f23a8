// A hostile driver: odd widths, out-of-range offsets, wrong notifications, broken queue set-ups.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_VERSION_1,
} from '@virtio/core';
import { COMMON_CFG as C } from '../src/index.js';
import { bringUp, commonCfg, rig } from './helpers.js';

const S_FEATURES_OK = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;

function toFeaturesOk(cc: ReturnType<typeof commonCfg>) {
  cc.write(C.device_status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  cc.write(C.driver_feature_select, 4, 1);
  cc.write(C.driver_feature, 4, Number(1n << BigInt(VIRTIO_F_VERSION_1 - 32)));
  cc.write(C.device_status, 1, S_FEATURES_OK);
}

describe('adversarial driver', () => {
  it('odd widths and misaligned offsets in the common configuration read 0 and change nothing', () => {
    const r = rig();
    const cc = commonCfg(r.pci);
    const before = { ...r.pci.counters };
    expect(cc.read(C.num_queues, 4)).toBe(0); // 4 bytes over a 2-byte field
    expect(cc.read(C.device_feature + 1, 1)).toBe(0);
    expect(cc.read(C.queue_desc, 2)).toBe(0);
    cc.write(C.device_status, 2, 0x0101);
    cc.write(C.queue_select, 4, 1);
    cc.write(C.queue_desc + 1, 1, 0xff);
    expect(r.pci.state.status).toBe(0);
    expect(cc.read(C.queue_select, 2)).toBe(0);
    expect(r.pci.counters.ignoredReads - before.ignoredReads).toBe(3);
    expect(r.pci.counters.ignoredWrites - before.ignoredWrites).toBe(3);
  });

  it('BAR accesses past the BAR, in the gaps, to unimplemented BARs or with width 8 are ignored', () => {
    const r = rig();
    const bar = r.pci.layout.bars.find((b) => b.contents === 'virtio')!;
    const reads = r.pci.counters.ignoredReads;
    expect(r.pci.barRead(bar.index, bar.size, 4)).toBe(0);
    expect(r.pci.barRead(bar.index, bar.size - 2, 4)).toBe(0);
    expect(r.pci.barRead(bar.index, 0x800, 4)).toBe(0); // gap after the common configuration
    expect(r.pci.barRead(0, 0, 4)).toBe(0);
    expect(r.pci.barRead(6, 0, 4)).toBe(0);
    expect(r.pci.barRead(bar.index, 0, 8)).toBe(0);
    expect(r.pci.barRead(bar.index, r.pci.layout.isr.offset, 4)).toBe(0); // ISR is one byte
    expect(r.pci.barRead(bar.index, r.pci.layout.device!.offset + 6, 4)).toBe(0); // past the device config
    expect(r.pci.barRead(bar.index, r.pci.layout.notify.offset, 2)).toBe(0); // notify is write-only
    expect(r.pci.counters.ignoredReads - reads).toBe(9);
    const writes = r.pci.counters.ignoredWrites;
    r.pci.barWrite(bar.index, -4, 4, 0);
    r.pci.barWrite(bar.index, Number.NaN, 4, 0);
    r.pci.barWrite(bar.index, r.pci.layout.isr.offset, 1, 0xff); // ISR is read-only
    r.pci.barWrite(2, 0, 4, 0);
    expect(r.pci.counters.ignoredWrites - writes).toBe(4);
  });

  it('MSI-X table: odd widths and offsets past the table are ignored; the PBA is read-only', () => {
    const r = rig();
    const t = r.pci.layout.msixTable!;
    const p = r.pci.layout.msixPba!;
    r.pci.barWrite(t.bar, t.offset + 2, 2, 0xffff);
    r.pci.barWrite(t.bar, t.offset + t.length, 4, 0xffffffff);
    r.pci.barWrite(p.bar, p.offset, 4, 0xffffffff);
    expect(r.pci.barRead(t.bar, t.offset, 4)).toBe(0);
    expect(r.pci.barRead(t.bar, t.offset, 1)).toBe(0);
    expect(r.pci.barRead(p.bar, p.offset, 4)).toBe(0);
    // Vector Control: only the mask bit is writable.
    r.pci.barWrite(t.bar, t.offset + 12, 4, 0xfffffffe);
    expect(r.pci.barRead(t.bar, t.offset + 12, 4)).toBe(0);
  });

  it('notifications of the wrong width, at the wrong address or for a missing queue are ignored', () => {
    const r = rig({ echo: { queues: 2 } });
    bringUp(r);
    const n = r.pci.layout.notify;
    const writes = r.pci.counters.ignoredWrites;
    r.pci.barWrite(n.bar, n.offset, 4, 0); // 32-bit without VIRTIO_F_NOTIFICATION_DATA
    r.pci.barWrite(n.bar, n.offset, 1, 0);
    r.pci.barWrite(n.bar, n.offset, 2, 1); // queue 1 named at queue 0's address
    r.pci.barWrite(n.bar, n.offset + 2, 2, 0); // between two queues' addresses
    r.pci.barWrite(n.bar, n.offset + 8, 2, 2); // queue 2 does not exist (outside the structure)
    expect(r.echo.notifications).toEqual([]);
    expect(r.pci.counters.ignoredWrites - writes).toBe(5);
    r.pci.barWrite(n.bar, n.offset + 4, 2, 1);
    expect(r.echo.notifications).toEqual([{ queue: 1, data: undefined }]);
  });

  it('queue_enable before the queue is set up: DRIVER_OK finds a broken ring and the device needs reset', () => {
    const r = rig();
    const cc = commonCfg(r.pci);
    toFeaturesOk(cc);
    cc.write(C.queue_select, 2, 0);
    cc.write(C.queue_desc, 4, 0xfffff000); // outside the 1 MiB guest memory
    cc.write(C.queue_enable, 2, 1);
    // Configuring after enabling is refused: the addresses stay.
    cc.write(C.queue_desc, 4, 0x40000);
    expect(cc.read(C.queue_desc, 4)).toBe(0xfffff000);
    cc.write(C.queue_size, 2, 16);
    expect(cc.read(C.queue_size, 2)).toBe(256);
    cc.write(C.device_status, 1, S_FEATURES_OK | VIRTIO_CONFIG_S_DRIVER_OK);
    expect(cc.read(C.device_status, 1) & VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET).toBe(VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET);
    // The driver is told through a configuration change interrupt (INT#x here).
    expect(r.intx).toEqual([true]);
    cc.write(C.device_status, 1, 0);
    expect(cc.read(C.device_status, 1)).toBe(0);
    expect(r.intx).toEqual([true, false]);
  });

  it('queue_enable = 0 is ignored, queue_enable before FEATURES_OK does not activate anything', () => {
    const r = rig();
    const cc = commonCfg(r.pci);
    cc.write(C.queue_enable, 2, 0);
    cc.write(C.queue_enable, 2, 2);
    expect(cc.read(C.queue_enable, 2)).toBe(0);
    expect(r.echo.ctx).toBeUndefined();
  });

  it('random configuration and BAR accesses never throw and leave only defined status bits', () => {
    const access = fc.record({
      kind: fc.constantFrom('cfgR', 'cfgW', 'barR', 'barW'),
      bar: fc.integer({ min: -1, max: 7 }),
      offset: fc.oneof(fc.integer({ min: -8, max: 0x5000 }), fc.constantFrom(0x14, 0x16, 0x1c, 0x20, 0x3000, 0x3004)),
      width: fc.constantFrom(0, 1, 2, 3, 4, 8),
      value: fc.oneof(fc.integer({ min: 0, max: 0xffffffff }), fc.constantFrom(0, 1, 0xf, 0xffff)),
    });
    fc.assert(
      fc.property(fc.array(access, { maxLength: 200 }), (ops) => {
        const r = rig({ echo: { queues: 2 } });
        for (const op of ops) {
          if (op.kind === 'cfgR') r.pci.configRead(op.offset & 0x1ff, op.width);
          else if (op.kind === 'cfgW') r.pci.configWrite(op.offset & 0x1ff, op.width, op.value);
          else if (op.kind === 'barR') r.pci.barRead(op.bar, op.offset, op.width);
          else r.pci.barWrite(op.bar, op.offset, op.width, op.value);
        }
        expect(r.pci.state.status & ~0xdf).toBe(0);
      }),
      { numRuns: 200 },
    );
  });
});
