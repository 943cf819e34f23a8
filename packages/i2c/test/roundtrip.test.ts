// Our I2cDriver against our I2cDevice and a simulated bus, over every ring layout.
import { describe, expect, it } from 'vitest';
import { I2cDriverError } from '../src/index.js';
import { rig, settle, VARIANTS } from './harness.js';

const done = async <T>(p: Promise<T>): Promise<T> => {
  for (let i = 0; i < 4; i++) await settle();
  return p;
};

describe.each(VARIANTS)('I2C round trip over $name', ({ features }) => {
  it('writes and reads an EEPROM (register write then read in one transaction)', async () => {
    const t = rig({ features });
    expect([...(await done(t.driver.writeRead(0x50, Uint8Array.of(0x40), 4)))]).toEqual([0x40, 0x41, 0x42, 0x43]);
    await done(t.driver.write(0x50, Uint8Array.of(0x40, 9, 8, 7)));
    expect([...t.small.contents.subarray(0x40, 0x43)]).toEqual([9, 8, 7]);
    expect([...(await done(t.driver.read(0x50, 2)))]).toEqual([0x43, 0x44]);
    await done(t.driver.write(0x2a5, Uint8Array.of(0x0f, 0xff, 1, 2), { tenBit: true }));
    expect([...t.big.contents.subarray(0xfff, 0x1000)]).toEqual([1]);
    expect(t.big.contents[0]).toBe(2);
  });

  it('probes addresses and reports a NACK as a rejected call', async () => {
    const t = rig({ features });
    expect(await done(t.driver.probe(0x50))).toBe(true);
    expect(await done(t.driver.probe(0x2a5, { tenBit: true }))).toBe(true);
    expect(await done(t.driver.probe(0x51))).toBe(false);
    const [r] = await Promise.allSettled([t.driver.read(0x51, 1), done(Promise.resolve())]);
    expect(r.status === 'rejected' && r.reason).toBeInstanceOf(I2cDriverError);
  });

  it('many concurrent transfers with a small queue all complete, in order', async () => {
    const t = rig({ features, driver: { queueSize: 16 } });
    const writes = Array.from({ length: 40 }, (_, i) => t.driver.write(0x50, Uint8Array.of(i, 255 - i)));
    await done(Promise.all(writes));
    expect([...t.small.contents.subarray(0, 40)]).toEqual(Array.from({ length: 40 }, (_, i) => 255 - i));
    expect(t.driver.pending).toBe(0);
  });

  it('refuses a transfer larger than the queue and rejects pending transfers on reset', async () => {
    const t = rig({ features, driver: { queueSize: 8 } });
    expect(() => t.driver.transfer(new Array(3).fill({ addr: 0x50, read: 1 }))).toThrow(RangeError);
    expect(() => t.driver.transfer([])).toThrow(RangeError);
    const p = t.driver.read(0x50, 1);
    t.driver.reset();
    await expect(p).rejects.toThrow(I2cDriverError);
  });
});
