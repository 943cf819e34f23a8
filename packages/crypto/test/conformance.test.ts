// Session operations and malformed requests from a hand-built driver, and the driver's own requirements.
import { describe, expect, it } from 'vitest';
import { VIRTIO_CONFIG_S_DEVICE_NEEDS_RESET as NEEDS_RESET } from '@virtio/core';
import { BumpAllocator, FlatGuestMemory } from '@virtio/ring';
import { LoopbackTransport } from '@virtio/core/testing';
import {
  CryptoConfigOffset,
  CryptoDevice,
  CryptoDriver,
  CryptoDriverError,
  VIRTIO_CRYPTO_CIPHER_AES_CBC,
  VIRTIO_CRYPTO_CIPHER_AES_CTR,
  VIRTIO_CRYPTO_CIPHER_ARC4,
  VIRTIO_CRYPTO_CIPHER_ENCRYPT,
  VIRTIO_CRYPTO_ERR,
  VIRTIO_CRYPTO_HASH,
  VIRTIO_CRYPTO_INVSESS,
  VIRTIO_CRYPTO_NOTSUPP,
  VIRTIO_CRYPTO_OK,
  VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING,
  WebCryptoCipherBackend,
} from '../src/index.js';
import { rig, settle } from './harness.js';
import { RESP, rawRig, REQ } from './raw.js';

describe('session operations (device)', () => {
  it('create session: OK with a unique session_id, NOTSUPP for an algorithm or op_type not offered, ERR for a bad op or key length', async () => {
    const t = rawRig();
    const ids = new Set<bigint>();
    for (let i = 0; i < 3; i++) {
      t.memory.write(RESP, new Uint8Array(16).fill(0xff));
      await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
      expect(t.memory.readU32(RESP + 8)).toBe(VIRTIO_CRYPTO_OK);
      ids.add(t.memory.readU64(RESP));
    }
    expect(ids.size).toBe(3);
    const status = async (seg: { addr: number; len: number }) => {
      t.memory.write(RESP, new Uint8Array(16).fill(0xff));
      await t.submit(1, [seg], [{ addr: RESP, len: 16 }]);
      return t.memory.readU32(RESP + 8);
    };
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_ARC4, 16))).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 16, 1, VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING))).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 16, 1, 1, 0x102))).toBe(VIRTIO_CRYPTO_NOTSUPP); // HASH create
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 16, 7))).toBe(VIRTIO_CRYPTO_ERR);
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 48))).toBe(VIRTIO_CRYPTO_ERR);
    expect(await status(t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 15))).toBe(VIRTIO_CRYPTO_NOTSUPP);
    // key_len beyond the readable part
    const seg = t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, 16);
    expect(await status({ addr: seg.addr, len: 72 + 8 })).toBe(VIRTIO_CRYPTO_ERR);
    expect(t.memory.readU64(RESP)).toBe(0n);
    expect(t.device.sessions).toBe(3);
  });

  it('sessions beyond maxSessions fail with ERR (no NOSPC without VIRTIO_CRYPTO_F_REVISION_1)', async () => {
    const t = rawRig({ maxSessions: 1 });
    await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
    expect(t.memory.readU32(RESP + 8)).toBe(VIRTIO_CRYPTO_OK);
    await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
    expect(t.memory.readU32(RESP + 8)).toBe(VIRTIO_CRYPTO_ERR);
  });
});

