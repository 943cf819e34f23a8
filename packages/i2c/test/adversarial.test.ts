// A hostile driver: malformed requests, unfinished groups, random chains; a failing backend.
import { describe, expect, it } from 'vitest';
import fc from 'fast-check';
import { encodeI2cAddress, VIRTIO_I2C_MSG_ERR, VIRTIO_I2C_MSG_OK, type I2cMessage } from '../src/index.js';
import { rawRig, SCRATCH, VARIANTS } from './harness.js';

const OK = VIRTIO_I2C_MSG_OK;
const ERR = VIRTIO_I2C_MSG_ERR;
const FAIL_NEXT = 1;
const M_RD = 2;
const EEPROM = encodeI2cAddress(0x50);

describe('adversarial I2C requests (device)', () => {
  it('malformed requests fail with ERR and so does their group, which never reaches the bus', () => {
    const t = rawRig();
    const before = t.small.contents.slice();
    const cases: [string, () => void][] = [
      ['short header', () => t.add([t.put([0xa0, 0, 0, 0])], [t.room(1)], 'short header')],
      ['addr bit 0', () => t.add([t.hdr(EEPROM | 1, 0), t.put([0, 1])], [t.room(1)], 'addr bit 0')],
      ['7-bit form with high bits', () => t.add([t.hdr(0x0100 | EEPROM, 0), t.put([0, 1])], [t.room(1)], '7-bit form with high bits')],
      ['reserved flags', () => t.add([t.hdr(EEPROM, 4), t.put([0, 1])], [t.room(1)], 'reserved flags')],
      ['write with writable buf', () => t.add([t.hdr(EEPROM, 0), t.put([0, 1])], [t.room(2), t.room(1)], 'write with writable buf')],
      ['read with readable buf', () => t.add([t.hdr(EEPROM, M_RD), t.put([0, 1])], [t.room(2), t.room(1)], 'read with readable buf')],
    ];
    for (const [name, add] of cases) {
      // A good write first in the same group: it must not run either.
      t.add([t.hdr(EEPROM, FAIL_NEXT), t.put([0x00, 0x99])], [t.room(1)], `${name}: lead`);
      add();
    }
    t.kick();
    const used = t.used();
    expect(used.map((u) => u.token)).toEqual(cases.flatMap(([n]) => [`${n}: lead`, n]));
    expect(t.device.stats).toEqual({ transfers: 0, ok: 0, failed: 12 });
    expect(t.small.contents).toEqual(before);
    expect(t.needsReset()).toBe(false);
  });

  it('a segment longer than maxSegmentLength fails', () => {
    const t = rawRig();
    const s = t.room(1);
    t.add([t.hdr(EEPROM, M_RD)], [{ addr: 0x80000, len: 0x10000 }, s], 'huge');
    t.kick();
    expect(t.used()).toEqual([{ token: 'huge', len: 0x10001 }]);
    expect(t.bytes(s)).toEqual([ERR]);
  });

  it('a chain without a device-writable byte sets DEVICE_NEEDS_RESET; later requests are ignored', () => {
    const t = rawRig();
    t.add([t.hdr(EEPROM, 0), t.put([0, 1])], [], 'no status');
    t.kick();
    expect(t.needsReset()).toBe(true);
    t.add([t.hdr(EEPROM, 0), t.put([0, 1])], [t.room(1)], 'later');
    t.kick();
    expect(t.used()).toEqual([]);
    expect(t.small.contents[0]).toBe(0);
  });

  it('a backend that throws, rejects or reports nonsense fails the group; the device goes on', async () => {
    const answers: (() => number | Promise<number>)[] = [
      () => {
        throw new Error('bus error');
      },
      () => Promise.reject(new Error('async bus error')),
      () => Number.NaN,
      () => 99,
      () => -3,
    ];
    const bus = { transfer: (_m: readonly I2cMessage[]) => (answers.shift() as () => number)() };
    const t = rawRig({ bus });
    const statuses = [0, 1, 2, 3, 4].map((i) => {
      const s = t.room(1);
      t.add([t.hdr(EEPROM, 0), t.put([i])], [s], `t${i}`);
      return s;
    });
    t.kick();
    await new Promise((r) => setTimeout(r, 0));
    expect(t.used().map((u) => u.token)).toEqual(['t0', 't1', 't2', 't3', 't4']);
    expect(statuses.map((s) => t.bytes(s)[0])).toEqual([ERR, ERR, ERR, OK, ERR]);
    expect(t.needsReset()).toBe(false);
  });

  it('a reset while an asynchronous transfer runs drops its result without touching guest memory', async () => {
    let finish: ((n: number) => void) | undefined;
    const bus = {
      transfer: (m: readonly I2cMessage[]) =>
        new Promise<number>((r) => {
          m[0].buf.fill(0x77);
          finish = r;
        }),
    };
    const t = rawRig({ bus });
    const buf = t.room(4);
    const s = t.room(1);
    t.add([t.hdr(EEPROM, M_RD)], [buf, s], 'read');
    t.kick();
    t.dd.reset();
    finish?.(1);
    await new Promise((r) => setTimeout(r, 0));
    expect([...t.bytes(buf), ...t.bytes(s)]).toEqual([0xee, 0xee, 0xee, 0xee, 0xee]);
  });

  it.each(VARIANTS)('random chains never throw out of the device nor write outside device-writable buffers ($name)', ({ features }) => {
    const seg = fc.record({ off: fc.integer({ min: 0, max: 0x3ff0 }), len: fc.integer({ min: 0, max: 20 }) });
    const chain = fc.record({ out: fc.array(seg, { maxLength: 3 }), in: fc.array(seg, { maxLength: 3 }) });
    fc.assert(
      fc.property(fc.array(chain, { minLength: 1, maxLength: 16 }), fc.uint8Array({ minLength: 0x4000, maxLength: 0x4000 }), (chains, data) => {
        const t = rawRig({ features });
        // Make plausible headers likely: addresses of the bus's targets, defined flags.
        for (let i = 0; i + 8 <= data.length; i += 64) data.set([0xa0, 0, 0, 0, data[i + 4] & 3, 0, 0, 0], i);
        t.memory.write(SCRATCH, data);
        for (const c of chains) {
          const out = c.out.map((s) => ({ addr: SCRATCH + (s.off & ~63), len: s.len }));
          const inSegs = c.in.map((s) => ({ addr: SCRATCH + 0x8000 + s.off, len: s.len }));
          if (out.length + inSegs.length === 0) continue;
          t.add(out, inSegs, 'x');
          t.kick();
        }
        const after = new Uint8Array(0x4000);
        t.memory.read(SCRATCH, after);
        expect(after).toEqual(data);
      }),
      { numRuns: 60 },
    );
  });
});
