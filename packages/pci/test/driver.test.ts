// PciDriverTransport against our device, through recording and patching accessors.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import {
  VIRTIO_F_ADMIN_VQ,
  VIRTIO_F_NOTIFICATION_DATA,
  VIRTIO_F_NOTIF_CONFIG_DATA,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  DeviceInitError,
  featureMask,
  resetDevice,
} from '@virtio/core';
import {
  COMMON_CFG as C,
  PciDiscoveryError,
  PciDriverTransport,
  VIRTIO_MSI_NO_VECTOR,
  discoverCapabilities,
  pciCfgWindow,
} from '../src/index.js';
import { bringUp, echoThrough, patchedConfig, recorder, rig, type Access } from './helpers.js';

const payload = new Uint8Array([3, 1, 4, 1, 5]);

/** Field widths of struct virtio_pci_common_cfg by offset. */
const WIDTH: Record<number, number> = {
  0x00: 4, 0x04: 4, 0x08: 4, 0x0c: 4, 0x10: 2, 0x12: 2, 0x14: 1, 0x15: 1, 0x16: 2, 0x18: 2, 0x1a: 2, 0x1c: 2,
  0x1e: 2, 0x20: 4, 0x24: 4, 0x28: 4, 0x2c: 4, 0x30: 4, 0x34: 4, 0x38: 2, 0x3a: 2, 0x3c: 2, 0x3e: 2,
};
const READ_ONLY = [C.device_feature, C.num_queues, C.config_generation, C.queue_notify_off, C.queue_notif_config_data];

function commonAccesses(r: ReturnType<typeof rig>, log: Access[]) {
  const c = r.pci.layout.common;
  return log
    .filter((a) => (a.kind === 'barR' || a.kind === 'barW') && a.bar === c.bar && a.offset >= c.offset && a.offset < c.offset + c.length)
    .map((a) => ({ ...a, field: a.offset - c.offset }));
}

/** Accesses to the notification structure. */
function notifyWrites(r: ReturnType<typeof rig>, log: Access[]) {
  const n = r.pci.layout.notify;
  return log.filter((a) => a.kind === 'barW' && a.bar === n.bar && a.offset >= n.offset && a.offset < n.offset + n.length);
}

