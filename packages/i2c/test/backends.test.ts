// The simulated bus, the EEPROM target and the address encoding.
import { describe, expect, it } from 'vitest';
import { decodeI2cAddress, encodeI2cAddress, I2cEeprom, SimulatedI2cBus, type I2cTarget } from '../src/index.js';

const msg = (address: number, read: boolean, buf: Uint8Array, tenBit = false) => ({ address, tenBit, read, buf });

describe('I2C addresses', () => {
  it('encodes and decodes both forms of the spec table', () => {
    expect(encodeI2cAddress(0x50)).toBe(0xa0);
    expect(encodeI2cAddress(0x3ff, true)).toBe(0xfff6);
    expect(encodeI2cAddress(0, true)).toBe(0x00f0);
    for (let a = 0; a < 0x78; a++) expect(decodeI2cAddress(encodeI2cAddress(a))).toEqual({ address: a, tenBit: false });
    for (let a = 0; a < 0x400; a++) expect(decodeI2cAddress(encodeI2cAddress(a, true))).toEqual({ address: a, tenBit: true });
    expect([decodeI2cAddress(0xa1), decodeI2cAddress(0x01a0), decodeI2cAddress(0x10000)]).toEqual([null, null, null]);
    expect(() => encodeI2cAddress(0x80)).toThrow(RangeError);
    expect(() => encodeI2cAddress(0x400, true)).toThrow(RangeError);
  });
});

describe('SimulatedI2cBus', () => {
  it('[i2c.dev.2] as on hardware: messages in order, an absent target does not acknowledge, a NACK ends the transfer, STOP to every addressed target', () => {
    const log: string[] = [];
    const target = (name: string, ack = true): I2cTarget => ({
      write: (d) => (log.push(`${name} w${d.length}`), ack),
      read: (d) => (d.fill(7), log.push(`${name} r${d.length}`), ack),
      stop: () => void log.push(`${name} stop`),
    });
    const bus = new SimulatedI2cBus().attach(0x10, target('a')).attach(0x11, target('nack', false)).attach(0x10, target('ten'), { tenBit: true });
    const buf = new Uint8Array(2);
    expect(bus.transfer([msg(0x10, false, Uint8Array.of(1)), msg(0x10, true, buf), msg(0x10, false, new Uint8Array(0), true)])).toBe(3);
    expect([...buf]).toEqual([7, 7]);
    expect(log.splice(0)).toEqual(['a w1', 'a r2', 'ten w0', 'a stop', 'ten stop']);
    expect(bus.transfer([msg(0x10, false, Uint8Array.of(1)), msg(0x11, false, Uint8Array.of(1)), msg(0x10, false, Uint8Array.of(1))])).toBe(1);
    expect(log.splice(0)).toEqual(['a w1', 'nack w1', 'a stop', 'nack stop']);
    expect(bus.transfer([msg(0x12, false, new Uint8Array(0))])).toBe(0);
    expect(() => bus.attach(0x10, target('dup'))).toThrow(RangeError);
    expect(() => bus.attach(0x80, target('big'))).toThrow(RangeError);
    expect(bus.detach(0x10)).toBe(true);
    expect(bus.transfer([msg(0x10, false, new Uint8Array(0))])).toBe(0);
  });
});

describe('I2cEeprom', () => {
  it('sets the word address with a write, stores data after it, reads from the address with auto-increment and wrap', () => {
    const e = new I2cEeprom({ size: 16, contents: Uint8Array.from({ length: 16 }, (_, i) => i) });
    expect(e.write(Uint8Array.of(14, 0xaa, 0xbb, 0xcc))).toBe(true);
    expect([e.contents[14], e.contents[15], e.contents[0]]).toEqual([0xaa, 0xbb, 0xcc]);
    e.write(Uint8Array.of(13));
    const out = new Uint8Array(5);
    e.read(out);
    expect([...out]).toEqual([13, 0xaa, 0xbb, 0xcc, 1]);
    expect(e.write(new Uint8Array(0))).toBe(true);
  });

  it('two-byte word addresses and page wrap', () => {
    const e = new I2cEeprom({ size: 4096, pageSize: 32 });
    expect(e.addressBytes).toBe(2);
    e.write(Uint8Array.of(0x01, 0x1e, 1, 2, 3, 4));
    expect([...e.contents.subarray(0x11e, 0x120)]).toEqual([1, 2]);
    expect([...e.contents.subarray(0x100, 0x102)]).toEqual([3, 4]);
    expect(e.write(Uint8Array.of(1))).toBe(false);
    expect(() => new I2cEeprom({ size: 0 })).toThrow(RangeError);
    expect(() => new I2cEeprom({ size: 64, pageSize: 3 })).toThrow(RangeError);
  });
});