describe('data requests (device)', () => {
  it('[crypto.dev.4] status by opcode and op_type: NOTSUPP for other services and chaining, INVSESS for unknown sessions, ERR for framing beyond the buffers', async () => {
    const t = rawRig();
    await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
    const sid = t.memory.readU64(RESP);
    const st = async (out: { addr: number; len: number }[], inSegs: { addr: number; len: number }[]) => {
      await t.submit(0, out, inSegs);
      const last = inSegs[inSegs.length - 1];
      return t.memory.readU8(last.addr + last.len - 1);
    };
    const src = { addr: 0x8000, len: 32 };
    const dst = { addr: 0x9000, len: 16 };
    expect(await st([t.dataReq(VIRTIO_CRYPTO_HASH, sid, 16, 16, 16), src], [dst, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await st([t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 16, 16, VIRTIO_CRYPTO_SYM_OP_ALGORITHM_CHAINING), src], [dst, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_NOTSUPP);
    expect(await st([t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, 77n, 16, 16, 16), src], [dst, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_INVSESS);
    expect(await st([t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 64, 64), src], [{ addr: 0x9000, len: 64 }, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_ERR);
    expect(await st([t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 16, 32), src], [dst, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_ERR);
    expect(await st([t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 16, 16), src], [dst, { addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_OK);
    expect(await st([{ addr: REQ, len: 40 }], [{ addr: RESP, len: 1 }])).toBe(VIRTIO_CRYPTO_ERR);
    expect(t.state.status & NEEDS_RESET).toBe(0);
  });

  it('a request with nothing device-writable sets DEVICE_NEEDS_RESET and is returned unwritten', async () => {
    const t = rawRig();
    const used = await t.submit(0, [t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, 1n, 0, 0, 0)], []);
    expect(used?.len).toBe(0);
    expect(t.state.status & NEEDS_RESET).toBe(NEEDS_RESET);
  });

  it('requests over max_size are ERR', async () => {
    const t = rawRig({ maxSize: 40 });
    await t.submit(1, [t.createSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, 16)], [{ addr: RESP, len: 16 }]);
    const sid = t.memory.readU64(RESP);
    await t.submit(0, [t.dataReq(VIRTIO_CRYPTO_CIPHER_ENCRYPT, sid, 16, 16, 16), { addr: 0x8000, len: 32 }], [{ addr: 0x9000, len: 16 }, { addr: RESP, len: 1 }]);
    expect(t.memory.readU8(RESP)).toBe(VIRTIO_CRYPTO_ERR);
  });
});

describe('driver requirements', () => {
  it('[crypto.drv.1] transmits nothing while HW_READY is clear, and re-reads it', async () => {
    const memory = new FlatGuestMemory(new Uint8Array(4 << 20));
    const device = new CryptoDevice({ backend: new WebCryptoCipherBackend() });
    let ready = false;
    const gated = new Proxy(device, {
      get(target, prop) {
        if (prop === 'readConfig') return (o: number, w: 1 | 2 | 4) => (o === CryptoConfigOffset.status && !ready ? 0 : target.readConfig(o, w));
        const v = Reflect.get(target, prop, target);
        return typeof v === 'function' ? v.bind(target) : v;
      },
    });
    const transport = new LoopbackTransport(gated, { memory, transport: 'mmio' });
    const driver = new CryptoDriver(transport, { memory, allocator: new BumpAllocator(2 << 20, 2 << 20) });
    transport.onInterrupt = () => driver.handleInterrupt();
    expect(driver.config.hwReady).toBe(false);
    await expect(driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, new Uint8Array(16), 'encrypt')).rejects.toBeInstanceOf(CryptoDriverError);
    await settle();
    expect(device.sessions).toBe(0);
    ready = true;
    expect(driver.refreshStatus()).toBe(true);
    expect((await driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, new Uint8Array(16), 'encrypt')).status).toBe(VIRTIO_CRYPTO_OK);
  });

  it('[crypto.drv.1] keeps keys within max_cipher_key_len and requests within max_size; reads services and algorithms', async () => {
    const { driver, memory } = rig({ maxSize: 64 });
    expect(driver.config.cipherAlgos).toBe((1n << 3n) | (1n << 4n));
    expect(driver.config.maxSize).toBe(64);
    await expect(driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CBC, new Uint8Array(48), 'encrypt')).rejects.toThrow(RangeError);
    await expect(driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_ARC4, new Uint8Array(16), 'encrypt')).rejects.toThrow(RangeError);
    const s = await driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, new Uint8Array(16), 'encrypt');
    memory.write(0x8000, new Uint8Array(64));
    await expect(driver.cipher(s.sessionId, 'encrypt', new Uint8Array(16), [{ addr: 0x8000, len: 32 }], [{ addr: 0x9000, len: 32 }])).rejects.toThrow(RangeError);
    expect(await driver.cipher(s.sessionId, 'encrypt', new Uint8Array(16), [{ addr: 0x8000, len: 16 }], [{ addr: 0x9000, len: 16 }])).toBe(VIRTIO_CRYPTO_OK);
  });

  it('[crypto.drv.2] configures every virtqueue: all data queues and the controlq', () => {
    const { driver, device } = rig({ dataQueues: 3 });
    expect(driver.numQueues).toBe(3);
    expect(driver.device.queues.filter((q) => q !== undefined).length).toBe(device.numQueues);
  });

  it('[crypto.drv.5] uses only session ids the device assigned', async () => {
    const { driver } = rig();
    await expect(driver.cipher(5n, 'encrypt', new Uint8Array(16), [{ addr: 0x8000, len: 16 }], [{ addr: 0x9000, len: 16 }])).rejects.toThrow(/not created/);
    await expect(driver.destroySession(5n)).rejects.toThrow(/not created/);
    const s = await driver.createCipherSession(VIRTIO_CRYPTO_CIPHER_AES_CTR, new Uint8Array(16), 'encrypt');
    expect(await driver.destroySession(s.sessionId)).toBe(VIRTIO_CRYPTO_OK);
    await expect(driver.cipher(s.sessionId, 'encrypt', new Uint8Array(16), [{ addr: 0x8000, len: 16 }], [{ addr: 0x9000, len: 16 }])).rejects.toThrow(/not created/);
  });
});
