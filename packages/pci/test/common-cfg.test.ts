// struct virtio_pci_common_cfg over core's state machine.
import { describe, expect, it } from 'vitest';
import {
  VIRTIO_CONFIG_S_ACKNOWLEDGE,
  VIRTIO_CONFIG_S_DRIVER,
  VIRTIO_CONFIG_S_DRIVER_OK,
  VIRTIO_CONFIG_S_FEATURES_OK,
  VIRTIO_F_ADMIN_VQ,
  VIRTIO_F_RING_PACKED,
  VIRTIO_F_RING_RESET,
  VIRTIO_F_VERSION_1,
  featureMask,
} from '@virtio/core';
import { COMMON_CFG as C, VIRTIO_MSI_NO_VECTOR } from '../src/index.js';
import { bringUp, commonCfg, echoThrough, rig } from './helpers.js';

const S_ALL = VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER | VIRTIO_CONFIG_S_FEATURES_OK;

/** Drives status up to FEATURES_OK with `features` through the common configuration. */
function negotiate(cc: ReturnType<typeof commonCfg>, features: bigint) {
  cc.write(C.device_status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
  for (let sel = 0; sel < 4; sel++) {
    cc.write(C.driver_feature_select, 4, sel);
    cc.write(C.driver_feature, 4, Number((features >> BigInt(32 * sel)) & 0xffffffffn));
  }
  cc.write(C.device_status, 1, S_ALL);
}

describe('common configuration', () => {
  it('[pci.dev.10] presents the offered features 32 bits per device_feature_select, 0 beyond', () => {
    const features = featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_RING_RESET, 3, 17);
    const r = rig({ echo: { features } });
    const cc = commonCfg(r.pci);
    const all = features | featureMask(VIRTIO_F_VERSION_1);
    for (let sel = 0; sel < 6; sel++) {
      cc.write(C.device_feature_select, 4, sel);
      expect(cc.read(C.device_feature_select, 4)).toBe(sel);
      expect(cc.read(C.device_feature, 4)).toBe(Number((all >> BigInt(32 * sel)) & 0xffffffffn));
    }
    cc.write(C.device_feature_select, 4, 0xffffffff);
    expect(cc.read(C.device_feature, 4)).toBe(0);
  });

  it('[pci.dev.11] presents the valid feature bits the driver wrote per driver_feature_select', () => {
    const r = rig({ echo: { features: featureMask(3) } });
    const cc = commonCfg(r.pci);
    cc.write(C.device_status, 1, VIRTIO_CONFIG_S_ACKNOWLEDGE | VIRTIO_CONFIG_S_DRIVER);
    cc.write(C.driver_feature_select, 4, 0);
    cc.write(C.driver_feature, 4, 0b1001_1000); // bit 3 offered, bits 4 and 7 not
    cc.write(C.driver_feature_select, 4, 1);
    cc.write(C.driver_feature, 4, 0b11); // VERSION_1 offered, bit 33 not
    cc.write(C.driver_feature_select, 4, 0);
    expect(cc.read(C.driver_feature, 4)).toBe(0b1000);
    cc.write(C.driver_feature_select, 4, 1);
    expect(cc.read(C.driver_feature, 4)).toBe(0b1);
    cc.write(C.driver_feature_select, 4, 7);
    expect(cc.read(C.driver_feature, 4)).toBe(0);
  });

  it('[pci.dev.12] config_generation changes after a device configuration change, even after 256 of them', () => {
    const r = rig();
    const cc = commonCfg(r.pci);
    const g0 = cc.read(C.config_generation, 1);
    expect(r.pci.barRead(4, r.pci.layout.device!.offset, 4)).toBe(0);
    for (let i = 0; i < 256; i++) r.echo.host!.configChanged();
    // The driver reads the configuration, then the generation: it must differ from g0.
    r.pci.barRead(4, r.pci.layout.device!.offset, 4);
    const g1 = cc.read(C.config_generation, 1);
    expect(g1).not.toBe(g0);
    // No change: the generation stays.
    r.pci.barRead(4, r.pci.layout.device!.offset, 4);
    expect(cc.read(C.config_generation, 1)).toBe(g1);
  });

  it('[pci.dev.13] writing 0 to device_status resets the device and it then presents 0', () => {
    const r = rig();
    const up = bringUp(r, { msix: true });
    const cc = commonCfg(r.pci);
    expect(cc.read(C.device_status, 1)).toBe(S_ALL | VIRTIO_CONFIG_S_DRIVER_OK);
    const resets = r.echo.resets;
    cc.write(C.device_status, 1, 0);
    expect(cc.read(C.device_status, 1)).toBe(0);
    expect(r.echo.resets).toBe(resets + 1);
    expect(r.pci.state.live).toBe(false);
    // The device is usable again after re-initialisation.
    const again = bringUp(r, { msix: true });
    expect(echoThrough(r, again, 0, new Uint8Array([9])).got).toEqual(new Uint8Array([9]));
    expect(up.driver.deviceId).toBe(again.driver.deviceId);
  });

  it('[pci.dev.14] [pci.dev.42] presents 0 in queue_enable and unmaps every vector on reset', () => {
    const r = rig({ echo: { queues: 2 } });
    bringUp(r, { msix: true });
    const cc = commonCfg(r.pci);
    cc.write(C.queue_select, 2, 1);
    expect(cc.read(C.queue_enable, 2)).toBe(1);
    expect(cc.read(C.queue_msix_vector, 2)).toBe(2);
    expect(cc.read(C.config_msix_vector, 2)).toBe(0);
    cc.write(C.device_status, 1, 0);
    for (const q of [0, 1]) {
      cc.write(C.queue_select, 2, q);
      expect(cc.read(C.queue_enable, 2)).toBe(0);
      expect(cc.read(C.queue_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    }
    expect(cc.read(C.config_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
  });

  it('[pci.dev.15] [pci.dev.16] with VIRTIO_F_RING_RESET queue_reset reads 0 on reset and after queue_enable', () => {
    const r = rig({ echo: { features: featureMask(VIRTIO_F_RING_RESET) } });
    const cc = commonCfg(r.pci);
    negotiate(cc, featureMask(VIRTIO_F_RING_RESET, VIRTIO_F_VERSION_1));
    cc.write(C.queue_select, 2, 0);
    expect(cc.read(C.queue_reset, 2)).toBe(0);
    cc.write(C.queue_desc, 4, 0x40000);
    cc.write(C.queue_driver, 4, 0x41000);
    cc.write(C.queue_device, 4, 0x42000);
    cc.write(C.queue_enable, 2, 1);
    expect(cc.read(C.queue_enable, 2)).toBe(1);
    expect(cc.read(C.queue_reset, 2)).toBe(0);
  });

  it('[pci.dev.17] queue_reset = 1 resets the queue; afterwards queue_reset and queue_enable read 0 and it can be re-enabled', () => {
    const r = rig({ echo: { features: featureMask(VIRTIO_F_RING_RESET), queueMaxSize: 64 } });
    const up = bringUp(r, { msix: true, queueSize: 16 });
    const cc = commonCfg(r.pci);
    cc.write(C.queue_select, 2, 0);
    expect(cc.read(C.queue_size, 2)).toBe(16);
    cc.write(C.queue_reset, 2, 1);
    expect(cc.read(C.queue_reset, 2)).toBe(0);
    expect(cc.read(C.queue_enable, 2)).toBe(0);
    // Back to the default state: maximum size, no addresses, no vector.
    expect(cc.read(C.queue_size, 2)).toBe(64);
    expect(cc.read(C.queue_desc, 4)).toBe(0);
    expect(cc.read(C.queue_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    expect(r.echo.ctx!.queues[0]).toBeUndefined();
    expect(r.pci.state.live).toBe(true);
    // The driver side resets and re-enables through the same registers.
    expect(() => up.driver.resetQueue(0)).not.toThrow();
  });

  it('[pci.dev.17] queue_reset is ignored without VIRTIO_F_RING_RESET', () => {
    const r = rig();
    bringUp(r);
    const cc = commonCfg(r.pci);
    cc.write(C.queue_reset, 2, 1);
    expect(cc.read(C.queue_enable, 2)).toBe(1);
  });

  it('[pci.dev.18] presents queue_size 0 for a queue the device does not have', () => {
    const r = rig({ echo: { queues: 2 } });
    const cc = commonCfg(r.pci);
    for (const sel of [2, 3, 0x7fff, 0xffff]) {
      cc.write(C.queue_select, 2, sel);
      expect(cc.read(C.queue_select, 2)).toBe(sel);
      expect(cc.read(C.queue_size, 2)).toBe(0);
      cc.write(C.queue_size, 2, 8);
      cc.write(C.queue_enable, 2, 1);
      expect(cc.read(C.queue_size, 2)).toBe(0);
      expect(cc.read(C.queue_enable, 2)).toBe(0);
      expect(cc.read(C.queue_msix_vector, 2)).toBe(VIRTIO_MSI_NO_VECTOR);
    }
    cc.write(C.queue_select, 2, 1);
    expect(cc.read(C.queue_size, 2)).toBe(256);
  });

  it('[pci.dev.19] without VIRTIO_F_RING_PACKED queue_size is 0 or a power of two', () => {
    const r = rig({ echo: { queueMaxSize: 100 } });
    const cc = commonCfg(r.pci);
    negotiate(cc, featureMask(VIRTIO_F_VERSION_1));
    expect(cc.read(C.queue_size, 2)).toBe(64);
    cc.write(C.queue_size, 2, 48);
    expect(cc.read(C.queue_size, 2)).toBe(64);
    cc.write(C.queue_size, 2, 32);
    expect(cc.read(C.queue_size, 2)).toBe(32);
    // A driver that keeps the offered size gets a power-of-two queue when it enables it.
    const keep = rig({ echo: { queueMaxSize: 100 } });
    const kc = commonCfg(keep.pci);
    negotiate(kc, featureMask(VIRTIO_F_VERSION_1));
    expect(kc.read(C.queue_size, 2)).toBe(64);
    kc.write(C.queue_enable, 2, 1);
    expect(keep.pci.state.queue(0)!.size).toBe(64);
    // With packed rings any size up to the maximum is fine.
    const p = rig({ echo: { queueMaxSize: 100, features: featureMask(VIRTIO_F_RING_PACKED) } });
    const pc = commonCfg(p.pci);
    negotiate(pc, featureMask(VIRTIO_F_VERSION_1, VIRTIO_F_RING_PACKED));
    expect(pc.read(C.queue_size, 2)).toBe(100);
    pc.write(C.queue_size, 2, 48);
    expect(pc.read(C.queue_size, 2)).toBe(48);
  });

  it('[pci.dev.20] with VIRTIO_F_ADMIN_VQ admin_queue_index >= num_queues and the admin queues fit in 16 bits', () => {
    const r = rig({ echo: { queues: 3, features: featureMask(VIRTIO_F_ADMIN_VQ) } });
    const cc = commonCfg(r.pci);
    negotiate(cc, featureMask(VIRTIO_F_VERSION_1, VIRTIO_F_ADMIN_VQ));
    expect(cc.read(C.device_status, 1) & VIRTIO_CONFIG_S_FEATURES_OK).toBeTruthy();
    const index = cc.read(C.admin_queue_index, 2);
    const num = cc.read(C.admin_queue_num, 2);
    expect(index).toBeGreaterThanOrEqual(cc.read(C.num_queues, 2));
    expect(num).toBeLessThanOrEqual(0x10000 - index);
  });

  it('[pci.dev.5] the halves of 64-bit queue addresses are written and read independently', () => {
    const r = rig();
    const cc = commonCfg(r.pci);
    cc.write(C.queue_desc + 4, 4, 0x12);
    cc.write(C.queue_driver, 4, 0x9000);
    cc.write(C.queue_desc, 4, 0x3000);
    cc.write(C.queue_device + 4, 4, 0x1);
    cc.write(C.queue_device, 4, 0xfffff000);
    expect(cc.read(C.queue_desc, 4)).toBe(0x3000);
    expect(cc.read(C.queue_desc + 4, 4)).toBe(0x12);
    expect(cc.read(C.queue_driver, 4)).toBe(0x9000);
    expect(cc.read(C.queue_driver + 4, 4)).toBe(0);
    expect(cc.read(C.queue_device + 4, 4)).toBe(1);
    const q = r.pci.state.queue(0)!;
    expect(q.descTable).toBe(0x12_00003000);
    expect(q.deviceArea).toBe(0x1_fffff000);
    // A 64-bit field is not one 8-byte register: a 2-byte access in its middle does nothing.
    cc.write(C.queue_desc + 2, 2, 0xffff);
    expect(q.descTable).toBe(0x12_00003000);
  });

  it('read-only fields ignore writes, and queue_notify_off and queue_notif_config_data name the queue', () => {
    const r = rig({ echo: { queues: 3 } });
    const cc = commonCfg(r.pci);
    const before = r.pci.counters.ignoredWrites;
    cc.write(C.num_queues, 2, 9);
    cc.write(C.device_feature, 4, 0);
    cc.write(C.config_generation, 1, 5);
    cc.write(C.queue_notify_off, 2, 7);
    cc.write(C.queue_notif_config_data, 2, 7);
    cc.write(C.admin_queue_index, 2, 0);
    expect(r.pci.counters.ignoredWrites - before).toBe(6);
    expect(cc.read(C.num_queues, 2)).toBe(3);
    cc.write(C.queue_select, 2, 2);
    expect(cc.read(C.queue_notify_off, 2)).toBe(2);
    expect(cc.read(C.queue_notif_config_data, 2)).toBe(2);
  });
});
