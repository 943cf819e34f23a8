import { describe, expect, it } from 'vitest';
import { featureMask, VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1 } from '@virtio/core';
import { legacySplitLayout } from '@virtio/ring';
import {
  CCW_CMD_READ_CONF,
  CCW_CMD_READ_VQ_CONF,
  CCW_CMD_SET_VQ,
  CCW_CMD_WRITE_CONF,
  CCW_FLAG_SLI,
} from '../src/index.js';
import { ACK, DRIVER, DRIVER_OK, FEATURES_OK, OK, REJECT, bringUp, echo, fixture, vqInfo } from './fixture.js';
import { be16, be32, be64, le32 } from './guest.js';

describe('device status (spec 4.3.2.3)', () => {
  it('[ccw.dev.10] READ_STATUS returns the current device status', () => {
    const f = fixture();
    f.setRevision(2);
    expect(f.readStatus()).toBe(0);
    f.writeStatus(ACK);
    expect(f.readStatus()).toBe(ACK);
    f.writeStatus(ACK | DRIVER);
    expect(f.readStatus()).toBe(ACK | DRIVER);
    // A device-side change shows too: DEVICE_NEEDS_RESET set by the device.
    bringUpFrom(f);
    f.device.ctx!.needsReset(new Error('broken'));
    expect(f.readStatus()).toBe(ACK | DRIVER | FEATURES_OK | DRIVER_OK | 64);
  });

  it('[ccw.dev.9] a status the device does not take (FEATURES_OK refused) is a command reject, status unchanged', () => {
    const f = fixture();
    f.setRevision(2);
    f.writeStatus(ACK);
    f.writeStatus(ACK | DRIVER);
    // Without VIRTIO_F_VERSION_1 a non-transitional device refuses FEATURES_OK.
    expect(f.writeFeatures(1, 0)).toMatchObject(OK);
    expect(f.writeStatus(ACK | DRIVER | FEATURES_OK)).toMatchObject(REJECT);
    expect(f.readStatus()).toBe(ACK | DRIVER);
    // Accepting VERSION_1 makes it work.
    f.writeFeatures(1, 1);
    expect(f.writeStatus(ACK | DRIVER | FEATURES_OK)).toMatchObject(OK);
    expect(f.readStatus()).toBe(ACK | DRIVER | FEATURES_OK);
  });

  it('[ccw.dev.9] a write of several bits, one of them refused, changes nothing', () => {
    const f = fixture();
    f.setRevision(2);
    f.writeStatus(ACK);
    expect(f.writeFeatures(1, 0)).toMatchObject(OK);
    // DRIVER would be taken, FEATURES_OK is refused (no VIRTIO_F_VERSION_1): neither is set.
    expect(f.writeStatus(ACK | DRIVER | FEATURES_OK)).toMatchObject(REJECT);
    expect(f.readStatus()).toBe(ACK);
    // DRIVER_OK without FEATURES_OK: refused whole, DRIVER not set either.
    expect(f.writeStatus(ACK | DRIVER | DRIVER_OK)).toMatchObject(REJECT);
    expect(f.readStatus()).toBe(ACK);
  });

  it('WRITE_STATUS 0 resets the device', () => {
    const f = fixture();
    bringUp(f);
    expect(f.writeStatus(0)).toMatchObject(OK);
    expect(f.readStatus()).toBe(0);
    expect(f.device.resets).toBe(1);
  });
});

function bringUpFrom(f: ReturnType<typeof fixture>): void {
  f.writeFeatures(1, 1);
  f.writeStatus(ACK | DRIVER | FEATURES_OK);
  f.writeStatus(ACK | DRIVER | FEATURES_OK | DRIVER_OK);
}

describe('features (spec 4.3.2.4)', () => {
  it('READ_FEAT returns each 32-bit word of the offered features, little-endian', () => {
    const f = fixture({ device: { features: featureMask(VIRTIO_F_EVENT_IDX, 3) } });
    f.setRevision(1);
    expect(f.readFeatures(0)).toBe((1 << VIRTIO_F_EVENT_IDX) | (1 << 3));
    expect(f.readFeatures(1)).toBe(1); // VERSION_1
    expect(f.readFeatures(4)).toBe(0);
    expect(f.readFeatures(255)).toBe(0);
  });

  it('WRITE_FEAT stores the driver features word by word; out-of-range words are ignored', () => {
    const f = fixture({ device: { features: featureMask(VIRTIO_F_EVENT_IDX) } });
    f.setRevision(1);
    expect(f.writeFeatures(0, 1 << VIRTIO_F_EVENT_IDX)).toMatchObject(OK);
    expect(f.writeFeatures(1, 1)).toMatchObject(OK);
    expect(f.writeFeatures(200, 0xffff_ffff)).toMatchObject(OK);
    expect(f.transport.state.driverFeatures).toBe(featureMask(VIRTIO_F_EVENT_IDX, VIRTIO_F_VERSION_1));
  });

  it('virtio_feature_desc is exactly 5 bytes: a 4-byte count is incorrect length', () => {
    const f = fixture();
    f.setRevision(1);
    expect(f.cmd(0x11, le32(1))).toMatchObject({ status: 'incorrect-length' });
  });
});

