// Hostile drivers: requests with no room for the response get DEVICE_NEEDS_RESET, short or odd
// requests get -1, responses straddling buffers work, nothing throws out of the device.
import { featureMask, VIRTIO_F_RING_RESET } from '@virtio/core';
import { describe, expect, it } from 'vitest';
import { CallbackPmemBackend, VIRTIO_PMEM_REQ_TYPE_FLUSH } from '../src/index.js';
import { deferredFlush, MEM_SIZE, PMEM_START, rawDriver, settle } from './harness.js';

const REQ = 0x80000;
const RESP = 0x80100;

describe('pmem device against a hostile driver', () => {
  it('a request without 4 device-writable bytes sets DEVICE_NEEDS_RESET and the device stops', () => {
    const r = rawDriver();
    r.memory.writeU32(REQ, VIRTIO_PMEM_REQ_TYPE_FLUSH);
    expect(r.send([{ addr: REQ, len: 4 }], [{ addr: RESP, len: 3 }])).toEqual([]);
    expect(r.needsReset()).toBe(true);
    expect(r.send([{ addr: REQ, len: 4 }], [{ addr: RESP, len: 4 }])).toEqual([]);
    expect(r.backend.flushes).toBe(0);
  });

  it('a request shorter than struct virtio_pmem_req is answered -1 without flushing', () => {
    const r = rawDriver();
    expect(r.send([{ addr: REQ, len: 2 }], [{ addr: RESP, len: 4 }])).toEqual([4]);
    expect(r.send([], [{ addr: RESP + 8, len: 4 }])).toEqual([4]);
    expect(r.memory.readU32(RESP)).toBe(0xffffffff);
    expect(r.memory.readU32(RESP + 8)).toBe(0xffffffff);
    expect(r.backend.flushes).toBe(0);
    expect(r.needsReset()).toBe(false);
  });

  it('request and response split across buffers are read and written whole', () => {
    const r = rawDriver();
    r.memory.writeU16(REQ, 0);
    r.memory.writeU16(REQ + 0x40, 0);
    r.memory.writeU32(RESP, 0xaaaaaaaa);
    r.memory.writeU32(RESP + 0x40, 0xaaaaaaaa);
    expect(
      r.send(
        [
          { addr: REQ, len: 2 },
          { addr: REQ + 0x40, len: 2 },
        ],
        [
          { addr: RESP, len: 2 },
          { addr: RESP + 0x40, len: 2 },
        ],
      ),
    ).toEqual([4]);
    expect(r.memory.readU16(RESP)).toBe(0);
    expect(r.memory.readU16(RESP + 0x40)).toBe(0);
    expect(r.memory.readU16(RESP + 2)).toBe(0xaaaa);
    expect(r.backend.flushes).toBe(1);
  });

  it('random request shapes never throw out of the device nor write outside the response', () => {
    let seed = 99;
    const rnd = () => (seed = (seed * 1103515245 + 12345) >>> 0) / 2 ** 32;
    for (let round = 0; round < 30; round++) {
      const r = rawDriver();
      for (let i = 0; i < 20 && !r.needsReset(); i++) {
        const out = rnd() < 0.7 ? [{ addr: REQ + Math.floor(rnd() * 64), len: Math.floor(rnd() * 9) + 1 }] : [];
        const inSegs = rnd() < 0.9 ? [{ addr: RESP + Math.floor(rnd() * 64), len: Math.floor(rnd() * 9) + 1 }] : [];
        if (out.length + inSegs.length === 0) continue;
        r.memory.writeU32(REQ + Math.floor(rnd() * 64), Math.floor(rnd() * 3));
        expect(() => r.send(out, inSegs)).not.toThrow();
      }
      // Nothing was written near the end of memory.
      expect(r.memory.readU32(MEM_SIZE - 4)).toBe(0);
    }
  });
});

describe('pmem queue reset with a flush in flight', () => {
  it('completes once the flush settled and never answers the dropped request', async () => {
    const deferred = deferredFlush();
    const r = rawDriver({ start: PMEM_START }, (b) => new CallbackPmemBackend(b.length, deferred.flush), featureMask(VIRTIO_F_RING_RESET));
    r.memory.writeU32(REQ, VIRTIO_PMEM_REQ_TYPE_FLUSH);
    r.memory.writeU32(RESP, 0x12345678);
    expect(r.send([{ addr: REQ, len: 4 }], [{ addr: RESP, len: 4 }])).toEqual([]);
    r.transport.resetQueue(0);
    expect(r.transport.state.queue(0)?.resetting).toBe(true); // queue_reset reads 1 until the flush settled
    deferred.calls[0].resolve();
    await settle();
    expect(r.transport.queueEnabled(0)).toBe(false);
    expect(r.memory.readU32(RESP)).toBe(0x12345678);
    expect(r.needsReset()).toBe(false);
  });
});
