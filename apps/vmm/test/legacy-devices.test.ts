import { describe, expect, it } from 'vitest';
import { AcpiSleep } from '../src/devices/acpi-sleep.js';
import { Cmos, RTC } from '../src/devices/cmos.js';
import { DebugPort } from '../src/devices/debug-port.js';
import { I8042 } from '../src/devices/i8042.js';

const at = new Date(Date.UTC(2026, 10, 22, 15, 4, 59)); // Sunday 2026-11-22 15:04:59 UTC

function read(c: Cmos, reg: number): number {
  c.write(0, 1, reg);
  return c.read(1, 1);
}

describe('CMOS RTC', () => {
  it('reads the host time in BCD, 24-hour mode by default', () => {
    const c = new Cmos(() => at);
    expect([RTC.SECONDS, RTC.MINUTES, RTC.HOURS, RTC.WEEKDAY, RTC.DAY, RTC.MONTH, RTC.YEAR, RTC.CENTURY].map((r) => read(c, r))).toEqual([0x59, 0x04, 0x15, 0x01, 0x22, 0x11, 0x26, 0x20]);
  });

  it('switches to binary and 12-hour mode through register B', () => {
    const c = new Cmos(() => at);
    c.write(0, 1, RTC.B);
    c.write(1, 1, 0x04);
    expect([read(c, RTC.SECONDS), read(c, RTC.HOURS), read(c, RTC.YEAR)]).toEqual([59, 0x80 | 3, 26]);
    c.write(0, 1, RTC.B);
    c.write(1, 1, 0x00);
    expect(read(c, RTC.HOURS)).toBe(0x83);
  });

  it('never reports an update in progress and reports valid RAM in D', () => {
    const c = new Cmos(() => at);
    c.write(0, 1, RTC.A);
    c.write(1, 1, 0xff);
    expect(read(c, RTC.A) & 0x80).toBe(0);
    expect(read(c, RTC.D)).toBe(0x80);
  });

  it('masks the NMI bit off the index and keeps general CMOS bytes', () => {
    const c = new Cmos(() => at);
    c.write(0, 1, 0x80 | 0x40);
    c.write(1, 1, 0xab);
    expect(read(c, 0x40)).toBe(0xab);
    c.write(0, 1, RTC.SECONDS);
    c.write(1, 1, 0x00);
    expect(read(c, RTC.SECONDS)).toBe(0x59);
  });
});

describe('i8042, debug port, ACPI sleep', () => {
  it('resets on command 0xFE to port 0x64 only', () => {
    let resets = 0;
    const k = new I8042(() => resets++);
    k.write(0, 1, 0xfe);
    k.write(4, 1, 0xd1);
    expect(resets).toBe(0);
    expect(k.read(4, 1)).toBe(0);
    k.write(4, 1, 0xfe);
    expect(resets).toBe(1);
  });

  it('remembers the last POST code', () => {
    const p = new DebugPort();
    p.write(0, 1, 0x1234);
    expect(p.read(0, 1)).toBe(0x34);
  });

  it('resets when the reset value is written to RESET_REG', () => {
    let resets = 0;
    const s = new AcpiSleep(() => undefined, () => resets++);
    s.write(2, 1, 2);
    s.write(0, 1, 1);
    expect(resets).toBe(0);
    s.write(2, 1, 1);
    expect(resets).toBe(1);
  });

  it('powers off on SLP_EN with SLP_TYP 5 only', () => {
    let off = 0;
    const s = new AcpiSleep(() => off++, () => undefined);
    s.write(0, 1, 5 << 2);
    s.write(0, 1, 0x20 | (3 << 2));
    s.write(1, 1, 0x20 | (5 << 2));
    expect(off).toBe(0);
    s.write(0, 1, 0x20 | (5 << 2));
    expect(off).toBe(1);
  });
});
