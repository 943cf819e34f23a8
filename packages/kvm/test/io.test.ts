// Port I/O and MMIO exits of real-mode guests, completed from JS.
import { afterEach, expect, it } from 'vitest';
import { ExitReason } from '../src/index.js';
import { asm, describeKvm, realModeGuest, REPORT_PORT, type Guest } from './helpers/guest.js';

let guest: Guest | null = null;
afterEach(() => {
  guest?.close();
  guest = null;
});

describeKvm('port I/O and MMIO exits', () => {
  it('decodes an `out` to port 0x3f8 with its data, then stops at hlt', () => {
    guest = realModeGuest([...asm.movDx(0x3f8), ...asm.movAl(0x68), ...asm.outDxAl, ...asm.movAl(0x69), ...asm.outDxAl, ...asm.hlt]);
    const seen: string[] = [];
    let exit = guest.vcpu.run();
    while (exit.kind === 'io') {
      expect(exit.reason).toBe(ExitReason.IO);
      expect(exit.io).toMatchObject({ port: 0x3f8, size: 1, isOut: true, count: 1 });
      expect(exit.io.data.byteLength).toBe(1);
      seen.push(String.fromCharCode(exit.io.data[0]));
      exit = guest.vcpu.run();
    }
    expect(seen.join('')).toBe('hi');
    expect(exit.kind).toBe('hlt');
    expect(exit.reason).toBe(ExitReason.HLT);
  });

  it('completes an 8-bit `in` with the value the guest then reports', () => {
    guest = realModeGuest([...asm.inAlImm(0x60), ...asm.outImmAl(REPORT_PORT), ...asm.hlt]);
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('io');
    expect(exit.io).toMatchObject({ port: 0x60, size: 1, isOut: false, count: 1 });
    exit.io.complete(0x33);
    guest.vcpu.run();
    expect(exit.io).toMatchObject({ port: REPORT_PORT, isOut: true });
    expect(exit.io.value).toBe(0x33);
  });

  it('completes a 16-bit `in ax, dx` and reads a 16-bit `out dx, ax`', () => {
    guest = realModeGuest([...asm.movDx(0x61), ...asm.inDxAx, ...asm.outDxAx, ...asm.hlt]);
    const exit = guest.vcpu.run();
    expect(exit.io).toMatchObject({ port: 0x61, size: 2, isOut: false });
    exit.io.complete(0xabcd);
    guest.vcpu.run();
    expect(exit.io).toMatchObject({ port: 0x61, size: 2, isOut: true });
    expect(exit.io.value).toBe(0xabcd);
    expect([...exit.io.data]).toEqual([0xcd, 0xab]);
  });

  it('gives string I/O (`rep outsb`) all its bytes', () => {
    // mov si, 0x2000; mov cx, 3; mov dx, 0x3f8; rep outsb; hlt
    guest = realModeGuest([0xbe, 0x00, 0x20, 0xb9, 0x03, 0x00, ...asm.movDx(0x3f8), 0xf3, 0x6e, ...asm.hlt]);
    guest.ram.bytes().set([0x61, 0x62, 0x63], 0x2000);
    let text = '';
    let exit = guest.vcpu.run();
    while (exit.kind === 'io') {
      expect(exit.io.data.byteLength).toBe(exit.io.count * exit.io.size);
      text += String.fromCharCode(...exit.io.data);
      exit = guest.vcpu.run();
    }
    expect(text).toBe('abc');
    expect(exit.kind).toBe('hlt');
  });

  it('decodes an MMIO write to an unbacked address', () => {
    // ds = 0xd000 (guest-physical 0xd0000: no memory slot); mov word [8], 0xbeef
    guest = realModeGuest([...asm.movAx(0xd000), ...asm.movDsAx, ...asm.movWordMem(8, 0xbeef), ...asm.hlt]);
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('mmio');
    expect(exit.reason).toBe(ExitReason.MMIO);
    expect(exit.mmio).toMatchObject({ physAddr: 0xd0008, len: 2, isWrite: true });
    expect(exit.mmio.value).toBe(0xbeef);
    expect(guest.vcpu.run().kind).toBe('hlt');
  });

  it('completes an MMIO read with the value the guest then reports', () => {
    guest = realModeGuest([...asm.movAx(0xd000), ...asm.movDsAx, ...asm.movAlMem(4), ...asm.outImmAl(REPORT_PORT), ...asm.hlt]);
    const exit = guest.vcpu.run();
    expect(exit.kind).toBe('mmio');
    expect(exit.mmio).toMatchObject({ physAddr: 0xd0004, len: 1, isWrite: false });
    exit.mmio.complete(0x5a);
    expect(guest.vcpu.run().kind).toBe('io');
    expect(exit.io.value).toBe(0x5a);
  });

  it('returns the same exit object from every run (no per-exit allocation of the decoding)', () => {
    guest = realModeGuest([...asm.outImmAl(1), ...asm.outImmAl(2), ...asm.hlt]);
    const first = guest.vcpu.run();
    const data = first.io.data;
    const second = guest.vcpu.run();
    expect(second).toBe(first);
    expect(second.io.data).toBe(data);
    expect(second.io.port).toBe(2);
  });
});
