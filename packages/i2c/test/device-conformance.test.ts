// Device conformance (spec 5.16.6), observed byte by byte through a hand-written driver.
import { describe, expect, it } from 'vitest';
import { DeviceInitError, featureMask, hasFeature, initializeDevice, VIRTIO_CONFIG_S_FEATURES_OK } from '@virtio/core';
import { LoopbackTransport } from '@virtio/core/testing';
import { FlatGuestMemory, FreeListAllocator } from '@virtio/ring';
import {
  encodeI2cAddress,
  I2cDevice,
  SimulatedI2cBus,
  VIRTIO_I2C_F_ZERO_LENGTH_REQUEST,
  VIRTIO_I2C_MSG_ERR,
  VIRTIO_I2C_MSG_OK,
  VIRTIO_I2C_REQUESTQ,
  type I2cMessage,
} from '../src/index.js';
import { rawRig, settle, testBus } from './harness.js';

const OK = VIRTIO_I2C_MSG_OK;
const ERR = VIRTIO_I2C_MSG_ERR;
const FAIL_NEXT = 1;
const M_RD = 2;
const EEPROM = encodeI2cAddress(0x50);
const ABSENT = encodeI2cAddress(0x33);

describe('I2C device features', () => {
  it('[i2c.dev.1] offers VIRTIO_I2C_F_ZERO_LENGTH_REQUEST and refuses FEATURES_OK without it', () => {
    const device = new I2cDevice({ bus: new SimulatedI2cBus() });
    expect(hasFeature(device.deviceFeatures, VIRTIO_I2C_F_ZERO_LENGTH_REQUEST)).toBe(true);
    const memory = new FlatGuestMemory(new Uint8Array(0x100000));
    const transport = new LoopbackTransport(device, { memory, transport: 'mmio' });
    const init = () =>
      initializeDevice(transport, { memory, allocator: new FreeListAllocator(0x1000, 0xf0000), wantedFeatures: 0n, queues: [{ index: VIRTIO_I2C_REQUESTQ }] });
    expect(init).toThrow(DeviceInitError);
    expect(transport.getStatus() & VIRTIO_CONFIG_S_FEATURES_OK).toBe(0);
    expect(device.validateFeatures(featureMask(VIRTIO_I2C_F_ZERO_LENGTH_REQUEST))).toBe(true);
  });
});

