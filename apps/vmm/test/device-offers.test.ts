// The ring features each device offers under --ring and --features (what the e2e matrix's
// variants rely on: the guest only shows what it negotiated, not what was offered).
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { FileBackend } from '@virtio/blk/node';
import { featureMask, hasFeature, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER, VIRTIO_F_RING_PACKED, VIRTIO_ID_BLOCK } from '@virtio/core';
import { afterAll, describe, expect, it } from 'vitest';
import { createDevices } from '../src/virtio/devices.js';
import { combineEdits, parseConsole, parseDisk, parseFeatures, parseRing, parseRng } from '../src/virtio/options.js';

describe('device offers', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vmm-offers-'));
  afterAll(() => rmSync(dir, { recursive: true, force: true }));

  async function offers(features: string, ring: 'packed' | 'split') {
    const image = join(dir, `${features}-${ring}.img`);
    writeFileSync(image, new Uint8Array(1 << 20));
    const specs = {
      disks: [parseDisk(image, 'pci')],
      nets: [],
      console: parseConsole('ack', 'mmio'),
      rng: parseRng(true, 'pci'),
      features: combineEdits(parseRing(ring), parseFeatures(features)),
    };
    const disk = await FileBackend.open(image);
    const { devices } = createDevices(specs, { disks: [disk], taps: [] }, 1);
    await disk.close();
    return devices.map((d) => ({ id: d.device.deviceId, features: d.device.deviceFeatures }));
  }

  it('+in_order is offered by the console and rng but never by blk (it completes requests out of order)', async () => {
    const devices = await offers('+in_order', 'packed');
    expect(devices).toHaveLength(3);
    for (const d of devices) {
      expect(hasFeature(d.features, VIRTIO_F_IN_ORDER), `device ${d.id}`).toBe(d.id !== VIRTIO_ID_BLOCK);
      expect(hasFeature(d.features, VIRTIO_F_RING_PACKED), `device ${d.id}`).toBe(true);
    }
  });

  it('--ring split and -event_idx withhold RING_PACKED and EVENT_IDX on every device', async () => {
    for (const d of await offers('-event_idx', 'split')) {
      expect(d.features & featureMask(VIRTIO_F_RING_PACKED, VIRTIO_F_EVENT_IDX, VIRTIO_F_IN_ORDER), `device ${d.id}`).toBe(0n);
    }
  });
});