describe('configuration space (spec 4.3.2.5)', () => {
  it('READ_CONF transfers the configuration space or a prefix of it; WRITE_CONF writes it', () => {
    const f = fixture();
    f.setRevision(1);
    expect(f.cmd(CCW_CMD_WRITE_CONF, [...le32(0), ...le32(0xdeadbeef)])).toMatchObject(OK);
    const all = f.cmd(CCW_CMD_READ_CONF, new Array(8).fill(0xaa));
    expect(all.status).toBe('ok');
    expect(f.guest.memory.readU32(all.addr + 4)).toBe(0xdeadbeef);
    // A prefix (Linux reads offset + length bytes): 6 bytes.
    const part = f.cmd(CCW_CMD_READ_CONF, new Array(6).fill(0xaa));
    expect(part.status).toBe('ok');
    expect(f.guest.bytes(part.addr, 6)).toEqual([0, 0, 0, 0, 0xef, 0xbe]);
    // Longer than the space: incorrect length without SLI, the whole space with SLI.
    expect(f.cmd(CCW_CMD_READ_CONF, new Array(12).fill(0))).toMatchObject({ status: 'incorrect-length' });
    const sli = f.cmd(CCW_CMD_READ_CONF, new Array(12).fill(0xaa), { flags: CCW_FLAG_SLI });
    expect(sli.status).toBe('ok');
    expect(f.guest.bytes(sli.addr + 8, 4)).toEqual([0xaa, 0xaa, 0xaa, 0xaa]);
  });
});

describe('virtqueue configuration (spec 4.3.2.2)', () => {
  it('READ_VQ_CONF returns max_queue_size, 0 for a queue the device does not have', () => {
    const f = fixture({ device: { queues: 2, queueMaxSize: 128 } });
    f.setRevision(1);
    const r = f.cmd(CCW_CMD_READ_VQ_CONF, [...be16(1), 0, 0]);
    expect(f.guest.bytes(r.addr, 4)).toEqual([...be16(1), ...be16(128)]);
    const none = f.cmd(CCW_CMD_READ_VQ_CONF, [...be16(2), 0, 0]);
    expect(f.guest.bytes(none.addr, 4)).toEqual([...be16(2), 0, 0]);
  });

  it('[ccw.dev.8] res0 of vq_info_block is ignored', () => {
    const f = fixture();
    f.setRevision(1);
    const info = { desc: 0x10000, driver: 0x11000, device: 0x12000, index: 0, size: 16, res0: 0xffff_ffff };
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo(info))).toMatchObject(OK);
    const q = f.transport.state.queue(0)!;
    expect([q.enabled, q.size, q.descTable, q.driverArea, q.deviceArea]).toEqual([true, 16, 0x10000, 0x11000, 0x12000]);
  });

  it('SET_VQ rejects a queue the device does not have, a size above the maximum, addresses beyond 2^53', () => {
    const f = fixture({ device: { queueMaxSize: 64 } });
    f.setRevision(1);
    const base = { desc: 0x10000, driver: 0x11000, device: 0x12000, index: 0, size: 16 };
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo({ ...base, index: 1 }))).toMatchObject(REJECT);
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo({ ...base, size: 128 }))).toMatchObject(REJECT);
    const huge = [...be64(0xffff_ffff_ffff_0000n), ...be32(0), ...be16(0), ...be16(16), ...be64(0x11000), ...be64(0x12000)];
    expect(f.cmd(CCW_CMD_SET_VQ, huge)).toMatchObject(REJECT);
    expect(f.transport.state.queue(0)!.enabled).toBe(false);
    // A zero descriptor address deactivates the queue.
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo(base))).toMatchObject(OK);
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo({ ...base, desc: 0 }))).toMatchObject(OK);
    expect(f.transport.state.queue(0)!.enabled).toBe(false);
  });

  it('revision 0 uses vq_info_block_legacy and the legacy layout', () => {
    const f = fixture({ transitional: true });
    f.setRevision(0);
    const legacy = (queue: number, align: number, size: number) => [...be64(queue), ...be32(align), ...be16(0), ...be16(size)];
    // The 32-byte modern block is the wrong length for revision 0.
    expect(f.cmd(CCW_CMD_SET_VQ, vqInfo({ desc: 0x10000, driver: 0, device: 0, index: 0, size: 16 }))).toMatchObject({
      status: 'incorrect-length',
    });
    expect(f.cmd(CCW_CMD_SET_VQ, legacy(0x10000, 4096, 12))).toMatchObject(REJECT); // not a power of two
    expect(f.cmd(CCW_CMD_SET_VQ, legacy(0x10000, 3000, 16))).toMatchObject(REJECT); // bad alignment
    expect(f.cmd(CCW_CMD_SET_VQ, legacy(0x10000, 4096, 16))).toMatchObject(OK);
    const q = f.transport.state.queue(0)!;
    const l = legacySplitLayout(16, 4096);
    expect([q.descTable, q.driverArea, q.deviceArea]).toEqual([0x10000, 0x10000 + l.availOffset, 0x10000 + l.usedOffset]);
  });
});

describe('data path', () => {
  it('moves data through the EchoDevice after bring-up', () => {
    const f = fixture();
    const queue = bringUp(f);
    const { inAddr } = echo(f, queue, [1, 2, 3, 4, 5]);
    expect(queue.reap()).toEqual({ token: 1, len: 5 });
    expect(f.guest.bytes(inAddr, 5)).toEqual([1, 2, 3, 4, 5]);
  });
});