describe('I2C requestq (device)', () => {
  it('[i2c.dev.3] never changes addr or the reserved bits of flags, also for a request it fails', () => {
    const t = rawRig();
    const headers = [t.hdr(EEPROM, M_RD), t.hdr(EEPROM, 0x80000000 | M_RD), t.hdr(EEPROM | 1, 0), t.hdr(ABSENT, 0xfc)];
    const before = headers.map(t.bytes);
    const statuses = headers.map((h, i) => {
      const s = t.room(1);
      if (i === 0) t.add([h], [t.room(4), s], `r${i}`);
      else t.add([h], [s], `r${i}`);
      return s;
    });
    t.kick();
    expect(t.used().map((u) => u.token)).toEqual(['r0', 'r1', 'r2', 'r3']);
    expect(statuses.map((s) => t.bytes(s)[0])).toEqual([OK, ERR, ERR, ERR]);
    expect(headers.map(t.bytes)).toEqual(before);
  });

  it('[i2c.dev.4] never changes buf of a write request', () => {
    const t = rawRig();
    const data = [0x10, 1, 2, 3, 4];
    const ok = t.put(data);
    const failed = t.put(data);
    const s1 = t.room(1);
    const s2 = t.room(1);
    t.add([t.hdr(EEPROM, 0), ok], [s1], 'ok');
    t.add([t.hdr(ABSENT, 0), failed], [s2], 'nack');
    t.kick();
    expect(t.used()).toEqual([{ token: 'ok', len: 1 }, { token: 'nack', len: 1 }]);
    expect([t.bytes(s1)[0], t.bytes(s2)[0]]).toEqual([OK, ERR]);
    expect([t.bytes(ok), t.bytes(failed)]).toEqual([data, data]);
    expect([...t.small.contents.subarray(0x10, 0x14)]).toEqual([1, 2, 3, 4]);
  });

  it('[i2c.dev.5] places exactly "length of buf" bytes for a read, across buffers, before the status', () => {
    const t = rawRig();
    const a = t.room(3);
    const b = t.room(2);
    const status = t.room(1);
    const other = t.room(4); // memory outside the chain stays untouched
    t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0x20])], [t.room(1)], 'set address');
    t.add([t.hdr(EEPROM, M_RD)], [a, b, status], 'read');
    t.kick();
    const used = t.used();
    expect(used.at(-1)).toEqual({ token: 'read', len: 6 });
    expect([...t.bytes(a), ...t.bytes(b)]).toEqual([0x20, 0x21, 0x22, 0x23, 0x24]);
    expect(t.bytes(status)).toEqual([OK]);
    expect(t.bytes(other)).toEqual([0xee, 0xee, 0xee, 0xee]);
  });

  it('[i2c.dev.6] processes the requests in order, one transfer after the other, with an asynchronous backend', async () => {
    const calls: string[] = [];
    const tb = testBus();
    let inFlight = 0;
    const bus = {
      transfer: async (messages: readonly I2cMessage[]) => {
        expect(inFlight).toBe(0);
        inFlight++;
        calls.push(messages.map((m) => (m.read ? `r${m.buf.length}` : `w${[...m.buf].join('.')}`)).join(' '));
        // Later transfers finish sooner, were they run concurrently.
        await new Promise((r) => setTimeout(r, 8 - calls.length));
        inFlight--;
        return tb.bus.transfer(messages);
      },
    };
    const t = rawRig({ bus });
    const statuses: ReturnType<typeof t.room>[] = [];
    const reads: ReturnType<typeof t.room>[] = [];
    for (let i = 0; i < 6; i++) {
      const s1 = t.room(1);
      const buf = t.room(1);
      const s2 = t.room(1);
      t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0x40 + i, 0xa0 + i])], [s1], `w${i}`);
      t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0x40 + i])], [t.room(1)], `a${i}`);
      t.add([t.hdr(EEPROM, M_RD)], [buf, s2], `r${i}`);
      statuses.push(s1, s2);
      reads.push(buf);
    }
    t.kick();
    // Wait (bounded) until the last status is written.
    for (let i = 0; i < 400 && t.bytes(statuses[11])[0] === 0xee; i++) await new Promise((r) => setTimeout(r, 5));
    expect(calls).toEqual([0, 1, 2, 3, 4, 5].map((i) => `w${0x40 + i}.${0xa0 + i} w${0x40 + i} r1`));
    expect(t.used().map((u) => u.token)).toEqual([0, 1, 2, 3, 4, 5].flatMap((i) => [`w${i}`, `a${i}`, `r${i}`]));
    // Each read saw the write of its own transfer, so none ran before the one queued ahead of it.
    expect(reads.map((r) => t.bytes(r)[0])).toEqual([0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5]);
    expect(statuses.every((s) => t.bytes(s)[0] === OK)).toBe(true);
  });

  it('[i2c.dev.7] the first failed request of a group gets ERR, and the rest of the group with it', () => {
    const t = rawRig();
    const s = [t.room(1), t.room(1), t.room(1), t.room(1)];
    t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0])], [s[0]], 'ok');
    t.add([t.hdr(ABSENT, FAIL_NEXT | M_RD)], [t.room(2), s[1]], 'nack');
    t.add([t.hdr(EEPROM, M_RD)], [t.room(2), s[2]], 'after');
    t.add([t.hdr(EEPROM, M_RD)], [t.room(2), s[3]], 'next group');
    t.kick();
    expect(t.used().map((u) => u.token)).toEqual(['ok', 'nack', 'after', 'next group']);
    expect(s.map((x) => t.bytes(x)[0])).toEqual([OK, ERR, ERR, OK]);
    expect(t.device.stats).toEqual({ transfers: 2, ok: 2, failed: 2 });
  });

  it('zero-length requests (VIRTIO_I2C_F_ZERO_LENGTH_REQUEST): out_hdr and in_hdr only, acknowledged or not', () => {
    const t = rawRig();
    const present = t.room(1);
    const absent = t.room(1);
    const tenBit = t.room(1);
    t.add([t.hdr(EEPROM, 0)], [present], 'present');
    t.add([t.hdr(ABSENT, M_RD)], [absent], 'absent');
    t.add([t.hdr(encodeI2cAddress(0x2a5, true), 0)], [tenBit], '10-bit');
    t.kick();
    expect(t.used()).toEqual([{ token: 'present', len: 1 }, { token: 'absent', len: 1 }, { token: '10-bit', len: 1 }]);
    expect([t.bytes(present), t.bytes(absent), t.bytes(tenBit)]).toEqual([[OK], [ERR], [OK]]);
  });

  it('holds a group until its last request arrives, across notifications', async () => {
    const t = rawRig();
    t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0x80, 0x55])], [t.room(1)], 'first');
    t.kick();
    expect(t.used()).toEqual([]);
    expect(t.small.contents[0x80]).toBe(0x80);
    t.add([t.hdr(EEPROM, 0), t.put([0x81, 0x66])], [t.room(1)], 'last');
    t.kick();
    expect(t.used().map((u) => u.token)).toEqual(['first', 'last']);
    expect([...t.small.contents.subarray(0x80, 0x82)]).toEqual([0x55, 0x66]);
    await settle();
  });
});