describe('PciDriverTransport', () => {
  it('[pci.drv.3] [pci.drv.10] [pci.drv.14] uses each field\'s own width, never writes read-only fields or 0 to queue_enable', () => {
    const r = rig({ echo: { queues: 2, features: featureMask(VIRTIO_F_RING_RESET) } });
    const { access, log } = recorder(r.pci);
    const up = bringUp(r, { msix: true, queueSize: 16, access });
    echoThrough(r, up, 1, payload);
    up.driver.resetQueue(0);
    up.driver.readConfig(4, 4);
    const acc = commonAccesses(r, log);
    expect(acc.length).toBeGreaterThan(30);
    for (const a of acc) {
      expect(WIDTH[a.field]).toBe(a.width);
      expect(a.offset % a.width).toBe(0);
    }
    const writes = acc.filter((a) => a.kind === 'barW');
    for (const w of writes) expect(READ_ONLY).not.toContain(w.field);
    expect(writes.filter((w) => w.field === C.queue_enable).map((w) => w.value)).toEqual([1, 1]);
  });

  it('[pci.drv.12] configures size, areas and vector before queue_enable', () => {
    const r = rig({ echo: { queues: 2 } });
    const { access, log } = recorder(r.pci);
    bringUp(r, { msix: true, queueSize: 32, access });
    const writes = commonAccesses(r, log).filter((a) => a.kind === 'barW');
    let selected = -1;
    const configured = new Map<number, Set<number>>();
    for (const w of writes) {
      if (w.field === C.queue_select) selected = w.value;
      else if (w.field === C.queue_enable) {
        expect([...(configured.get(selected) ?? [])].sort((a, b) => a - b)).toEqual([
          C.queue_size, C.queue_msix_vector, C.queue_desc, C.queue_desc + 4, C.queue_driver, C.queue_driver + 4, C.queue_device, C.queue_device + 4,
        ].sort((a, b) => a - b));
      } else if (w.field >= C.queue_size) {
        const set = configured.get(selected) ?? new Set<number>();
        set.add(w.field);
        configured.set(selected, set);
      }
    }
    expect(configured.size).toBe(2);
  });

  it('[pci.drv.9] writes no capability structure: its configuration writes are the MSI-X Message Control only', () => {
    const r = rig();
    const { access, log } = recorder(r.pci);
    bringUp(r, { msix: true, access });
    const caps = discoverCapabilities(r.pci);
    const cfgWrites = log.filter((a) => a.kind === 'cfgW');
    expect(cfgWrites.length).toBeGreaterThan(0);
    for (const w of cfgWrites) expect(w.offset).toBe(caps.msix!.capOffset + 2);
  });

  it('[pci.drv.2] matches any Revision ID and any subsystem IDs', () => {
    const r = rig();
    const access = patchedConfig(r.pci, (b) => {
      b[0x08] = 0x99;
      b[0x2c] = 0x34;
      b[0x2d] = 0x12;
      b[0x2e] = 0x00;
      b[0x2f] = 0x00;
    });
    const up = bringUp(r, { access });
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
  });

  it('refuses a function that is not a virtio device, or a legacy-only one without virtio capabilities', () => {
    const r = rig();
    expect(() => new PciDriverTransport(patchedConfig(r.pci, (b) => (b[0] = 0x86)))).toThrow(PciDiscoveryError);
    expect(() => new PciDriverTransport(patchedConfig(r.pci, (b) => (b[0x34] = 0)))).toThrow(PciDiscoveryError);
  });

  it('[pci.drv.4] [pci.drv.5] [pci.drv.6] [pci.drv.7] skips reserved cfg_type and bar values, takes the first of each type, accepts a long cap_len', () => {
    const r = rig();
    const real = discoverCapabilities(r.pci);
    const access = patchedConfig(r.pci, (b) => {
      const first = b[0x34];
      // 0xc0: reserved cfg_type 0x77; 0xd0: a common cfg in reserved BAR 7; then the real list.
      b.set([0x09, 0xd0, 16, 0x77, 4, 0, 0, 0, 0, 0, 0, 0, 0x40, 0, 0, 0], 0xc0);
      b.set([0x09, first, 16, 0x01, 7, 0, 0, 0, 0, 0x10, 0, 0, 0x40, 0, 0, 0], 0xd0);
      b[0x34] = 0xc0;
      // The real common capability claims a longer cap_len; a second ISR capability at the end.
      b[real.common.capOffset + 2] = 0x30 - 0x10;
      const msix = real.msix!.capOffset;
      b[msix + 1] = 0xe0;
      b.set([0x09, 0x00, 16, 0x03, 4, 0, 0, 0, 0x00, 0x30, 0, 0, 1, 0, 0, 0], 0xe0);
    });
    const driver = new PciDriverTransport(access);
    expect(driver.caps.common).toEqual(real.common);
    expect(driver.caps.isr).toEqual(real.isr);
    const up = bringUp(r, { access, msix: true });
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
  });

  it('[pci.drv.8] handles an unexpectedly large length by mapping only what it needs', () => {
    const r = rig();
    const real = discoverCapabilities(r.pci);
    const access = patchedConfig(r.pci, (b) => {
      b.set([0, 0, 0x10, 0], real.device!.capOffset + 12); // 1 MiB of device configuration
      b.set([0, 0, 0, 0x40], real.common.capOffset + 12); // 1 GiB of common configuration
    });
    const driver = new PciDriverTransport(access);
    expect(driver.configSize).toBe(4096);
    driver.writeConfig(4, 4, 0x01020304);
    expect(driver.readConfig(4, 4)).toBe(0x01020304);
    expect(() => driver.readConfig(4096, 1)).toThrow(RangeError);
    // Too small to operate is refused.
    expect(() => new PciDriverTransport(patchedConfig(r.pci, (b) => (b[real.common.capOffset + 12] = 0x20)))).toThrow(PciDiscoveryError);
  });

  it('[pci.drv.11] refuses queue sizes the layout does not allow', () => {
    const split = bringUp(rig({ echo: { queueMaxSize: 64 } }));
    expect(() => split.driver.setupQueue(0, { size: 48, descTable: 0, driverArea: 0, deviceArea: 0 })).toThrow(RangeError);
    expect(() => split.driver.setupQueue(0, { size: 0, descTable: 0, driverArea: 0, deviceArea: 0 })).toThrow(RangeError);
    expect(() => split.driver.setupQueue(0, { size: 128, descTable: 0, driverArea: 0, deviceArea: 0 })).toThrow(RangeError);
    const packed = bringUp(rig({ echo: { queueMaxSize: 64, features: featureMask(VIRTIO_F_RING_PACKED) } }), { queueSize: 48 });
    expect(() => packed.driver.setupQueue(0, { size: 0, descTable: 0, driverArea: 0, deviceArea: 0 })).toThrow(RangeError);
  });

  it('[pci.drv.16] sets up queues beyond num_queues only inside the administration queue range', () => {
    // A device reporting administration queues 1 and 2 (after its one regular queue), each of size 64.
    const r = rig({ echo: { features: featureMask(VIRTIO_F_ADMIN_VQ) } });
    const field = (offset: number) => offset - r.pci.layout.common.offset;
    const { access, log } = recorder(r.pci, (a) => {
      if (a.kind !== 'barR') return undefined;
      if (field(a.offset) === C.admin_queue_index) return 1;
      if (field(a.offset) === C.admin_queue_num) return 2;
      if (field(a.offset) === C.queue_size) return 64;
      return undefined;
    });
    const up = bringUp(r, { access });
    expect(up.features & featureMask(VIRTIO_F_ADMIN_VQ)).toBe(featureMask(VIRTIO_F_ADMIN_VQ));
    const setup = { size: 64, descTable: 0x40000, driverArea: 0x41000, deviceArea: 0x42000 };
    log.length = 0;
    expect(() => up.driver.setupQueue(3, setup)).toThrow(RangeError);
    expect(log.filter((a) => a.kind === 'barW')).toEqual([]);
    up.driver.setupQueue(2, setup);
    const selects = commonAccesses(r, log).filter((a) => a.kind === 'barW' && a.field === C.queue_select);
    expect(selects.map((a) => a.value)).toContain(2);
    // Without VIRTIO_F_ADMIN_VQ nothing beyond num_queues is set up.
    const plain = bringUp(rig());
    expect(() => plain.driver.setupQueue(1, setup)).toThrow(RangeError);
  });

  it('[pci.drv.13] after writing 0 to device_status waits until it reads 0', () => {
    const r = rig();
    let slow = 3;
    const { access, log } = recorder(r.pci, (a, v) => {
      const field = a.offset - r.pci.layout.common.offset;
      if (a.kind === 'barR' && field === C.device_status && slow > 0) {
        slow--;
        return 0x01;
      }
      return undefined;
    });
    bringUp(r, { access });
    const statusReads = commonAccesses(r, log).filter((a) => a.kind === 'barR' && a.field === C.device_status);
    expect(statusReads.slice(0, 4).map((a) => a.value)).toEqual([1, 1, 1, 0]);
    // Writes after the reset come only after the 0 was read.
    const all = commonAccesses(r, log);
    const zeroRead = all.findIndex((a) => a.kind === 'barR' && a.field === C.device_status && a.value === 0);
    expect(all.slice(1, zeroRead).every((a) => a.kind === 'barR')).toBe(true);
    const stuck = recorder(r.pci, (a) => (a.kind === 'barR' && a.offset - r.pci.layout.common.offset === C.device_status ? 1 : undefined));
    expect(() => resetDevice(new PciDriverTransport(stuck.access))).toThrow(DeviceInitError);
  });

  it('[pci.drv.15] a queue reset is complete only once queue_reset reads 0', () => {
    const r = rig({ echo: { features: featureMask(VIRTIO_F_RING_RESET) } });
    let pending = 0;
    const { access } = recorder(r.pci, (a) => {
      if (a.kind === 'barR' && a.offset - r.pci.layout.common.offset === C.queue_reset && pending > 0) {
        pending--;
        return 1;
      }
      return undefined;
    });
    const up = bringUp(r, { access });
    pending = 2;
    expect(up.driver.resetQueue(0)).toBe(true);
    expect(pending).toBe(0);
    expect(up.driver.queueEnabled(0)).toBe(false);
    pending = 1000;
    expect(new PciDriverTransport(access, { queueResetPolls: 5 }).resetQueue(0)).toBe(false);
  });

  it('[pci.drv.20] works with any MSI-X table size, and with none (INT#x)', () => {
    for (const vectors of [0x800, 3]) {
      const r = rig({ pci: { msixVectors: vectors } });
      const up = bringUp(r, { msix: true });
      expect(up.driver.msixVectors).toBe(vectors);
      expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
      expect(r.msis.map((m) => m.vector)).toEqual([1]);
    }
    const r = rig({ pci: { msixVectors: 0 } });
    const up = bringUp(r);
    expect(up.driver.msixVectors).toBe(0);
    expect(() => up.driver.enableMsix(() => ({ addressLo: 0, addressHi: 0, data: 0 }))).toThrow(PciDiscoveryError);
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
    expect(r.intx).toEqual([true]);
  });

  it('[pci.drv.22] never maps an event to a vector outside the table', () => {
    const r = rig({ pci: { msixVectors: 2 } });
    const { access, log } = recorder(r.pci);
    const up = bringUp(r, { access });
    log.length = 0;
    expect(() => up.driver.setConfigVector(2)).toThrow(RangeError);
    expect(() => up.driver.setupQueue(0, { size: 256, descTable: 0, driverArea: 0, deviceArea: 0, vector: 5 })).toThrow(RangeError);
    const vectorWrites = commonAccesses(r, log).filter(
      (a) => a.kind === 'barW' && (a.field === C.config_msix_vector || a.field === C.queue_msix_vector),
    );
    expect(vectorWrites).toEqual([]);
  });

  it('[pci.drv.23] verifies a vector mapping by reading it back and reports a refusal', () => {
    const r = rig({ echo: { queues: 2 } });
    const { access, log } = recorder(r.pci, (a) =>
      a.kind === 'barR' && a.offset - r.pci.layout.common.offset === C.queue_msix_vector ? VIRTIO_MSI_NO_VECTOR : undefined,
    );
    expect(() => bringUp(r, { access, msix: true })).toThrow('queue 0 vector refused');
    const acc = commonAccesses(r, log);
    const vw = acc.findIndex((a) => a.kind === 'barW' && a.field === C.queue_msix_vector);
    expect(acc[vw + 1]).toMatchObject({ kind: 'barR', field: C.queue_msix_vector });
    expect(acc.some((a) => a.kind === 'barW' && a.field === C.queue_enable)).toBe(false);
  });

  const notifyCases: [string, bigint, number, (q: number, v: number) => void][] = [
    ['[pci.drv.24] [pci.drv.26] 16-bit, the queue index', 0n, 2, (q, v) => expect(v).toBe(q)],
    ['[pci.drv.25] [pci.drv.27] 32-bit with NOTIFICATION_DATA, vq_index = the queue index', featureMask(VIRTIO_F_NOTIFICATION_DATA), 4, (q, v) => {
      expect(v & 0xffff).toBe(q);
      expect(v >>> 16).toBe(1); // next_off: the available index after one buffer
    }],
    ['[pci.drv.28] 16-bit with NOTIF_CONFIG_DATA, queue_notif_config_data', featureMask(VIRTIO_F_NOTIF_CONFIG_DATA), 2, (q, v) => expect(v).toBe(0x4200 + q)],
    ['[pci.drv.29] 32-bit with both, vq_notif_config_data = queue_notif_config_data', featureMask(VIRTIO_F_NOTIF_CONFIG_DATA, VIRTIO_F_NOTIFICATION_DATA), 4, (q, v) => expect(v & 0xffff).toBe(0x4200 + q)],
  ];
  for (const [name, features, width, check] of notifyCases) {
    it(`notification: ${name}`, () => {
      const r = rig({ echo: { queues: 2, features } });
      const { access, log } = recorder(r.pci, (a, v) =>
        a.kind === 'barR' && a.offset - r.pci.layout.common.offset === C.queue_notif_config_data ? 0x4200 + v : undefined,
      );
      const up = bringUp(r, { access });
      expect(up.features & features).toBe(features);
      for (const q of [0, 1]) {
        log.length = 0;
        const dq = up.queues[q];
        dq.add([{ addr: 0x1000, len: 1 }], [{ addr: 0x2000, len: 1 }], q);
        dq.kick();
        up.driver.notify(q, 1 << 16);
        const w = notifyWrites(r, log);
        expect(w).toHaveLength(1);
        expect(w[0].width).toBe(width);
        expect(w[0].offset).toBe(r.pci.layout.notify.offset + q * r.pci.layout.notifyOffMultiplier);
        check(q, w[0].value);
      }
    });
  }

  it('[pci.drv.18] [pci.drv.19] drives the device through the PCI_CFG window with aligned accesses inside virtio structures only', () => {
    const r = rig();
    const { access: rec, log } = recorder(r.pci);
    const window = pciCfgWindow(rec, discoverCapabilities(r.pci));
    const up = bringUp(r, { access: window });
    expect(echoThrough(r, up, 0, payload).got).toEqual(payload);
    expect(up.driver.readConfig(0, 4)).toBe(1);
    // Every BAR access went through configuration space.
    expect(log.filter((a) => a.kind === 'barR' || a.kind === 'barW')).toEqual([]);
    const cap = discoverCapabilities(r.pci).pciCfg!.capOffset;
    let offset = 0;
    let length = 0;
    for (const a of log) {
      if (a.kind === 'cfgW' && a.offset === cap + 8) offset = a.value;
      if (a.kind === 'cfgW' && a.offset === cap + 12) length = a.value;
      if (a.offset === cap + 16) {
        expect(offset % length).toBe(0);
        expect(a.width).toBe(length);
      }
    }
    // Out of a structure or unaligned: refused before touching the window.
    log.length = 0;
    expect(() => window.barRead(4, r.pci.layout.common.offset + 0x40, 4)).toThrow(RangeError);
    expect(() => window.barRead(4, r.pci.layout.common.offset + 0x12 + 1, 2)).toThrow(RangeError);
    expect(() => window.barRead(1, 0, 4)).toThrow(RangeError);
    expect(log).toEqual([]);
  });
});

describe('discovery against a hostile configuration space', () => {
  it('random capability lists never hang the walk and fail only with PciDiscoveryError', () => {
    const r = rig();
    const real = new Uint8Array(256);
    for (let i = 0; i < 256; i++) real[i] = r.pci.configRead(i, 1);
    fc.assert(
      fc.property(fc.array(fc.tuple(fc.integer({ min: 0x34, max: 0xff }), fc.integer({ min: 0, max: 0xff })), { maxLength: 64 }), (pokes) => {
        const access = patchedConfig(r.pci, (b) => {
          b.set(real);
          for (const [at, v] of pokes) b[at] = v;
        });
        try {
          const caps = discoverCapabilities(access);
          for (const s of [caps.common, caps.notify, caps.isr]) expect(s.bar).toBeLessThanOrEqual(5);
        } catch (e) {
          expect(e).toBeInstanceOf(PciDiscoveryError);
        }
      }),
      { numRuns: 300 },
    );
  });
});
